"""ResNet-18 and ResNet-34 (He et al., "Deep Residual Learning for Image Recognition", CVPR
2016) in plain torch: basic blocks, random initialisation, nothing downloaded.

torchvision does not install beside the CPU build of torch this project pins, and the papers
train these backbones from scratch or adapt their first layer (one-channel MFCC images,
112 px faces), so the few layers they need live here.
"""

from __future__ import annotations

import torch
from torch import nn


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and an identity (or 1x1 projection) shortcut."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False), nn.BatchNorm2d(out_channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet(nn.Module):
    """A basic-block ResNet ending in global average pooling: ``(B, C, H, W) -> (B, 512)``
    (``features``), then a linear classifier when ``num_classes`` is given."""

    def __init__(
        self, layers: tuple[int, int, int, int], in_channels: int = 3, num_classes: int | None = None
    ):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, 1),
        )
        blocks: list[nn.Module] = []
        channels = 64
        for i, (count, width) in enumerate(zip(layers, (64, 128, 256, 512), strict=True)):
            for k in range(count):
                blocks.append(BasicBlock(channels, width, 2 if k == 0 and i > 0 else 1))
                channels = width
        self.blocks = nn.Sequential(*blocks)
        self.features = 512
        self.fc: nn.Module = nn.Linear(512, num_classes) if num_classes else nn.Identity()
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def feature_map(self, x: torch.Tensor) -> torch.Tensor:
        """The last stage's map, ``(B, 512, H / 32, W / 32)``."""
        return self.blocks(self.stem(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(self.feature_map(x), 1), 1))


def resnet18(in_channels: int = 3, num_classes: int | None = None) -> ResNet:
    return ResNet((2, 2, 2, 2), in_channels, num_classes)


def resnet34(in_channels: int = 3, num_classes: int | None = None) -> ResNet:
    return ResNet((3, 4, 6, 3), in_channels, num_classes)
