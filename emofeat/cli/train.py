"""``emofeat train`` and ``emofeat evaluate``: read the run's config file, plan, run."""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from emofeat.errors import ConfigError
from emofeat.train.protocols import get_protocol
from emofeat.train.run import plan_run, run

SECTIONS = ("model", "train", "view", "data")


def read_config(path: Path | None) -> dict[str, dict[str, Any]]:
    """A training config file: TOML tables ``[model]`` (the model's options), ``[train]``
    (optimiser and schedule), ``[view]`` (the view's options) and ``[data]`` (``normalize``:
    a statistics group such as ``"train"``; ``augment``: ``face`` / ``spectrogram`` tables).

    Raises
    ------
    ConfigError
        When the file is unreadable or has another table.
    """
    if path is None:
        return {s: {} for s in SECTIONS}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read training config {path}: {exc}") from exc
    unknown = set(data) - set(SECTIONS)
    if unknown:
        raise ConfigError(f"unknown table(s) {sorted(unknown)} in {path}; known: {', '.join(SECTIONS)}")
    return {s: dict(data.get(s, {})) for s in SECTIONS}


def run_train(
    model: str | None,
    store: str | Path,
    *,
    snapshot: str | None,
    corpora: list[str],
    fold: int | None,
    epochs: int | None,
    config: Path | None,
    out: Path,
    protocol: str | None,
    resume: bool,
    overrides: dict[str, Any],
) -> dict[str, Any]:
    """Plan and run one training run; returns its metrics record.

    Raises
    ------
    ConfigError
        On a bad model, protocol, config or output directory.
    """
    chosen = get_protocol(protocol) if protocol else None
    name = model or (chosen.model if chosen else None)
    if name is None:
        raise ConfigError("name a model (amcm, jdcdtl, rald, gcsa, alexatt) or a --protocol")
    sections = read_config(config)
    train = {**sections["train"], **{k: v for k, v in overrides.items() if v is not None}}
    if epochs is not None:
        train["epochs"] = epochs
    plan = plan_run(
        name,
        store,
        corpora=corpora,
        snapshot=snapshot,
        fold=fold,
        protocol=chosen,
        model_options=sections["model"],
        view_options=sections["view"],
        train=train,
        data=sections["data"],
    )
    with _progress(plan.train.epochs) as progress:
        return run(plan, out, resume=resume, reported=chosen.reported if chosen else None, progress=progress)


@contextmanager
def _progress(epochs: int) -> Iterator[Callable[[int, int, int, float], None]]:
    """A live bar on a terminal (stderr), else one line when each epoch ends."""
    if not sys.stderr.isatty():

        def line(epoch: int, done: int, total: int, loss: float) -> None:
            if done >= total:
                print(f"epoch {epoch + 1}/{epochs}: {done} items, train loss {loss:.4f}", file=sys.stderr)

        yield line
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TimeRemainingColumn(), transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task("training", total=None)

        def update(epoch: int, done: int, total: int, loss: float) -> None:
            bar.update(
                task, completed=done, total=total, description=f"epoch {epoch + 1}/{epochs} loss {loss:.4f}"
            )

        yield update
