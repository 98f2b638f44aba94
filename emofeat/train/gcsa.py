"""GCSA: expression recognition from a window of faces and its audio, with a global
channel-spatial attention on each modality and a proportional decision fusion.

Reference: Yu, Zheng, Wang, Wang and Xu, "Design of an Expression Recognition Solution Based on
the Global Channel-Spatial Attention Mechanism and Proportional Criterion Fusion", 8th ABAW
Workshop and Competition (CVPR 2025), arXiv:2503.11935 (expression track, Aff-Wild2).

The architecture, as built here
-------------------------------
Audio: a multi-branch CNN (MCNN) on the window's spectrogram (A frames x 257 bins in dB, a
one-channel image; or log-mel with deltas, A x 64 x 3, a three-channel image). Three branches
see the same input through different receptive fields: a local one (3 x 3 kernels), a temporal
one (``audio_kernel`` x 1, along time) and a spatial one (1 x ``audio_kernel``, along
frequency). Each has two convolution blocks (convolution, batch norm, ReLU, 2 x 2 max pooling),
widening to ``audio_channels / 2`` then ``audio_channels``. The three maps are concatenated on
the channel axis, enhanced by a GCSA block, averaged over time and frequency, and a linear
layer (after dropout) gives the audio decision ``P_a``.

Video: a residual hybrid CNN (RHCNN) on each of the window's F face frames (8, at equal
intervals): two convolution blocks (``video_kernel`` square convolution, batch norm, ReLU,
2 x 2 max pooling) widening to ``video_channels / 2`` then ``video_channels``, then a residual
block: 1 x 1 convolution expanding the channels, depthwise ``video_kernel`` convolution, 1 x 1
convolution mixing them back (batch norm after each, ReLU after the first two), plus the
input, ReLU. The per-frame maps are averaged over the frames that have a face, enhanced by a
GCSA block, averaged over space, and a linear layer (after dropout) gives the video decision
``P_v``.

GCSA block on a map (B, C, H, W): channel attention (channels last, an MLP C -> C/4 -> C, a
sigmoid, multiplied into the map), a channel shuffle in 4 groups so that the channels the
attention weighed are interleaved, then spatial attention (a 7 x 7 convolution C -> C/4, batch
norm, ReLU, a 7 x 7 convolution back to C, batch norm, a sigmoid, multiplied into the map).

Proportional decision fusion: ``P = (m P_a + n P_v) / (m + n)`` over the two branches' softmax
probabilities, with integer weights 0 < m, n < 6. The paper trains "the weight parameters of
speech and facial images" with their own learning rate (1e-3, against 1e-4 for the rest), so by
default (``learn_weights``) the two weights are learnable, positive (kept as their logarithms)
and start at m and n; :meth:`Gcsa.parameter_groups` names them ``modality_weights`` for the
optimiser. With ``learn_weights=False`` they stay the integers m and n. The model returns
``logits = log P``: they
are log-probabilities (``exp(logits)`` sums to 1), so a negative log-likelihood, or a
cross-entropy (whose log-softmax leaves log-probabilities unchanged), trains the fused decision.

Where the paper is silent, our choices
--------------------------------------
* m = n = 1 by default (equal weight); the paper tunes them, so they are config fields. The
  learned weights are not held to the integers below 6: only their ratio matters.
* Widths: ``audio_channels`` 32 per branch (96 after concatenation), ``video_channels`` 64,
  expansion 2 in the residual block; ``audio_kernel`` 7, ``video_kernel`` 3.
* 2 x 2 max pooling after each convolution block (the 112 px face becomes a 28 x 28 map; a
  2 s spectrogram of 200 frames a 50 x 64 map).
* The stored dB values enter as they are (the dataset's ``normalize=`` may standardise them);
  the batch norm after the first convolution takes up their scale.
* Faces arrive as uint8; they are scaled to [0, 1] and normalised with the ImageNet channel
  means and deviations (``emofeat.train.faces``).
* Masks: only frames with a face go through the RHCNN (so missing frames neither count in the
  average nor in batch-norm statistics); a window with no face gives the video branch a zero
  map. Padded audio frames are zeroed and excluded from the time average (a pooled step is
  valid when it covers a real frame); windows shorter than ``min_audio_frames`` (8) are
  zero-padded so two poolings leave a step.
* Dropout 0.2 before each classifier (the paper's rate).

Ablations: ``modality="audio"`` or ``"video"`` builds one branch only, whose log-softmax is then
``logits``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from emofeat.errors import ConfigError
from emofeat.train.faces import FaceNorm

MODALITIES = ("av", "audio", "video")
AUDIO_KEYS = ("spectrogram", "logmel")
_POOLINGS = 2  # 2 x 2 max poolings in each branch


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """ShuffleNet's channel shuffle of ``x`` (B, C, ...): the channels, read as ``groups`` rows
    of ``C / groups``, are transposed, so output channel ``k * groups + g`` is input channel
    ``g * C / groups + k``. Shuffling by ``C / groups`` groups undoes it.

    Raises
    ------
    ValueError
        When ``groups`` is not a positive divisor of C.
    """
    channels = x.shape[1]
    if groups < 1 or channels % groups:
        raise ValueError(f"channel_shuffle: {groups} groups do not divide {channels} channels")
    return x.reshape(x.shape[0], groups, channels // groups, *x.shape[2:]).transpose(1, 2).reshape(x.shape)


class GCSA(nn.Module):
    """Global channel-spatial attention on a map (B, C, H, W); the output has its shape.

    Channel attention (an MLP C -> C / reduction -> C over the channels of each position, a
    sigmoid), a channel shuffle in ``groups`` groups, then spatial attention (``kernel_size``
    convolution C -> C / reduction, BN, ReLU, ``kernel_size`` convolution back to C, BN, a
    sigmoid); each attention multiplies the map.

    Raises
    ------
    ConfigError
        When ``reduction`` or ``groups`` does not divide ``channels``, or the kernel is not odd.
    """

    def __init__(self, channels: int, reduction: int = 4, groups: int = 4, kernel_size: int = 7):
        super().__init__()
        if min(channels, reduction, groups, kernel_size) < 1 or channels % reduction or channels % groups:
            raise ConfigError(
                f"GCSA needs reduction ({reduction}) and groups ({groups}) to divide channels ({channels})"
            )
        if kernel_size % 2 == 0:
            raise ConfigError(f"GCSA's kernel_size must be odd, not {kernel_size}")
        hidden = channels // reduction
        self.groups = groups
        self.channel = nn.Sequential(
            nn.Linear(channels, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, channels)
        )
        self.spatial = nn.Sequential(
            nn.Conv2d(channels, hidden, kernel_size, padding=kernel_size // 2),
            nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, kernel_size, padding=kernel_size // 2),
            nn.BatchNorm2d(channels),
        )

    def attend(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The output and both attention maps: channel (B, C, H, W), before the shuffle, and
        spatial (B, C, H, W), after it."""
        channel = torch.sigmoid(self.channel(x.permute(0, 2, 3, 1))).permute(0, 3, 1, 2)
        x = channel_shuffle(x * channel, self.groups)
        spatial = torch.sigmoid(self.spatial(x))
        return x * spatial, channel, spatial

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attend(x)[0]


