"""What each model reads, optimises and is judged by: one :class:`ModelSpec` per paper.

The loop (:mod:`emofeat.train.loop`) is the same for every model; a spec names the view and
its options, the paper's optimiser settings, how to build the network from a config, the
loss, the training target and the task's metrics.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from emofeat.corpora.vocabulary import QUADRANTS, SYNONYMS
from emofeat.errors import ConfigError
from emofeat.train.alexatt import AlexAtt, AlexAttConfig
from emofeat.train.amcm import Amcm, AmcmConfig
from emofeat.train.gcsa import Gcsa, GcsaConfig
from emofeat.train.jdcdtl import Jdcdtl, JdcdtlConfig
from emofeat.train.loop import Context, LossFn, TrainConfig
from emofeat.train.rald import Rald, RaldConfig, file_sha256, read_label_vectors

Task = Literal["classification", "regression"]


@dataclass(frozen=True)
class LabelInfo:
    """The classes a run trains on (empty for regression), their valence/arousal quadrant
    (0-3, -1 = none: the coarse classes of the coarse-fine loss) and, for a fine/coarse
    hierarchy, each fine class's coarse index."""

    names: tuple[str, ...] = ()
    quadrant: tuple[int, ...] = ()
    coarse_of: tuple[int, ...] | None = None
    coarse_names: tuple[str, ...] = ()

    @property
    def n_classes(self) -> int:
        return len(self.names)


def label_info(names: tuple[str, ...], hierarchy: Mapping[str, str] | None = None) -> LabelInfo:
    quads = []
    for name in names:
        unified = SYNONYMS.get(name.lower(), name.lower())
        q = QUADRANTS.get(unified)
        quads.append(int(q[1]) - 1 if q else -1)
    if hierarchy:
        coarse = tuple(dict.fromkeys(hierarchy[n] for n in names))
        return LabelInfo(names, tuple(quads), tuple(coarse.index(hierarchy[n]) for n in names), coarse)
    return LabelInfo(names, tuple(quads))


@dataclass(frozen=True)
class ModelSpec:
    """One paper's model as the loop runs it."""

    name: str
    paper: str
    view: str
    task: Task
    config: type  # the model's config dataclass
    network: Callable[[Any, LabelInfo], nn.Module]
    loss: Callable[[Mapping[str, Any], LabelInfo], LossFn]
    train: TrainConfig
    view_options: Mapping[str, Any] = field(default_factory=dict)
    loss_options: Mapping[str, Any] = field(default_factory=dict)  # the loss's own switches
    target: Callable[[Mapping[str, Any]], torch.Tensor] = lambda batch: batch["label"]
    frame_labels: str | None = None  # a per-frame label track judged frame by frame (ABAW)
    data: Mapping[str, Any] = field(default_factory=dict)  # the paper's augmentations (see run.py)
    from_item: Callable[[Mapping[str, Any]], dict[str, Any]] = lambda item: {}  # sizes read off the data
    # Config values fixed from the chosen ones before the config is built (files' digests).
    resolve: Callable[[Mapping[str, Any]], dict[str, Any]] = lambda chosen: dict(chosen)
    scoring: Mapping[str, Any] = field(default_factory=dict)  # how held-out figures are computed

    def scoring_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """The scoring options of ``[model]`` (``options``) over the spec's defaults, checked.

        Raises
        ------
        ConfigError
            When ``max_delay_s`` is not a number >= 0.
        """
        scoring = {**self.scoring, **{k: v for k, v in options.items() if k in self.scoring}}
        if "max_delay_s" not in scoring:
            return scoring
        delay = scoring["max_delay_s"]
        if isinstance(delay, bool) or not isinstance(delay, int | float) or not delay >= 0:
            raise ConfigError(f"max_delay_s must be a number of seconds >= 0, not {delay!r}")
        return {**scoring, "max_delay_s": float(delay)}

    def build(
        self, options: Mapping[str, Any], labels: LabelInfo, item: Mapping[str, Any] | None = None
    ) -> tuple[nn.Module, Any, dict[str, Any]]:
        """The network, its config (the paper's defaults, then what ``item``, an item of the
        training data, fixes, then ``options``) and the loss's options.

        Raises
        ------
        ConfigError
            On an unknown option or a bad value (or a file named by an option that cannot be
            read or no longer has its recorded digest).
        """
        known = {f.name for f in dataclasses.fields(self.config)}
        unknown = set(options) - known - set(self.loss_options) - set(self.scoring)
        if unknown:
            allowed = sorted(known | set(self.loss_options) | set(self.scoring))
            raise ConfigError(f"unknown {self.name} option(s) {sorted(unknown)}; known: {allowed}")
        sized = self.from_item(item) if item is not None else {}
        chosen = self.resolve({**sized, **{k: v for k, v in options.items() if k in known}})
        try:
            config = self.config(**chosen)
        except TypeError as exc:
            raise ConfigError(f"bad {self.name} config: {exc}") from exc
        loss_options = {**self.loss_options, **{k: v for k, v in options.items() if k in self.loss_options}}
        return self.network(config, labels), config, loss_options


