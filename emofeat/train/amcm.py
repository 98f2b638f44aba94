"""AMCM: audio-visual emotion recognition with an improved ConvMixer face encoder, a ResNet-34
MFCC encoder and symmetric cross-modal temporal attention.

Reference: Shi et al., "Improved ConvMixer and Focal Loss with Dynamic Weight for Audio-Visual
Emotion Recognition", Acta Electronica Sinica, 2024 (no. 8).

The architecture, as built here
-------------------------------
Faces. The ``t`` face frames of a clip (16 of 112 x 112 px) are patch-embedded one frame at a
time as in ConvMixer: a convolution with kernel = stride = ``patch`` (7, so an ``n x n`` = 16 x 16
grid) into ``c`` channels, GELU, batch norm. ConvMixer's depthwise convolution is then replaced
by the paper's AMCM layer, repeated ``depth`` (4) times:

1. spatial mixing: each position's features are concatenated with its two normalised grid
   coordinates (SPC) and projected by a linear layer back to ``c``; space is flattened to
   ``n^2`` positions and multiplied by the learnable spatial adjacency matrix SAM
   (``n^2 x n^2``); GELU, batch norm, plus the projected input (residual);
2. temporal mixing: each frame's features are concatenated with its normalised frame index
   (TPC) and projected to ``c``; time is multiplied by the learnable temporal adjacency matrix
   TAM (``t x t``); GELU, batch norm, plus the projected input;
3. a pointwise (1 x 1) convolution, GELU, batch norm.

SAM and TAM start at all ones and are otherwise unconstrained (the paper's choice), so at
initialisation each product is a sum over all positions (frames). We divide the SAM product by
``n^2`` and the TAM product by ``t``: at initialisation they are then the spatial (temporal)
mean, and activations stay bounded whatever the grid. Averaging the final map over its
positions gives one ``c``-vector per frame, the video sequence ``X_v`` (B, t, c). The best
sizes of the paper, SAM 256 x 256 and TAM 16 x 16, are the defaults.

Audio. The clip's MFCC (Ta frames x 40 coefficients) is a one-channel image for a ResNet-34
trained from scratch; its last feature map (B, 512, Ta / 32, 2) is averaged over frequency and
projected linearly to ``audio_dim``, giving the audio sequence ``X_a`` (B, t', audio_dim).

Fusion: two cross-modal temporal attention modules (CMTAM), video-to-audio and audio-to-video,
with the same structure. For a query modality M and the other one M':
``Q = BN(Linear(X_M))``, ``K = BN(Linear(X_M'))``, ``V = BN(Linear(X_M'))``,
``att = softmax(Q LIM K^T / sqrt(d_k)) V`` with a learnable ``d x d`` matrix LIM, and
``f_M = PointwiseConv(att + Q)``. Each output is averaged over its own time axis (t for video,
t' for audio, which differ), the two are concatenated, and after dropout a linear layer gives
the class logits.

The paper's loss, a focal loss whose per-class weights follow the confusion matrix (FLDW), is a
training-loop matter and is not part of this module.

Where the paper is silent, our choices
--------------------------------------
* ``channels`` c = 256, as ConvMixer-256; ``kernel_size`` 9 for the ConvMixer ablation, as
  ConvMixer-256/8.
* Normalisation of the positional channels: the grid coordinates ``i / (n - 1)``,
  ``j / (n - 1)`` and frame index ``k / (t - 1)`` lie in [0, 1].
* LIM is initialised at random, as the paper says, with Xavier-uniform values (the paper does
  not say which distribution); Q, K and V share one width ``attention_dim`` = 256 (LIM is
  square; ``att + Q`` needs the value width to equal the query width).
* Batch norm acts on the feature axis; over (batch, frames, positions) in the encoder and over
  (batch, time) in CMTAM.
* Dropout 0.2 before the classifier.
* Faces arrive as uint8; they are scaled to [0, 1] and normalised with the ImageNet channel
  means and deviations (``emofeat.train.faces``).
* Missing faces (``face_mask`` False): their pixels and their embeddings are zeroed, their
  features are zeroed before every temporal mixing and at every layer's output, they are
  excluded from the attention's keys and from the average over frames. Their pixels therefore
  never reach the output.
* Audio: padded MFCC rows (``mfcc_mask`` False, which must be trailing padding, as ``collate``
  makes it) are zeroed, and clips shorter than ``min_audio_frames`` (32, so the ResNet's
  32-fold reduction leaves one step) are zero-padded. An audio step counts as valid when it
  covers at least one real MFCC row; invalid steps are excluded from attention and averages.
  A clip without audio (Ta = 0) thus contributes zeros from its audio side, and is classified
  from its faces. A clip without any face is likewise classified from its audio.

Ablations (``AmcmConfig``): ``encoder="convmixer"`` keeps ConvMixer's layer (a residual
depthwise ``kernel_size`` convolution, GELU, BN, then a pointwise convolution, GELU, BN, per
frame) instead of the AMCM layer; ``fusion="concat"`` replaces the two CMTAMs by the
concatenation of the time-averaged ``X_v`` and ``X_a``.
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
from emofeat.train.resnet import resnet34

ENCODERS = ("amcm", "convmixer")
FUSIONS = ("cmtam", "concat")
_RESNET_REDUCTION_STEPS = 5  # stem conv, max pool, three strided stages: each halves (ceil)


def _check_positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"AmcmConfig.{name} must be a positive integer, not {value!r}")


@dataclass(frozen=True)
class AmcmConfig:
    """AMCM's hyper-parameters; the defaults are the paper's best (or our choice where it is
    silent: see the module's docstring).

    Attributes
    ----------
    frames
        Face frames per clip, ``t`` (TAM is ``t x t``); the clip view's ``frames``.
    size
        Face side in pixels; the clip view's ``size``.
    patch
        Patch side of the embedding; ``size`` must be a multiple (``n = size / patch``; SAM is
        ``n^2 x n^2``).
    channels
        Width ``c`` of the face encoder.
    depth
        Number of AMCM (or ConvMixer) layers.
    kernel_size
        Depthwise kernel of the ConvMixer ablation (odd).
    audio_dim
        Width of the audio sequence (ResNet-34's 512 projected linearly).
    attention_dim
        Width of CMTAM's queries, keys and values (LIM is ``attention_dim`` square).
    min_audio_frames
        Shorter MFCC inputs are zero-padded to this many frames.
    encoder
        ``"amcm"`` (the paper) or ``"convmixer"`` (ablation).
    fusion
        ``"cmtam"`` (the paper) or ``"concat"`` (ablation).
    dropout
        Dropout before the classifier, in [0, 1).
    """

    frames: int = 16
    size: int = 112
    patch: int = 7
    channels: int = 256
    depth: int = 4
    kernel_size: int = 9
    audio_dim: int = 256
    attention_dim: int = 256
    min_audio_frames: int = 32
    encoder: str = "amcm"
    fusion: str = "cmtam"
    dropout: float = 0.2

    def __post_init__(self) -> None:
        for name in (
            "frames",
            "size",
            "patch",
            "channels",
            "depth",
            "kernel_size",
            "audio_dim",
            "attention_dim",
            "min_audio_frames",
        ):
            _check_positive(name, getattr(self, name))
        if self.size % self.patch:
            raise ConfigError(f"AmcmConfig.size ({self.size}) must be a multiple of patch ({self.patch})")
        if self.kernel_size % 2 == 0:
            raise ConfigError(f"AmcmConfig.kernel_size must be odd, not {self.kernel_size}")
        if self.encoder not in ENCODERS:
            raise ConfigError(f"AmcmConfig.encoder must be one of {ENCODERS}, not {self.encoder!r}")
        if self.fusion not in FUSIONS:
            raise ConfigError(f"AmcmConfig.fusion must be one of {FUSIONS}, not {self.fusion!r}")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, int | float):
            raise ConfigError(f"AmcmConfig.dropout must be a number, not {self.dropout!r}")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"AmcmConfig.dropout must be in [0, 1), not {self.dropout}")

    @property
    def grid(self) -> int:
        """``n``, the side of the patch grid."""
        return self.size // self.patch


def _norm_last(norm: nn.BatchNorm1d, x: torch.Tensor) -> torch.Tensor:
    """Batch norm over the last axis of ``x`` (statistics over all the other axes)."""
    return norm(x.reshape(-1, x.shape[-1])).reshape(x.shape)


def _masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``x`` (B, L, D) over the ``L`` steps where ``mask`` (B, L) is True; 0 where none."""
    weights = mask.to(x.dtype)
    return (x * weights[..., None]).sum(1) / weights.sum(1, keepdim=True).clamp(min=1)


def _coordinates(n: int) -> torch.Tensor:
    """``n`` points evenly spaced in [0, 1] (0 alone when ``n`` is 1)."""
    return torch.linspace(0, 1, n) if n > 1 else torch.zeros(1)


class AmcmLayer(nn.Module):
    """One AMCM layer on ``(B, t, n^2, c)`` features (channels last): spatial mixing by SAM,
    temporal mixing by TAM, then a pointwise convolution (see the module's docstring)."""

    spc: torch.Tensor
    tpc: torch.Tensor

    def __init__(self, channels: int, grid: int, frames: int):
        super().__init__()
        rows, cols = torch.meshgrid(_coordinates(grid), _coordinates(grid), indexing="ij")
        self.register_buffer("spc", torch.stack([rows.flatten(), cols.flatten()], -1), persistent=False)
        self.register_buffer("tpc", _coordinates(frames)[:, None], persistent=False)
        self.proj_s = nn.Linear(channels + 2, channels)
        self.sam = nn.Parameter(torch.ones(grid * grid, grid * grid))
        self.norm_s = nn.BatchNorm1d(channels)
        self.proj_t = nn.Linear(channels + 1, channels)
        self.tam = nn.Parameter(torch.ones(frames, frames))
        self.norm_t = nn.BatchNorm1d(channels)
        self.pointwise = nn.Linear(channels, channels)
        self.norm_p = nn.BatchNorm1d(channels)

    def forward(self, f: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``f`` (B, t, n^2, c) and the frame mask (B, t) -> (B, t, n^2, c)."""
        b, t, p, _ = f.shape
        keep = mask.to(f.dtype)[:, :, None, None]
        spc, tpc = self.spc, self.tpc
        f = self.proj_s(torch.cat([f, spc.to(f.dtype).expand(b, t, p, 2)], -1))
        mixed = torch.einsum("btpc,pq->btqc", f, self.sam) / p
        f = _norm_last(self.norm_s, F.gelu(mixed)) + f
        f = self.proj_t(torch.cat([f, tpc.to(f.dtype)[None, :, None, :].expand(b, t, p, 1)], -1)) * keep
        mixed = torch.einsum("btpc,ts->bspc", f, self.tam) / t
        f = _norm_last(self.norm_t, F.gelu(mixed)) + f
        return _norm_last(self.norm_p, F.gelu(self.pointwise(f))) * keep


class ConvMixerLayer(nn.Module):
    """ConvMixer's layer (the ablation), per frame on ``(B, t, n^2, c)`` features: a residual
    depthwise convolution, GELU, BN, then a pointwise convolution, GELU, BN."""

    def __init__(self, channels: int, grid: int, kernel_size: int):
        super().__init__()
        self.grid = grid
        self.depthwise = nn.Sequential(
            nn.Conv2d(channels, channels, kernel_size, groups=channels, padding=kernel_size // 2),
            nn.GELU(),
            nn.BatchNorm2d(channels),
        )
        self.pointwise = nn.Sequential(nn.Conv2d(channels, channels, 1), nn.GELU(), nn.BatchNorm2d(channels))

    def forward(self, f: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``f`` (B, t, n^2, c) and the frame mask (B, t) -> (B, t, n^2, c)."""
        b, t, p, c = f.shape
        x = f.reshape(b * t, self.grid, self.grid, c).permute(0, 3, 1, 2)
        x = self.pointwise(self.depthwise(x) + x)
        return x.permute(0, 2, 3, 1).reshape(b, t, p, c) * mask.to(f.dtype)[:, :, None, None]


class Cmtam(nn.Module):
    """Cross-modal temporal attention: the query modality's sequence attends to the other's.

    ``Q = BN(Linear(x_q))``, ``K = BN(Linear(x_kv))``, ``V = BN(Linear(x_kv))``,
    ``out = Linear(softmax(Q LIM K^T / sqrt(d)) V + Q)``, LIM initialised at random (Xavier).
    """

    def __init__(self, query_dim: int, key_dim: int, dim: int):
        super().__init__()
        self.q = nn.Linear(query_dim, dim)
        self.k = nn.Linear(key_dim, dim)
        self.v = nn.Linear(key_dim, dim)
        self.norm_q = nn.BatchNorm1d(dim)
        self.norm_k = nn.BatchNorm1d(dim)
        self.norm_v = nn.BatchNorm1d(dim)
        self.lim = nn.Parameter(nn.init.xavier_uniform_(torch.empty(dim, dim)))
        self.out = nn.Linear(dim, dim)
        self.scale = 1 / math.sqrt(dim)

    def forward(self, x_q: torch.Tensor, x_kv: torch.Tensor, kv_mask: torch.Tensor) -> torch.Tensor:
        """``x_q`` (B, Lq, Dq), ``x_kv`` (B, Lk, Dk), ``kv_mask`` (B, Lk) -> (B, Lq, dim). Keys
        where ``kv_mask`` is False get no weight; a row with no valid key attends to nothing
        (its attention is 0, so the output is ``Linear(Q)``)."""
        q = _norm_last(self.norm_q, self.q(x_q))
        k = _norm_last(self.norm_k, self.k(x_kv))
        v = _norm_last(self.norm_v, self.v(x_kv))
        scores = q @ self.lim @ k.transpose(1, 2) * self.scale
        any_valid = kv_mask.any(1)
        allowed = (kv_mask | ~any_valid[:, None])[:, None, :]
        weights = torch.softmax(scores.masked_fill(~allowed, float("-inf")), -1)
        weights = weights * any_valid.to(weights.dtype)[:, None, None]
        return self.out(weights @ v + q)


class Amcm(nn.Module):
    """The AMCM audio-visual classifier (see the module's docstring).

    ``forward(batch)`` takes a ``clip``-view batch:

    * ``face`` (B, t, 3, size, size) uint8 (any dtype on the 0-255 scale is accepted);
    * ``face_mask`` (B, t) bool, False where no face (optional: all present);
    * ``mfcc`` (B, Ta, n_mfcc) float, Ta >= 0;
    * ``mfcc_mask`` (B, Ta) bool, False on padded rows (optional: all valid).

    and returns ``logits`` (B, n_classes) (unnormalised class scores) and ``features`` (B, D),
    the classifier's input (D = 2 * attention_dim with CMTAM, channels + audio_dim with concat).

    Raises
    ------
    ConfigError
        When the batch's frames or face size differ from the config's (SAM and TAM are sized
        for them).
    """

    def __init__(self, config: AmcmConfig, n_classes: int):
        super().__init__()
        if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 1:
            raise ConfigError(f"Amcm needs n_classes >= 1, not {n_classes!r}")
        self.config = config
        c, n = config.channels, config.grid
        self.faces = FaceNorm()
        self.embed = nn.Sequential(
            nn.Conv2d(3, c, config.patch, stride=config.patch), nn.GELU(), nn.BatchNorm2d(c)
        )
        self.layers = nn.ModuleList(
            AmcmLayer(c, n, config.frames)
            if config.encoder == "amcm"
            else ConvMixerLayer(c, n, config.kernel_size)
            for _ in range(config.depth)
        )
        self.audio = resnet34(in_channels=1)
        self.audio_proj = nn.Linear(self.audio.features, config.audio_dim)
        self.cmtam_video: Cmtam | None = None
        self.cmtam_audio: Cmtam | None = None
        if config.fusion == "cmtam":
            self.cmtam_video = Cmtam(c, config.audio_dim, config.attention_dim)
            self.cmtam_audio = Cmtam(config.audio_dim, c, config.attention_dim)
            width = 2 * config.attention_dim
        else:
            width = c + config.audio_dim
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(width, n_classes)

    def encode_faces(self, face: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Faces (B, t, 3, H, W) on the 0-255 scale and their mask (B, t) -> ``X_v`` (B, t, c);
        frames without a face are zeros."""
        b, t, _, h, w = face.shape
        cfg = self.config
        if t != cfg.frames or h != cfg.size or w != cfg.size:
            raise ConfigError(
                f"Amcm was built for {cfg.frames} faces of {cfg.size} px, the batch has {t} of {h}x{w}:"
                " make the clip view's frames and size match the model's"
            )
        keep = mask.float()
        x = self.faces(face) * keep[:, :, None, None, None]
        f = self.embed(x.reshape(b * t, 3, h, w))
        f = f.reshape(b, t, cfg.channels, -1).transpose(2, 3) * keep[:, :, None, None]
        for layer in self.layers:
            f = layer(f, mask)
        return f.mean(2)

    def encode_audio(self, mfcc: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """MFCC (B, Ta, n_mfcc) and its row mask (B, Ta) -> ``X_a`` (B, t', audio_dim) and the
        mask of its valid steps (B, t')."""
        x = mfcc.to(self.audio_proj.weight.dtype) * mask.to(self.audio_proj.weight.dtype)[..., None]
        short = self.config.min_audio_frames - x.shape[1]
        if short > 0:
            x = F.pad(x, (0, 0, 0, short))
        fmap = self.audio.feature_map(x[:, None])  # (B, 512, t', freq)
        steps = mask.sum(1)
        for _ in range(_RESNET_REDUCTION_STEPS):
            steps = (steps + 1) // 2
        seq = self.audio_proj(fmap.mean(3).transpose(1, 2))
        valid = torch.arange(seq.shape[1], device=seq.device)[None, :] < steps[:, None]
        return seq, valid

    def forward(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        face = batch["face"]
        face_mask = batch.get("face_mask")
        if face_mask is None:
            face_mask = torch.ones(face.shape[:2], dtype=torch.bool, device=face.device)
        face_mask = face_mask.to(torch.bool)
        mfcc = batch["mfcc"]
        mfcc_mask = batch.get("mfcc_mask")
        if mfcc_mask is None:
            mfcc_mask = torch.ones(mfcc.shape[:2], dtype=torch.bool, device=mfcc.device)
        mfcc_mask = mfcc_mask.to(torch.bool)
        x_v = self.encode_faces(face, face_mask)
        x_a, audio_mask = self.encode_audio(mfcc, mfcc_mask)
        if self.cmtam_video is not None and self.cmtam_audio is not None:
            f_v = _masked_mean(self.cmtam_video(x_v, x_a, audio_mask), face_mask)
            f_a = _masked_mean(self.cmtam_audio(x_a, x_v, face_mask), audio_mask)
        else:
            f_v, f_a = _masked_mean(x_v, face_mask), _masked_mean(x_a, audio_mask)
        features = torch.cat([f_v, f_a], 1)
        return {"logits": self.classifier(self.dropout(features)), "features": features}
