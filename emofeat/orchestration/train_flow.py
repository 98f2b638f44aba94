"""The training flow (``emofeat-train``): every fold of a protocol, one Prefect task per fold.

The work is :mod:`emofeat.train.run` (``emofeat train`` runs one fold without Prefect);
``flows/train.py`` exposes the flow for deployments. The snapshot is resolved once, so every
fold reads the same data; folds run one after the other (each uses every core it is given).
Parameters and results stay plain data.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from emofeat.orchestration.forking import make_forks_exit_cleanly
from emofeat.store import open_store
from emofeat.train.protocols import get_protocol
from emofeat.train.run import corpus_folds, plan_run, run

make_forks_exit_cleanly()


@task(name="train-fold", cache_policy=NO_CACHE, retries=0)
def fold_task(
    protocol: str,
    store: str,
    snapshot: str,
    fold: int | None,
    out: str,
    train: dict[str, Any],
    model_options: dict[str, Any],
    view_options: dict[str, Any],
) -> dict[str, Any]:
    """Train and judge one fold (or the one split) of ``protocol``; its metrics record."""
    chosen = get_protocol(protocol)
    plan = plan_run(
        chosen.model,
        store,
        corpora=chosen.corpora,
        snapshot=snapshot,
        fold=fold,
        protocol=chosen,
        train=train,
        model_options=model_options,
        view_options=view_options,
    )
    return run(plan, out, resume=Path(out, "last.pt").exists(), reported=chosen.reported)


@flow(name="emofeat-train", log_prints=True, validate_parameters=False)
def train_flow(
    protocol: str,
    store: str,
    out: str,
    snapshot: str | None = None,
    train: dict[str, Any] | None = None,
    model_options: dict[str, Any] | None = None,
    view_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run every fold of ``protocol`` (or its one split) on ``snapshot`` (default: the tip of
    ``main``, resolved once) into ``out/fold-<k>`` (or ``out/split``); returns each fold's
    figures, their mean and the paper's. A fold already finished is resumed, not redone."""
    chosen = get_protocol(protocol)
    pinned = open_store(store, None if snapshot in (None, "latest") else snapshot).snapshot
    folds: Sequence[int | None] = [None]
    if chosen.scheme == "folds":
        folds = corpus_folds(open_store(store, pinned), chosen.corpora)
    results = []
    for fold in folds:
        where = str(Path(out) / (f"fold-{fold}" if fold is not None else "split"))
        results.append(
            fold_task(
                protocol,
                store,
                pinned,
                fold,
                where,
                dict(train or {}),
                dict(model_options or {}),
                dict(view_options or {}),
            )
        )
    metrics = [r["metrics"] for r in results]
    keys = sorted({k for f in metrics for k, v in f.items() if isinstance(v, float)})
    mean = {k: float(np.mean([f[k] for f in metrics if k in f])) for k in keys}
    return {
        "protocol": protocol,
        "snapshot": pinned,
        "folds": metrics,
        "mean": mean,
        "reported": chosen.reported,
    }