def _logits(outputs: Mapping[str, torch.Tensor]) -> torch.Tensor:
    return outputs["logits"]


# --------------------------------------------------------------------------- AMCM


def _amcm_loss(options: Mapping[str, Any], labels: LabelInfo) -> LossFn:
    from emofeat.train.losses import fldw_loss, focal_loss

    kind = options["loss"]
    if kind not in ("fldw", "focal", "ce"):
        raise ConfigError(f"amcm's loss must be fldw, focal or ce, not {kind!r}")

    def loss(outputs: Mapping[str, torch.Tensor], batch: Mapping[str, Any], ctx: Context) -> torch.Tensor:
        logits, target = _logits(outputs).float(), batch["label"]
        if kind == "ce":
            return nn.functional.cross_entropy(logits, target, ignore_index=-1)
        if kind == "focal":
            return focal_loss(logits, target, gamma=2.0)
        return fldw_loss(logits, target, ctx.confusion, gamma=2.0)

    return loss


# --------------------------------------------------------------------------- GCSA


def _gcsa_target(batch: Mapping[str, Any]) -> torch.Tensor:
    """The window's label: the expression of the annotated frame nearest its middle where
    frames are labelled (Aff-Wild2), else the clip's label (-1 where neither is known)."""
    frames = batch.get("label.expression")
    if isinstance(frames, torch.Tensor) and frames.ndim == 2 and frames.shape[1]:
        frames = frames.long()
        middle = (frames.shape[1] - 1) / 2
        distance = (torch.arange(frames.shape[1], device=frames.device) - middle).abs()
        distance = torch.where(frames >= 0, distance, torch.inf)
        nearest = distance.argmin(dim=1)
        picked = frames.gather(1, nearest[:, None])[:, 0]
        return torch.where(picked >= 0, picked, batch["label"])
    return batch["label"]


def _gcsa_loss(options: Mapping[str, Any], labels: LabelInfo) -> LossFn:
    from emofeat.train.losses import coarse_fine_loss, quadrant_penalty

    coarse = torch.tensor(labels.quadrant or (-1,) * labels.n_classes, dtype=torch.long)
    penalty = quadrant_penalty(options["quadrant_penalty"])

    def loss(outputs: Mapping[str, torch.Tensor], batch: Mapping[str, Any], ctx: Context) -> torch.Tensor:
        target = _gcsa_target(batch)
        device = target.device
        return coarse_fine_loss(_logits(outputs).float(), target, coarse.to(device), penalty.to(device))

    return loss


# --------------------------------------------------------------------------- RALD