def _check_int(name: str, value: object, low: int = 1, high: int | None = None) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        bound = f"an integer in [{low}, {high}]" if high is not None else f"an integer >= {low}"
        raise ConfigError(f"GcsaConfig.{name} must be {bound}, not {value!r}")


@dataclass(frozen=True)
class GcsaConfig:
    """The GCSA model's hyper-parameters (our choices where the paper is silent: see the
    module's docstring).

    Attributes
    ----------
    m, n
        Integer weights of the audio and video decisions in the fusion, 0 < m, n < 6 (the
        starting values of the learned weights with ``learn_weights``).
    learn_weights
        Whether the two fusion weights are learnable parameters (the paper's "weight
        parameters of speech and facial images", trained at their own learning rate).
    modality
        ``"av"`` (both branches, fused), ``"audio"`` or ``"video"`` (one branch).
    audio_key
        The batch key of the audio: ``"spectrogram"`` (B, A, bins) or ``"logmel"``
        (B, A, mels, 3); its mask is ``<audio_key>_mask``.
    audio_channels
        Width of each MCNN branch (even); the concatenation has three times as many.
    audio_kernel
        Length of the temporal and spectral kernels (odd).
    video_channels
        Width of the RHCNN (even).
    video_kernel
        Side of the RHCNN's square and depthwise kernels (odd).
    expansion
        Channel expansion inside the RHCNN's residual block.
    reduction, groups, spatial_kernel
        GCSA's reduction ratio, shuffle groups and spatial kernel (odd).
    min_audio_frames
        Shorter audio is zero-padded to this many frames (at least 4, for the two poolings).
    dropout
        Dropout before each classifier, in [0, 1).
    """

    m: int = 1
    n: int = 1
    learn_weights: bool = True
    modality: str = "av"
    audio_key: str = "spectrogram"
    audio_channels: int = 32
    audio_kernel: int = 7
    video_channels: int = 64
    video_kernel: int = 3
    expansion: int = 2
    reduction: int = 4
    groups: int = 4
    spatial_kernel: int = 7
    min_audio_frames: int = 8
    dropout: float = 0.2

    def __post_init__(self) -> None:
        _check_int("m", self.m, 1, 5)
        _check_int("n", self.n, 1, 5)
        if not isinstance(self.learn_weights, bool):
            raise ConfigError(f"GcsaConfig.learn_weights must be true or false, not {self.learn_weights!r}")
        if self.modality not in MODALITIES:
            raise ConfigError(f"GcsaConfig.modality must be one of {MODALITIES}, not {self.modality!r}")
        if self.audio_key not in AUDIO_KEYS:
            raise ConfigError(f"GcsaConfig.audio_key must be one of {AUDIO_KEYS}, not {self.audio_key!r}")
        for name in ("audio_channels", "video_channels", "expansion", "reduction", "groups"):
            _check_int(name, getattr(self, name))
        _check_int("min_audio_frames", self.min_audio_frames, 2**_POOLINGS)
        for name in ("audio_kernel", "video_kernel", "spatial_kernel"):
            value = getattr(self, name)
            _check_int(name, value)
            if value % 2 == 0:
                raise ConfigError(f"GcsaConfig.{name} must be odd, not {value}")
        for name, width in (
            ("audio_channels", self.audio_channels),
            ("video_channels", self.video_channels),
        ):
            if width % 2:
                raise ConfigError(f"GcsaConfig.{name} must be even, not {width}")
        for name, width in (
            ("3 * audio_channels", 3 * self.audio_channels),
            ("video_channels", self.video_channels),
        ):
            if width % self.reduction or width % self.groups:
                raise ConfigError(
                    f"GcsaConfig: {name} ({width}) must be a multiple of reduction ({self.reduction})"
                    f" and groups ({self.groups})"
                )
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, int | float):
            raise ConfigError(f"GcsaConfig.dropout must be a number, not {self.dropout!r}")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"GcsaConfig.dropout must be in [0, 1), not {self.dropout}")


