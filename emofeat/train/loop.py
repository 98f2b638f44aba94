"""A plain PyTorch training loop: seeded, resumable mid-epoch, CUDA with mixed precision when
present and the CPU otherwise.

One loop serves the five models: what differs (the view, the loss, the targets, the metrics)
comes from the model's :class:`~emofeat.train.specs.ModelSpec`. Each epoch ends with a
checkpoint (``last.pt``) holding the weights, the optimiser, the epoch, the items of it
already consumed, the sampler's state, the RNG state and the previous epoch's confusion
matrix (which the FLDW loss reads); ``checkpoint_every`` adds mid-epoch checkpoints. A run
resumed from a checkpoint continues with exactly the items and random numbers it would have
seen: on the CPU, a resumed run equals an uninterrupted one bit for bit. Checkpoints hold
tensors and plain data only, so ``torch.load(path, weights_only=True)`` reads them.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from emofeat.data import EpochSampler, FeatureDataset, collate, worker_init_fn
from emofeat.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """The optimiser and schedule (each model's spec has the paper's values as defaults)."""

    epochs: int = 1
    batch_size: int = 8
    lr: float = 1e-4
    optimizer: str = "adam"  # adam | sgd
    momentum: float = 0.9
    weight_decay: float = 0.0
    lr_step_epochs: int | None = None  # multiply the lr by lr_gamma every this many epochs (0: never)
    lr_gamma: float = 0.1
    # Named parameter groups of the model (its ``parameter_groups()``) with their own lr.
    lr_groups: Mapping[str, float] = field(default_factory=dict)
    seed: int = 0
    workers: int = 0
    device: str = "auto"  # auto | cpu | cuda
    amp: bool | None = None  # None: on CUDA only
    checkpoint_every: int = 0  # steps between mid-epoch checkpoints (0: at epoch ends only)
    max_steps: int | None = None  # per epoch (smoke runs)

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or not self.lr > 0:
            raise ConfigError("training needs epochs >= 1, batch_size >= 1 and lr > 0")
        if self.optimizer not in ("adam", "sgd"):
            raise ConfigError(f"optimizer must be adam or sgd, not {self.optimizer!r}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ConfigError(f"device must be auto, cpu or cuda, not {self.device!r}")
        if self.lr_step_epochs is not None and self.lr_step_epochs < 0:
            raise ConfigError(f"lr_step_epochs must be at least 0 (0: no decay), not {self.lr_step_epochs}")
        if not self.lr_gamma > 0:
            raise ConfigError(f"lr_gamma must be positive, not {self.lr_gamma}")
        if not isinstance(self.lr_groups, Mapping):
            raise ConfigError(f"lr_groups must be a table of group name = lr, not {self.lr_groups!r}")
        for name, lr in self.lr_groups.items():
            if isinstance(lr, bool) or not isinstance(lr, int | float) or not lr > 0:
                raise ConfigError(f"lr_groups.{name} must be a positive learning rate, not {lr!r}")
        object.__setattr__(self, "lr_groups", {str(k): float(v) for k, v in self.lr_groups.items()})

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


@dataclass
class Context:
    """What a loss may read besides the batch: the epoch and the previous epoch's confusion
    matrix of the training predictions (rows = true class), None in the first epoch."""

    epoch: int = 0
    confusion: torch.Tensor | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def pick_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device cuda was asked for, but torch sees no CUDA device")
    return torch.device("cuda" if name in ("auto", "cuda") and torch.cuda.is_available() else "cpu")


def to_device(batch: Mapping[str, Any], device: torch.device) -> dict[str, Any]:
    return {
        k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()
    }


LossFn = Callable[[Mapping[str, torch.Tensor], Mapping[str, Any], Context], torch.Tensor]
StepHook = Callable[[Mapping[str, torch.Tensor], Mapping[str, Any]], None]


class Trainer:
    """Trains ``model`` on ``dataset`` with ``loss``; :meth:`fit` runs the epochs, calling
    ``on_epoch(epoch, trainer)`` after each (evaluation, reports) before its checkpoint."""

    def __init__(
        self,
        model: nn.Module,
        dataset: FeatureDataset,
        loss: LossFn,
        config: TrainConfig,
        out: Path,
        *,
        confusion_of: Callable[
            [Mapping[str, torch.Tensor], Mapping[str, Any]], tuple[torch.Tensor, torch.Tensor]
        ]
        | None = None,
        n_classes: int = 0,
        record: Mapping[str, Any] | None = None,
        progress: Callable[[int, int, int, float], None] | None = None,
    ):
        self.model, self.dataset, self.loss, self.config, self.out = model, dataset, loss, config, out
        self.device = pick_device(config.device)
        self.amp = config.amp if config.amp is not None else self.device.type == "cuda"
        self.model.to(self.device)
        self.optimizer = make_optimizer(model, config)
        self.scheduler = make_scheduler(self.optimizer, config)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp and self.device.type == "cuda")
        self.sampler = EpochSampler(dataset, seed=config.seed)
        self.context = Context()
        self.confusion_of, self.n_classes = confusion_of, n_classes
        self.record = dict(record or {})
        self.progress = progress  # (epoch, items done, items in the epoch, running loss)
        self.history: list[dict[str, Any]] = []
        self.epoch, self.consumed, self.steps = 0, 0, 0
        self.running: dict[str, Any] = {}  # the epoch so far: loss sum, items, confusion
        self.step_time = {"data": 0.0, "compute": 0.0}

    # ------------------------------------------------------------------ checkpoints

    def state(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler else {},
            "scaler": self.scaler.state_dict(),
            "epoch": self.epoch,
            "consumed": self.consumed,
            "sampler": self.sampler.state_dict(consumed=self.consumed),
            "rng": torch.get_rng_state(),
            "confusion": self.context.confusion,
            "running": dict(self.running),
            "history": self.history,
            "record": self.record,
        }

    def save(self, name: str = "last.pt") -> Path:
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / name
        tmp = path.with_name(path.name + ".tmp")
        torch.save(self.state(), tmp)
        tmp.replace(path)
        return path

    def load(self, path: Path) -> None:
        """Resume from a checkpoint of this run (same model, data and config).

        Raises
        ------
        ConfigError
            When the checkpoint is of another dataset or sampler.
        """
        state = torch.load(path, map_location=self.device, weights_only=True)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler and state["scheduler"]:
            self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        self.epoch, self.consumed = int(state["epoch"]), int(state["consumed"])
        self.sampler.load_state_dict(state["sampler"])
        torch.set_rng_state(state["rng"].cpu())
        self.context.confusion = state["confusion"]
        self.running = dict(state["running"])
        self.history = list(state["history"])

    # ------------------------------------------------------------------ training

    def batches(self) -> Iterator[dict[str, Any]]:
        """The rest of the current epoch's batches (from the sampler's position)."""
        loader = DataLoader(
            self.dataset,
            batch_size=self.config.batch_size,
            sampler=self.sampler,
            num_workers=self.config.workers,
            collate_fn=collate,
            worker_init_fn=worker_init_fn,
            pin_memory=self.device.type == "cuda",
            drop_last=len(self.dataset) > self.config.batch_size,  # no batch of one for batch norm
            # Its own generator: making an iterator then draws nothing from the global RNG, so a
            # run resumed mid-epoch draws the same dropout masks as one never interrupted.
            generator=torch.Generator().manual_seed(self.config.seed * 100_003 + self.epoch),
        )
        yield from loader

    def train_epoch(self) -> dict[str, float]:
        self.model.train()
        self.context.epoch = self.epoch
        self.dataset.set_epoch(self.epoch)
        if not self.running:
            self.running = {
                "total": 0.0,
                "count": 0,
                "confusion": torch.zeros(self.n_classes, self.n_classes, dtype=torch.int64),
            }
        running = self.running
        started = time.perf_counter()
        fetched = started
        for batch in self.batches():
            ready = time.perf_counter()
            self.step_time["data"] += ready - fetched
            batch = to_device(batch, self.device)
            with torch.autocast(self.device.type, enabled=self.amp):
                outputs = self.model(batch)
                loss = self.loss(outputs, batch, self.context)
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
            n = len(batch["index"])
            running["total"] += float(loss.detach()) * n
            running["count"] += n
            self.consumed += n
            self.steps += 1
            if self.n_classes and self.confusion_of is not None:
                pred, target = self.confusion_of(outputs, batch)
                keep = target >= 0
                flat = target[keep].cpu() * self.n_classes + pred[keep].cpu()
                running["confusion"] += torch.bincount(flat, minlength=self.n_classes**2).view(
                    self.n_classes, -1
                )
            fetched = time.perf_counter()
            self.step_time["compute"] += fetched - ready
            if self.progress is not None:
                self.progress(
                    self.epoch, self.consumed, len(self.sampler), running["total"] / running["count"]
                )
            if self.config.checkpoint_every and self.steps % self.config.checkpoint_every == 0:
                self.save()
            if self.config.max_steps and self.steps >= self.config.max_steps:
                break
        self.context.confusion = running["confusion"] if self.n_classes else None
        self.running = {}
        count = int(running["count"])
        if self.progress is not None:  # the epoch is done (drop_last may leave items unread)
            self.progress(
                self.epoch, len(self.sampler), len(self.sampler), float(running["total"]) / max(count, 1)
            )
        return {
            "train_loss": float(running["total"]) / max(count, 1),
            "train_items": count,
            "seconds": time.perf_counter() - started,
        }

    def fit(self, on_epoch: Callable[[int, Trainer], dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        """Run the remaining epochs (all, or those after a loaded checkpoint)."""
        while self.epoch < self.config.epochs:
            if self.consumed == 0:
                self.sampler.set_epoch(self.epoch)
            self.steps = 0
            figures = self.train_epoch()
            if self.scheduler:
                self.scheduler.step()
            figures["lr"] = float(self.optimizer.param_groups[0]["lr"])
            if on_epoch is not None:
                figures.update(on_epoch(self.epoch, self))
            self.history.append({"epoch": self.epoch, **figures})
            log.info("epoch %d: %s", self.epoch, figures)
            self.epoch, self.consumed = self.epoch + 1, 0
            self.sampler.set_epoch(self.epoch)
            self.save()
        return self.history


def parameter_groups(model: nn.Module, config: TrainConfig) -> list[dict[str, Any]]:
    """The optimiser's parameter groups: first every trainable parameter at ``config.lr``,
    then each group that ``config.lr_groups`` names, at its own lr.

    A model declares its named groups with a ``parameter_groups()`` method returning
    ``{name: [parameters]}``; a declared group may be empty (a model built without them),
    and then it adds nothing. A parameter of a named group is not in the first group.

    Raises
    ------
    ConfigError
        When ``lr_groups`` names a group the model does not declare, or two groups share a
        parameter.
    """
    declare = getattr(model, "parameter_groups", None)
    declared: Mapping[str, list[nn.Parameter]] = declare() if callable(declare) else {}
    unknown = sorted(set(config.lr_groups) - set(declared))
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        raise ConfigError(
            f"[train] lr_groups names {unknown}, which {type(model).__name__} does not declare "
            f"(its parameter groups: {known})"
        )
    taken: set[int] = set()
    named: list[dict[str, Any]] = []
    for name, lr in config.lr_groups.items():
        params = [p for p in declared[name] if p.requires_grad]
        if any(id(p) in taken for p in params):
            raise ConfigError(f"[train] lr_groups: group {name!r} shares parameters with another group")
        taken.update(id(p) for p in params)
        if params:
            named.append({"params": params, "lr": lr, "name": name})
    rest = [p for p in model.parameters() if p.requires_grad and id(p) not in taken]
    return [{"params": rest, "lr": config.lr, "name": "default"}, *named]


def make_scheduler(
    optimizer: torch.optim.Optimizer, config: TrainConfig
) -> torch.optim.lr_scheduler.StepLR | None:
    """The step decay of ``config``: every ``lr_step_epochs`` epochs each group's lr is
    multiplied by ``lr_gamma`` (the loop steps it once an epoch); None without a decay."""
    if not config.lr_step_epochs:
        return None
    return torch.optim.lr_scheduler.StepLR(optimizer, config.lr_step_epochs, config.lr_gamma)


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """SGD (with ``momentum``) or Adam over :func:`parameter_groups`.

    Raises
    ------
    ConfigError
        As :func:`parameter_groups`.
    """
    groups = parameter_groups(model, config)
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            groups, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    return torch.optim.Adam(groups, lr=config.lr, weight_decay=config.weight_decay)


@torch.no_grad()
def predict(
    model: nn.Module, dataset: FeatureDataset, batch_size: int, device: torch.device, workers: int = 0
) -> Iterator[tuple[dict[str, torch.Tensor], dict[str, Any]]]:
    """The model's outputs on every item of ``dataset`` in order, batch by batch (on the CPU)."""
    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=workers, collate_fn=collate)
    for batch in loader:
        outputs = model(to_device(batch, device))
        yield {k: v.float().cpu() for k, v in outputs.items()}, batch
