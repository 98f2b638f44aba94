"""JDCDTL: joint deep cross-domain transfer learning for emotion recognition (Nguyen et al.,
arXiv 2003.11136; eNTERFACE, SAVEE and EMO-DB).

The paper trains one CNN on 64 x 64 x 3 inputs, faces and log-mel segments alike (static,
delta and delta-delta of 64 mel bands over 64 frames), and carries its weights from a
data-rich source domain to poorer target domains, from faces to speech, and finally learns
the domains jointly, with a cross-entropy loss per domain and a contrastive loss on the
embeddings that pulls same-emotion samples of different domains together (Euclidean
distance, margin).

The network, as this module builds it (the report uses an AlexNet/VGG-like CNN and does not
pin its layers; this compact stack is our choice):

* four conv blocks of 32, 64, 128 and 256 channels, each a 3 x 3 convolution, batch norm,
  ReLU and 2 x 2 max-pooling (64 px -> 4 px), an adaptive average pool to 4 x 4 (so other
  input sizes work too), flattening, dropout and a linear layer to a 128-value
  ``embedding``;
* one linear classifier per domain in ``heads`` (a :class:`torch.nn.ModuleDict` keyed by the
  domain name, ``"<corpus>/<modality>"`` for the staged plan), applied to
  ``dropout(relu(embedding))``. The trunk is shared by every stage and domain: that sharing
  is the transfer.

Where the paper is silent, or we chose:

* ``embedding`` is returned as the linear layer gives it, not L2-normalised
  (``normalize_embedding=False``), since the contrastive loss works on Euclidean distances
  with a margin; ``normalize_embedding=True`` normalises it (distances then lie in [0, 2]).
* input normalisation per modality: faces are divided by 255 when uint8 (floating point
  faces are taken as in [0, 1]) and standardised with the ImageNet channel means and
  standard deviations; log-mel segments are standardised per segment and channel over
  their valid frames (``logmel_mask``; padded frames are set to 0 afterwards), with
  ``audio_norm="segment"``, or passed as they are with ``audio_norm="none"`` (when the
  dataset's statistics already standardise them).
* the stages are data (:func:`stage_plan`); :meth:`Jdcdtl.set_stage` only selects the
  modality and the head, it freezes nothing. With ``corpora`` in the config the model
  creates every head of the plan with ``n_classes`` outputs; otherwise one head,
  ``"default"``. :meth:`Jdcdtl.add_head` adds (or, with ``replace=True``, re-creates) heads.

Outputs of :meth:`Jdcdtl.forward`: ``logits`` (B, n_classes of the active head),
``embedding`` (B, 128) and ``features`` (B, 4096: the flattened conv map).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from emofeat.errors import ConfigError
from emofeat.train.faces import FaceNorm

MODALITIES = ("face", "audio")
STAGES = ("visual_source", "visual_target", "audio_source", "joint")
Modality = Literal["face", "audio"]


@dataclass(frozen=True)
class Stage:
    """One stage of the schedule.

    Attributes
    ----------
    name
        One of :data:`STAGES`.
    modality
        ``"face"``, ``"audio"``, or ``"both"`` (the joint stage: each domain's own modality).
    corpora
        The corpora the stage trains on.
    loss_terms
        The losses the loop sums: ``"cross_entropy"`` (per domain, its own head) and, in the
        joint stage, ``"contrastive"`` (embeddings of different domains).
    heads
        The heads (domains, ``"<corpus>/<modality>"``) the stage trains.
    """

    name: str
    modality: str
    corpora: tuple[str, ...]
    loss_terms: tuple[str, ...]
    heads: tuple[str, ...]


def head_name(corpus: str, modality: str) -> str:
    """The domain key of a corpus seen through one modality: ``"<corpus>/<modality>"``."""
    return f"{corpus}/{modality}"


def stage_plan(corpora: Sequence[str]) -> list[Stage]:
    """The four stages for ``corpora`` (sources first).

    ``corpora[0]`` is the visual source (faces, trained from scratch), ``corpora[1]`` the
    visual target (faces, from the source's trunk), ``corpora[2:]`` the audio corpora
    (log-mel, from the visual trunk: cross-modal transfer), and the joint stage trains every
    domain of the earlier stages together, adding the contrastive loss. For
    ``["enterface", "savee", "emodb"]``: enterface faces, savee faces, emodb speech, all three.

    Raises
    ------
    ConfigError
        With fewer than three corpora, an empty name or a repeated one.
    """
    names = tuple(corpora)
    if len(names) < 3 or len(set(names)) != len(names) or not all(names):
        raise ConfigError(f"JDCDTL's plan needs at least three distinct corpora, not {list(names)}")
    visual_source, visual_target, audio = names[0], names[1], names[2:]
    stages = [
        Stage(
            "visual_source", "face", (visual_source,), ("cross_entropy",), (head_name(visual_source, "face"),)
        ),
        Stage(
            "visual_target", "face", (visual_target,), ("cross_entropy",), (head_name(visual_target, "face"),)
        ),
        Stage(
            "audio_source", "audio", audio, ("cross_entropy",), tuple(head_name(c, "audio") for c in audio)
        ),
    ]
    heads = tuple(h for s in stages for h in s.heads)
    stages.append(Stage("joint", "both", names, ("cross_entropy", "contrastive"), heads))
    return stages


@dataclass(frozen=True)
class JdcdtlConfig:
    """JDCDTL's options.

    Attributes
    ----------
    modality
        The input :meth:`Jdcdtl.forward` reads first (``"face"`` or ``"audio"``).
    channels
        Output channels of the conv blocks.
    embedding
        Width of the embedding.
    pool
        Side of the adaptive pooling before the flattening.
    dropout
        Dropout before the embedding layer and before the heads.
    normalize_embedding
        L2-normalise the embedding.
    audio_norm
        ``"segment"``: standardise each log-mel segment per channel; ``"none"``: as given.
    corpora
        The corpora of :func:`stage_plan` (empty: no plan, one ``"default"`` head).
    """

    modality: Modality = "face"
    channels: tuple[int, ...] = (32, 64, 128, 256)
    embedding: int = 128
    pool: int = 4
    dropout: float = 0.5
    normalize_embedding: bool = False
    audio_norm: Literal["segment", "none"] = "segment"
    corpora: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "corpora", tuple(self.corpora))
        if self.modality not in MODALITIES:
            raise ConfigError(f"JDCDTL's modality must be face or audio, not {self.modality!r}")
        if not self.channels or min(self.channels) < 1 or self.embedding < 1 or self.pool < 1:
            raise ConfigError("JDCDTL needs at least one conv block and positive widths")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"JDCDTL's dropout must be in [0, 1), not {self.dropout}")
        if self.audio_norm not in ("segment", "none"):
            raise ConfigError(f"JDCDTL's audio_norm must be segment or none, not {self.audio_norm!r}")
        if self.corpora:
            stage_plan(self.corpora)


def standardize_segments(
    x: torch.Tensor, mask: torch.Tensor | None = None, eps: float = 1e-5
) -> torch.Tensor:
    """Log-mel segments ``(B, C, mels, frames)`` standardised per segment and channel over the
    valid frames (``mask`` (B, frames), all when None); invalid frames become 0."""
    x = x.float()
    if mask is None:
        mask = torch.ones(x.shape[0], x.shape[-1], dtype=torch.bool, device=x.device)
    weight = mask[:, None, None, :].to(x.dtype).expand_as(x)
    count = weight.sum((2, 3), keepdim=True).clamp_min(1)
    mean = (x * weight).sum((2, 3), keepdim=True) / count
    var = ((x - mean).square() * weight).sum((2, 3), keepdim=True) / count
    return (x - mean) / (var + eps).sqrt() * weight


class Jdcdtl(nn.Module):
    """The shared CNN trunk and per-domain heads; see the module docstring.

    Parameters
    ----------
    config
        The options.
    n_classes
        Outputs of the heads created here (every head of the plan, or ``"default"``).
    """

    def __init__(self, config: JdcdtlConfig, n_classes: int):
        super().__init__()
        if n_classes < 1:
            raise ConfigError(f"JDCDTL needs n_classes >= 1, not {n_classes}")
        self.config = config
        self.faces = FaceNorm()
        blocks: list[nn.Module] = []
        width = 3
        for out in config.channels:
            blocks += [
                nn.Conv2d(width, out, 3, padding=1, bias=False),
                nn.BatchNorm2d(out),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
            width = out
        blocks.append(nn.AdaptiveAvgPool2d(config.pool))
        self.trunk = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(config.dropout)
        self.embed = nn.Linear(width * config.pool**2, config.embedding)
        self.heads = nn.ModuleDict()
        self.plan: list[Stage] = stage_plan(config.corpora) if config.corpora else []
        self.modality: str = config.modality
        self.stage: str | None = None
        names = self.plan[-1].heads if self.plan else ("default",)
        for name in names:
            self.add_head(name, n_classes)
        self.active: str = names[0]
        if self.plan:
            self.set_stage(self.plan[0].name)

    def add_head(self, name: str, n_classes: int, *, replace: bool = False) -> nn.Linear:
        """Add a classifier ``name`` over the embedding (freshly initialised).

        Raises
        ------
        ConfigError
            When ``name`` exists (and not ``replace``), is empty or contains a dot, or
            ``n_classes < 1``.
        """
        if not name or "." in name:
            raise ConfigError(f"JDCDTL: a head's name must be non-empty without dots, not {name!r}")
        if n_classes < 1:
            raise ConfigError(f"JDCDTL: head {name!r} needs n_classes >= 1, not {n_classes}")
        if name in self.heads and not replace:
            raise ConfigError(f"JDCDTL: head {name!r} exists (pass replace=True to re-create it)")
        head = nn.Linear(self.config.embedding, n_classes).to(self.embed.weight.device)
        self.heads[name] = head
        return head

    def set_head(self, name: str, modality: str | None = None) -> None:
        """Make ``name`` the head that gives ``logits`` (and set the modality, when given, or
        take it from a ``"<corpus>/<modality>"`` name).

        Raises
        ------
        ConfigError
            When there is no such head or the modality is unknown.
        """
        if name not in self.heads:
            raise ConfigError(f"JDCDTL: no head {name!r} (heads: {', '.join(self.heads)})")
        suffix = name.rpartition("/")[2]
        modality = modality or (suffix if suffix in MODALITIES else self.modality)
        if modality not in MODALITIES:
            raise ConfigError(f"JDCDTL: modality must be face or audio, not {modality!r}")
        self.active, self.modality = name, modality

    def set_stage(self, name: str, head: str | None = None) -> Stage:
        """Select stage ``name`` of the plan: its modality and its head ``head`` (default: its
        first). Freezes nothing. In the joint stage the loop calls :meth:`set_head` per
        domain batch.

        Raises
        ------
        ConfigError
            Without a plan (no ``corpora``), for an unknown stage, or a head not in the stage.
        """
        stage = next((s for s in self.plan if s.name == name), None)
        if stage is None:
            known = ", ".join(s.name for s in self.plan) or "none: the config has no corpora"
            raise ConfigError(f"JDCDTL: no stage {name!r} (stages: {known})")
        head = head or stage.heads[0]
        if head not in stage.heads:
            raise ConfigError(f"JDCDTL: head {head!r} is not trained in stage {name!r}")
        self.set_head(head, None if stage.modality == "both" else stage.modality)
        self.stage = name
        return stage

    def normalize(self, x: torch.Tensor, modality: str, mask: torch.Tensor | None = None) -> torch.Tensor:
        """The per-modality input normalisation (see the module docstring)."""
        if modality == "face":
            return self.faces(x)
        if modality == "audio":
            return standardize_segments(x, mask) if self.config.audio_norm == "segment" else x.float()
        raise ConfigError(f"JDCDTL: modality must be face or audio, not {modality!r}")

    def forward_modality(
        self, x: torch.Tensor, modality: str, mask: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        """Run the trunk and the active head on ``x`` (B, 3, H, W) of ``modality``
        (``mask``: the log-mel frame mask (B, frames), optional)."""
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"JDCDTL expects (B, 3, H, W) inputs, not {tuple(x.shape)}")
        features = torch.flatten(self.trunk(self.normalize(x, modality, mask)), 1)
        embedding = self.embed(self.dropout(features))
        logits = self.heads[self.active](self.dropout(torch.relu(embedding)))
        if self.config.normalize_embedding:
            embedding = nn.functional.normalize(embedding, dim=-1)
        return {"logits": logits, "embedding": embedding, "features": features}

    def forward(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``batch["face"]`` or ``batch["logmel"]`` (with ``logmel_mask``), by ``self.modality``."""
        if self.modality == "face":
            return self.forward_modality(batch["face"], "face")
        return self.forward_modality(batch["logmel"], "audio", batch.get("logmel_mask"))