def _conv_block(cin: int, cout: int, kernel: tuple[int, int]) -> nn.Sequential:
    """Convolution ('same' padding), batch norm, ReLU, 2 x 2 max pooling."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, padding=(kernel[0] // 2, kernel[1] // 2), bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class AudioMcnn(nn.Module):
    """The multi-branch audio CNN with its GCSA and classifier: (B, Cin, A, bins) and the frame
    mask (B, A) -> class logits (B, n_classes)."""

    def __init__(self, config: GcsaConfig, in_channels: int, n_classes: int):
        super().__init__()
        c, k = config.audio_channels, config.audio_kernel
        self.min_frames = config.min_audio_frames
        self.branches = nn.ModuleList(
            nn.Sequential(_conv_block(in_channels, c // 2, kernel), _conv_block(c // 2, c, kernel))
            for kernel in ((3, 3), (k, 1), (1, k))
        )
        self.gcsa = GCSA(3 * c, config.reduction, config.groups, config.spatial_kernel)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(3 * c, n_classes)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        keep = mask.to(x.dtype)
        x = x * keep[:, None, :, None]
        short = self.min_frames - x.shape[2]
        if short > 0:
            x, keep = F.pad(x, (0, 0, 0, short)), F.pad(keep, (0, short))
        f = self.gcsa(torch.cat([branch(x) for branch in self.branches], 1))
        for _ in range(_POOLINGS):
            keep = F.max_pool1d(keep[:, None], 2)[:, 0]
        pooled = (f.mean(3) * keep[:, None]).sum(2) / keep.sum(1).clamp(min=1)[:, None]
        return self.classifier(self.dropout(pooled))


class _Residual(nn.Module):
    """1 x 1 expansion, depthwise k x k, 1 x 1 projection (BN after each, ReLU after the first
    two), plus the input, ReLU."""

    def __init__(self, channels: int, expansion: int, kernel: int):
        super().__init__()
        wide = channels * expansion
        self.body = nn.Sequential(
            nn.Conv2d(channels, wide, 1, bias=False),
            nn.BatchNorm2d(wide),
            nn.ReLU(inplace=True),
            nn.Conv2d(wide, wide, kernel, padding=kernel // 2, groups=wide, bias=False),
            nn.BatchNorm2d(wide),
            nn.ReLU(inplace=True),
            nn.Conv2d(wide, channels, 1, bias=False),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + x)


class VideoRhcnn(nn.Module):
    """The residual hybrid CNN with its GCSA and classifier: normalised faces (B, F, 3, H, W)
    and the frame mask (B, F) -> class logits (B, n_classes)."""

    def __init__(self, config: GcsaConfig, n_classes: int):
        super().__init__()
        c, k = config.video_channels, config.video_kernel
        self.channels = c
        self.frames = nn.Sequential(
            _conv_block(3, c // 2, (k, k)),
            _conv_block(c // 2, c, (k, k)),
            _Residual(c, config.expansion, k),
        )
        self.gcsa = GCSA(c, config.reduction, config.groups, config.spatial_kernel)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(c, n_classes)

    def forward(self, face: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, f, _, h, w = face.shape
        scale = 2**_POOLINGS
        maps = face.new_zeros(b * f, self.channels, h // scale, w // scale)
        valid = mask.reshape(-1).nonzero().squeeze(1)
        if valid.numel():
            maps = maps.index_copy(0, valid, self.frames(face.reshape(b * f, *face.shape[2:])[valid]))
        weights = mask.to(face.dtype)
        weights = weights / weights.sum(1, keepdim=True).clamp(min=1)
        average = torch.einsum("bf,bfchw->bchw", weights, maps.reshape(b, f, *maps.shape[1:]))
        return self.classifier(self.dropout(self.gcsa(average).mean((2, 3))))


class Gcsa(nn.Module):
    """The GCSA audio-visual expression classifier (see the module's docstring).

    ``forward(batch)`` takes a ``window``-view batch:

    * ``face`` (B, F, 3, H, W) uint8 (any dtype on the 0-255 scale is accepted; H, W >= 4);
    * ``face_mask`` (B, F) bool, False where no face (optional: all present);
    * ``spectrogram`` (B, A, bins) float (dB), or with ``audio_key="logmel"`` ``logmel``
      (B, A, mels, 3);
    * ``<audio_key>_mask`` (B, A) bool, False on padded frames (optional: all valid).

    (a single-branch model reads only its own keys) and returns

    * ``logits`` (B, n_classes): **log-probabilities** of the fused decision,
      ``log((m softmax(P_a) + n softmax(P_v)) / (m + n))`` (m and n: the learned weights
      with ``learn_weights``), or the log-softmax of the single branch;
    * ``logits_audio`` and ``logits_video`` (B, n_classes): each branch's unnormalised scores
      (only the built branch's key with a single modality).
    """

    def __init__(self, config: GcsaConfig, n_classes: int):
        super().__init__()
        if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 1:
            raise ConfigError(f"Gcsa needs n_classes >= 1, not {n_classes!r}")
        self.config = config
        self.faces = FaceNorm()
        in_channels = 1 if config.audio_key == "spectrogram" else 3
        self.audio = AudioMcnn(config, in_channels, n_classes) if config.modality != "video" else None
        self.video = VideoRhcnn(config, n_classes) if config.modality != "audio" else None
        # The fusion weights (audio, video) as logarithms, started at (m, n).
        self.fusion_log_weights: nn.Parameter | None = (
            nn.Parameter(torch.tensor([config.m, config.n], dtype=torch.float32).log())
            if config.modality == "av" and config.learn_weights
            else None
        )

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """Named parameter groups for the optimiser (``[train] lr_groups``):
        ``modality_weights``, the learned fusion weights (empty when they are fixed)."""
        return {"modality_weights": [] if self.fusion_log_weights is None else [self.fusion_log_weights]}

    def fusion_weights(self) -> tuple[float, float]:
        """The fusion's weights of the audio and video decisions, normalised to sum to 1."""
        if self.fusion_log_weights is None:
            total = self.config.m + self.config.n
            return self.config.m / total, self.config.n / total
        a, v = self.fusion_log_weights.detach().softmax(0).tolist()
        return float(a), float(v)

    def _audio_logits(self, batch: Mapping[str, torch.Tensor], audio: AudioMcnn) -> torch.Tensor:
        key = self.config.audio_key
        x = batch[key].float()
        mask = batch.get(key + "_mask")
        if mask is None:
            mask = torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
        image = x[:, None] if key == "spectrogram" else x.permute(0, 3, 1, 2)
        return audio(image, mask.to(torch.bool))

    def _video_logits(self, batch: Mapping[str, torch.Tensor], video: VideoRhcnn) -> torch.Tensor:
        face = batch["face"]
        mask = batch.get("face_mask")
        if mask is None:
            mask = torch.ones(face.shape[:2], dtype=torch.bool, device=face.device)
        return video(self.faces(face), mask.to(torch.bool))

    def forward(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}
        logs: list[torch.Tensor] = []
        if self.audio is not None:
            out["logits_audio"] = self._audio_logits(batch, self.audio)
            logs.append(torch.log_softmax(out["logits_audio"], 1))
        if self.video is not None:
            out["logits_video"] = self._video_logits(batch, self.video)
            logs.append(torch.log_softmax(out["logits_video"], 1))
        if len(logs) == 2:
            if self.fusion_log_weights is not None:  # log(w / sum w), learned
                weights = torch.log_softmax(self.fusion_log_weights.float(), 0)
                fused = [weights[0] + logs[0], weights[1] + logs[1]]
            else:
                total = math.log(self.config.m + self.config.n)
                fused = [math.log(self.config.m) - total + logs[0], math.log(self.config.n) - total + logs[1]]
            out["logits"] = torch.logsumexp(torch.stack(fused), 0)
        else:
            out["logits"] = torch.log_softmax(next(iter(out.values())), 1)
        return out