def _rald_resolve(chosen: Mapping[str, Any]) -> dict[str, Any]:
    """``label_vectors`` as an absolute path, with the file's SHA-256 (checked against
    ``label_vectors_sha256`` when that is given: a run judged again reads the same file)."""
    out = dict(chosen)
    path = out.get("label_vectors")
    if path is None:
        if out.get("label_vectors_sha256") is not None:
            raise ConfigError("rald: label_vectors_sha256 is given without label_vectors")
        return out
    if not isinstance(path, str | Path) or not str(path):
        raise ConfigError(f'rald: label_vectors must be a path ("PATH" in [model]), not {path!r}')
    resolved = Path(path).expanduser().resolve()
    digest = file_sha256(resolved)
    expected = out.get("label_vectors_sha256")
    if expected is not None and expected != digest:
        raise ConfigError(
            f"rald: label vector file {resolved} has SHA-256 {digest}, not the recorded {expected}: "
            "the file changed since the run was made"
        )
    out.update(label_vectors=str(resolved), label_vectors_sha256=digest)
    return out


def _rald_network(config: RaldConfig, labels: LabelInfo) -> Rald:
    """RALD, with the fixed label vectors of ``config.label_vectors`` read for the run's
    classes (in their order)."""
    if config.label_vectors is None:
        if config.label_encoder == "fixed":
            raise ConfigError(
                'rald: label_encoder = "fixed" needs [model] label_vectors = "PATH" (a local file)'
            )
        return Rald(config, labels.n_classes)
    vectors = read_label_vectors(config.label_vectors, labels.names, sha256=config.label_vectors_sha256)
    return Rald(config, labels.n_classes, label_vectors=torch.from_numpy(vectors))


def _rald_loss(options: Mapping[str, Any], labels: LabelInfo) -> LossFn:
    from emofeat.train.losses import kl_label_distribution, neighbour_distribution

    k = int(options["neighbours"])
    if not isinstance(options["nnldl"], bool):
        raise ConfigError(f"rald's nnldl must be true or false, not {options['nnldl']!r}")

    def loss(outputs: Mapping[str, torch.Tensor], batch: Mapping[str, Any], ctx: Context) -> torch.Tensor:
        logits, target = _logits(outputs).float(), batch["label"]
        ce = nn.functional.cross_entropy(logits, target, ignore_index=-1)
        if not options["nnldl"] or len(target) < 2 or "relation" not in outputs:
            return ce
        probs = torch.softmax(logits, dim=-1).detach()
        neighbours = neighbour_distribution(probs, outputs["relation"].float().detach(), k=k)
        # The paper's term is averaged over the N images and the C_f fine classes.
        return ce + kl_label_distribution(logits, neighbours) / logits.shape[1]

    return loss


# --------------------------------------------------------------------------- JDCDTL


def _jdcdtl_loss(options: Mapping[str, Any], labels: LabelInfo) -> LossFn:
    from emofeat.train.losses import contrastive_loss

    margin = float(options["margin"])

    def loss(outputs: Mapping[str, torch.Tensor], batch: Mapping[str, Any], ctx: Context) -> torch.Tensor:
        target = batch["label"]
        ce = nn.functional.cross_entropy(_logits(outputs).float(), target, ignore_index=-1)
        embedding = outputs.get("embedding")
        if embedding is None or len(target) < 2:
            return ce
        # Pairs of neighbouring items of the (shuffled) batch: same emotion or not.
        other = torch.roll(torch.arange(len(target), device=target.device), 1)
        same = target == target[other]
        return ce + contrastive_loss(embedding.float(), embedding[other].float(), same, margin=margin)

    return loss


# --------------------------------------------------------------------------- AlexAtt


def _alexatt_loss(options: Mapping[str, Any], labels: LabelInfo) -> LossFn:
    from emofeat.train.losses import modal_scaling_loss, rmse_loss

    def loss(outputs: Mapping[str, torch.Tensor], batch: Mapping[str, Any], ctx: Context) -> torch.Tensor:
        mask = batch["step_mask"]
        total = outputs["arousal"].new_zeros(())
        for name in ("arousal", "valence"):
            if name in batch:
                total = total + rmse_loss(outputs[name].float(), batch[name].float(), mask)
        return total + modal_scaling_loss(
            outputs["beta"].float(), batch["energy"].float(), batch["face_present"].float(), mask
        )

    return loss


