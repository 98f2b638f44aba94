"""The normalisation-statistics flow (``emofeat-stats``): one Prefect task per corpus computes
its statistics, one task stores them all in one commit.

The work is :mod:`emofeat.data.stats` (``emofeat stats`` runs the same functions without
Prefect); ``flows/stats.py`` exposes the flow for deployments. Parameters and results stay
plain data.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from emofeat.data.stats import (
    GroupStats,
    commit_stats,
    compute_stats,
    open_pinned,
    plan_stats,
    stats_summary,
)
from emofeat.orchestration.forking import make_forks_exit_cleanly

make_forks_exit_cleanly()


@task(name="stats-plan", cache_policy=NO_CACHE, retries=0)
def plan_task(
    store: str, snapshot: str | None, corpus: str | None, feature_version: str | None
) -> tuple[str, list[tuple[str, str]]]:
    """The snapshot to read (resolved once) and the ``(corpus, feature_version)`` pairs."""
    pinned = open_pinned(store, snapshot)
    return pinned.snapshot, plan_stats(pinned, corpus, feature_version)


@task(name="stats-compute", cache_policy=NO_CACHE, retries=0)
def compute_task(
    store: str, snapshot: str, corpus: str, feature_version: str, keys: list[str] | None
) -> dict[str, GroupStats]:
    """The statistics of one corpus's feature version on ``snapshot``."""
    return compute_stats(open_pinned(store, snapshot), corpus, feature_version, keys)


@task(name="stats-commit", cache_policy=NO_CACHE, retries=0)
def commit_task(
    store: str, results: list[tuple[str, str, dict[str, GroupStats]]], computed_from: str
) -> str | None:
    """Store every corpus's statistics in one commit (``None`` when they are stored already)."""
    return commit_stats(store, {(c, fv): groups for c, fv, groups in results}, computed_from=computed_from)


@flow(name="emofeat-stats", log_prints=True, validate_parameters=False)
def stats_flow(
    store: str,
    snapshot: str | None = None,
    corpus: str | None = None,
    feature_version: str | None = None,
    keys: list[str] | None = None,
) -> dict[str, Any]:
    """Compute and store the normalisation statistics of ``corpus`` (default: every corpus)
    on ``snapshot`` (default: the tip of ``main``); returns the summary of
    :func:`emofeat.data.stats.stats`."""
    computed_from, targets = plan_task(store, snapshot, corpus, feature_version)
    futures = [(c, fv, compute_task.submit(store, computed_from, c, fv, keys)) for c, fv in targets]
    results = [(c, fv, future.result()) for c, fv, future in futures]
    new = commit_task(store, results, computed_from)
    return stats_summary(
        {(c, fv): groups for c, fv, groups in results}, computed_from=computed_from, snapshot=new
    )
