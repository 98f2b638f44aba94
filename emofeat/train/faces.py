"""How every model takes the store's faces: uint8 crops (floating-point crops are taken as
already in [0, 1]) scaled to [0, 1], then standardised per RGB channel with the ImageNet
statistics, the usual input of ImageNet-style CNNs trained from scratch or not. The loader
ships uint8 (a quarter of float32's bytes); the conversion runs on the model's device."""

from __future__ import annotations

import torch
from torch import nn

FACE_MEAN = (0.485, 0.456, 0.406)
FACE_STD = (0.229, 0.224, 0.225)


class FaceNorm(nn.Module):
    """``(..., 3, H, W)`` faces to standardised float32 (channels on axis -3)."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(FACE_MEAN).view(3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(FACE_STD).view(3, 1, 1), persistent=False)

    def forward(self, face: torch.Tensor) -> torch.Tensor:
        x = face.float() / 255 if face.dtype == torch.uint8 else face.float()
        return (x - self.mean) / self.std