SPECS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "amcm",
            "Shi et al., improved ConvMixer with dynamic-weight focal loss (AMCM + CMTAM + FLDW)",
            "clip",
            "classification",
            AmcmConfig,
            lambda config, labels: Amcm(config, labels.n_classes),
            _amcm_loss,
            TrainConfig(epochs=120, batch_size=8, lr=1e-4, optimizer="adam", lr_step_epochs=30, lr_gamma=0.1),
            {"frames": 16, "mfcc_frames": 300},
            loss_options={"loss": "fldw"},
            data={"augment": {"face": {"crop": 0.9, "flip": 0.0, "rotate": 10.0}}},  # crop, rotation
            from_item=lambda item: {"frames": item["face"].shape[0], "size": item["face"].shape[-1]},
        ),
        ModelSpec(
            "jdcdtl",
            "Joint deep cross-domain transfer learning for emotion recognition (arXiv 2003.11136)",
            "segment",
            "classification",
            JdcdtlConfig,
            lambda config, labels: Jdcdtl(config, labels.n_classes),
            _jdcdtl_loss,
            TrainConfig(epochs=50, batch_size=64, lr=1e-3, optimizer="adam"),
            loss_options={"margin": 1.0},
        ),
        ModelSpec(
            "rald",
            "Liu et al., relation awareness and label disambiguation for fine-grained expressions",
            "image",
            "classification",
            RaldConfig,
            _rald_network,
            _rald_loss,
            # The paper: lr 0.01, decayed every 100 epochs with a coefficient of 5e-3.
            TrainConfig(
                epochs=300,
                batch_size=128,
                lr=0.01,
                optimizer="sgd",
                momentum=0.9,
                lr_step_epochs=100,
                lr_gamma=0.005,
            ),
            loss_options={"neighbours": 5, "nnldl": True},
            resolve=_rald_resolve,
        ),
        ModelSpec(
            "gcsa",
            "Yu et al., global channel-spatial attention and proportional decision fusion (ABAW8)",
            "window",
            "classification",
            GcsaConfig,
            lambda config, labels: Gcsa(config, labels.n_classes),
            _gcsa_loss,
            # The paper: lr 1e-4, and 1e-3 for the weights of the speech and face decisions.
            TrainConfig(
                epochs=300,
                batch_size=16,
                lr=1e-4,
                optimizer="sgd",
                momentum=0.9,
                lr_groups={"modality_weights": 1e-3},
            ),
            {"seconds": 2.0, "frames": 8},
            loss_options={"quadrant_penalty": (0.5,) * 6},
            data={"augment": {"spectrogram": {}}},  # time and frequency masking
            target=_gcsa_target,
            frame_labels="label.expression",
        ),
        ModelSpec(
            "alexatt",
            "Improved AlexNet with multimodal attention for continuous emotion (RECOLA, AVEC 2016)",
            "step",
            "regression",
            AlexAttConfig,
            lambda config, labels: AlexAtt(config),
            _alexatt_loss,
            # The paper: 1000 epochs, SGD or Adam, initial lr 5e-4 (its batch of 150 counts faces).
            TrainConfig(epochs=1000, batch_size=8, lr=5e-4, optimizer="adam"),
            {"steps": 100},
            scoring={"max_delay_s": 8.0},
            from_item=lambda item: {"lld_dim": item["lld"].shape[-1], "face_size": item["face"].shape[-1]},
        ),
    )
}


def get_spec(name: str) -> ModelSpec:
    """The spec of model ``name``.

    Raises
    ------
    ConfigError
        For an unknown model.
    """
    if name not in SPECS:
        raise ConfigError(f"unknown model {name!r}; the models are: {', '.join(SPECS)}")
    return SPECS[name]
