"""AlexAtt: an improved AlexNet with multimodal attention for continuous emotion recognition
(arousal and valence every 40 ms on RECOLA, the AVEC 2016 challenge data).

The architecture, as this module builds it:

* **Video.** An AlexNet variant applied to every step's face: three 3 x 3 convolutions
  (64, 128, 256 channels; the first with stride 2, as AlexNet shrinks early), each followed
  by ReLU, 2 x 2 max-pooling and batch norm, then AlexNet's two fully connected layers as
  1 x 1 convolutions (512 then 256 channels, ReLU, dropout after the first), so the output
  keeps its spatial layout: a feature map ``F`` of 256 channels on a 7 x 7 grid for 112 px
  faces. This is not torchvision's AlexNet (which does not install here).
* **Audio.** A unidirectional (causal) LSTM over the windowed low-level descriptors of the
  steps (``lld``, ``lld_dim`` = 176 values a step) gives ``h_t`` (``hidden`` = 128).
* **Attention fusion.** Over the grid positions ``i`` of step ``t``'s map,
  ``a_ti = softmax_i(w^T tanh(W F_i + W_g h_t))`` and ``c_t = sum_i a_ti F_i``; the gate
  ``beta_t = sigmoid(v^T [h_t; c_t] + b)`` is computed from both modalities, and
  ``fused_t = beta_t h_t + (1 - beta_t) P c_t`` (``P`` a linear projection of ``c_t`` to
  ``hidden``, since the widths differ). A linear layer and tanh give arousal and valence in
  [-1, 1]. The paper's auxiliary loss (written elsewhere) supervises ``beta_t`` toward the
  energy tag ``m_t`` and ``1 - n_t`` (``n_t``: a face was detected), so the model leans on
  audio when the face is missing and on the face when the speaker is silent.

Where the paper is silent, or we chose:

* the exact widths, strides and attention width (``attention`` = 128) above.
* the faces of masked steps (``step_mask`` False, past the clip's end) are not run through
  the CNN (their map is 0), so they cannot reach the batch-norm statistics in training;
  with the causal LSTM, a masked step therefore never changes another step's output.
  Outputs at masked steps are computed but meaningless: the losses mask them.
* steps without a face (an all-zero picture) go through the CNN like any other; ``beta``
  is what lets the model ignore them.
* ``lld`` is used as given (the dataset's statistics standardise it), NaN read as 0.
* faces: uint8 is divided by 255 (floating point faces are taken as in [0, 1]), then
  standardised with the ImageNet channel means and standard deviations.
* ablations (``fusion``): ``"audio"`` uses ``h_t`` alone (no CNN; ``beta`` = 1, a uniform
  ``attention``); ``"video"`` uses ``P c_t`` alone (no LSTM; the attention scores drop the
  ``W_g h_t`` term; ``beta`` = 0).

Outputs of :meth:`AlexAtt.forward`: ``arousal``, ``valence`` and ``beta`` (B, S),
``attention`` (B, S, h * w) and ``logits`` (B, S, 2: arousal, valence).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from emofeat.errors import ConfigError
from emofeat.train.faces import FaceNorm


@dataclass(frozen=True)
class AlexAttConfig:
    """AlexAtt's options.

    Attributes
    ----------
    lld_dim
        Values of ``batch["lld"]`` per step.
    hidden
        LSTM width (and of the fused representation).
    face_size
        Side of the faces (fixes the attention grid).
    dropout
        Dropout after the first 1 x 1 "fully connected" layer and before the output layer.
    fusion
        ``"attention"`` (the paper), or the ``"audio"`` / ``"video"`` ablations.
    channels
        Widths of the three 3 x 3 convolutions.
    fc_channels
        Widths of the two convolutional "fully connected" layers (the last is ``F``'s).
    attention
        Width of the attention's hidden layer.
    audio_layers
        Stacked LSTM layers.
    """

    lld_dim: int = 176
    hidden: int = 128
    face_size: int = 112
    dropout: float = 0.5
    fusion: Literal["attention", "audio", "video"] = "attention"
    channels: tuple[int, int, int] = (64, 128, 256)
    fc_channels: tuple[int, int] = (512, 256)
    attention: int = 128
    audio_layers: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "fc_channels", tuple(self.fc_channels))
        if self.fusion not in ("attention", "audio", "video"):
            raise ConfigError(f"AlexAtt's fusion must be attention, audio or video, not {self.fusion!r}")
        if len(self.channels) != 3 or len(self.fc_channels) != 2:
            raise ConfigError("AlexAtt needs three conv widths and two fully connected widths")
        sizes = (
            self.lld_dim,
            self.hidden,
            self.attention,
            self.audio_layers,
            *self.channels,
            *self.fc_channels,
        )
        if min(sizes) < 1:
            raise ConfigError("AlexAtt's widths, lld_dim and audio_layers must be >= 1")
        if self.face_size < 16:
            raise ConfigError(f"AlexAtt needs face_size >= 16, not {self.face_size}")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"AlexAtt's dropout must be in [0, 1), not {self.dropout}")

    @property
    def grid(self) -> int:
        """Side of the feature map: the stride-2 convolution, then three 2 x 2 poolings."""
        return ((self.face_size - 1) // 2 + 1) // 8

    @property
    def positions(self) -> int:
        """Attention positions per step (``grid ** 2``)."""
        return self.grid**2


class VideoNet(nn.Module):
    """The AlexNet variant: ``(N, 3, H, W) -> (N, fc_channels[-1], H', W')``."""

    def __init__(self, config: AlexAttConfig):
        super().__init__()
        layers: list[nn.Module] = []
        width = 3
        for i, out in enumerate(config.channels):
            layers += [
                nn.Conv2d(width, out, 3, stride=2 if i == 0 else 1, padding=1),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
                nn.BatchNorm2d(out),
            ]
            width = out
        fc6, fc7 = config.fc_channels
        layers += [
            nn.Conv2d(width, fc6, 1),
            nn.ReLU(inplace=True),
            nn.Dropout(config.dropout),
            nn.Conv2d(fc6, fc7, 1),
            nn.ReLU(inplace=True),
        ]
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class AlexAtt(nn.Module):
    """AlexAtt; see the module docstring.

    Parameters
    ----------
    config
        The options.
    n_classes
        Outputs: must be 2 (arousal and valence), kept for the common constructor.
    """

    def __init__(self, config: AlexAttConfig, n_classes: int = 2):
        super().__init__()
        if n_classes != 2:
            raise ConfigError(f"AlexAtt predicts arousal and valence (n_classes 2), not {n_classes}")
        self.config = config
        self.faces = FaceNorm()
        width = config.fc_channels[-1]
        self.video = VideoNet(config) if config.fusion != "audio" else None
        self.lstm = (
            nn.LSTM(config.lld_dim, config.hidden, config.audio_layers, batch_first=True)
            if config.fusion != "video"
            else None
        )
        self.attend_face = nn.Linear(width, config.attention) if self.video else None
        self.attend_audio = (
            nn.Linear(config.hidden, config.attention, bias=False) if self.video and self.lstm else None
        )
        self.score = nn.Linear(config.attention, 1, bias=False) if self.video else None
        self.gate = nn.Linear(config.hidden + width, 1) if config.fusion == "attention" else None
        self.project: nn.Module | None = None
        if self.video is not None:
            self.project = nn.Identity() if width == config.hidden else nn.Linear(width, config.hidden)
        self.dropout = nn.Dropout(config.dropout)
        self.out = nn.Linear(config.hidden, 2)

    def normalize(self, face: torch.Tensor) -> torch.Tensor:
        """uint8 / 255 (float taken as in [0, 1]), then the channel standardisation."""
        return self.faces(face)

    def feature_map(self, face: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """The CNN's map ``(N, C, grid, grid)`` of faces ``(N, 3, H, W)``, 0 where not ``valid``."""
        assert self.video is not None
        c, g = self.config.fc_channels[-1], self.config.grid
        rows = torch.nonzero(valid).squeeze(1)
        out = face.new_zeros((len(face), c, g, g), dtype=torch.float32)
        if len(rows):
            out = out.index_copy(0, rows, self.video(self.normalize(face[rows])))
        return out

    def forward(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Predict from ``face`` (B, S, 3, H, W), ``lld`` (B, S, lld_dim) and ``step_mask`` (B, S).

        Returns
        -------
        dict[str, torch.Tensor]
            ``arousal``, ``valence``, ``beta`` (B, S), ``attention`` (B, S, positions),
            ``logits`` (B, S, 2).
        """
        config = self.config
        face = batch["face"]
        if face.ndim != 5 or face.shape[2] != 3 or face.shape[-2:] != (config.face_size, config.face_size):
            size = config.face_size
            raise ValueError(f"AlexAtt expects faces (B, S, 3, {size}, {size}), not {tuple(face.shape)}")
        b, s = face.shape[:2]
        mask = batch.get("step_mask")
        mask = torch.ones(b, s, dtype=torch.bool, device=face.device) if mask is None else mask.bool()

        h: torch.Tensor | None = None
        if self.lstm is not None:
            lld = torch.nan_to_num(batch["lld"].float())
            if lld.shape != (b, s, config.lld_dim):
                raise ValueError(f"AlexAtt expects lld ({b}, {s}, {config.lld_dim}), not {tuple(lld.shape)}")
            h, _ = self.lstm(lld)

        if self.video is None:
            assert h is not None
            fused = h
            beta = h.new_ones(b, s)
            attention = h.new_full((b, s, config.positions), 1 / config.positions)
        else:
            assert self.attend_face is not None
            assert self.score is not None
            assert self.project is not None
            fmap = self.feature_map(face.flatten(0, 1), mask.flatten())
            positions = fmap.flatten(2).transpose(1, 2)  # (B * S, P, C)
            hidden = self.attend_face(positions)
            if h is not None and self.attend_audio is not None:
                hidden = hidden + self.attend_audio(h).flatten(0, 1)[:, None, :]
            weights = self.score(torch.tanh(hidden)).squeeze(-1).softmax(-1)  # (B * S, P)
            context = (weights.unsqueeze(-1) * positions).sum(1).view(b, s, -1)
            attention = weights.view(b, s, -1)
            video = self.project(context)
            if h is None:
                fused, beta = video, video.new_zeros(b, s)
            else:
                assert self.gate is not None
                beta = torch.sigmoid(self.gate(torch.cat([h, context], -1))).squeeze(-1)
                fused = beta.unsqueeze(-1) * h + (1 - beta.unsqueeze(-1)) * video
        logits = torch.tanh(self.out(self.dropout(fused)))
        return {
            "arousal": logits[..., 0],
            "valence": logits[..., 1],
            "beta": beta,
            "attention": attention,
            "logits": logits,
        }
