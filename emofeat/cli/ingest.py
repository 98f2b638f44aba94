"""``emofeat ingest``: choose the engine, run, return the summary as plain data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emofeat.config import FeatureConfig
from emofeat.corpora import get_adapter
from emofeat.corpora.base import check_root
from emofeat.errors import ConfigError, NotFoundError
from emofeat.pipeline import RunOptions, ingest
from emofeat.pipeline.audio_features import audio_cost
from emofeat.pipeline.distributed import map_dask
from emofeat.pipeline.ingest import plan_run, summarise_ignored
from emofeat.pipeline.progress import NO_PROGRESS, Progress
from emofeat.store import open_repo

ENGINES = ("prefect", "local")


def run_ingest(
    corpus: str,
    source_dir: Path,
    store: str | Path,
    config: FeatureConfig,
    options: RunOptions,
    engine: str,
    dask: str | None,
    dry_run: bool,
    progress: Progress = NO_PROGRESS,
) -> dict[str, Any]:
    """Run (or, with ``dry_run``, only plan) an ingestion and return its summary.

    Raises
    ------
    EmofeatError
        When the run cannot proceed (unknown corpus or engine, unreadable root, store error).
    """
    if engine not in ENGINES:
        raise ConfigError(f"--engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    # Fail fast, before any flow starts, on what would stop the run anyway.
    get_adapter(corpus)
    check_root(source_dir)
    if dry_run:
        return dry_run_plan(corpus, source_dir, store, config, options, progress)
    if engine == "local":
        mapper = map_dask(dask) if dask else None
        return ingest(
            corpus, source_dir, store, config, options, map_batches=mapper, progress=progress
        ).to_dict()
    # Prefect is heavy to import (and its settings apply on first import): only when used.
    from emofeat.orchestration.prefect_flow import run_ingest_flow

    return run_ingest_flow(corpus, str(source_dir), str(store), config, options, dask, progress=progress)


def dry_run_plan(
    corpus: str,
    source_dir: Path,
    store: str | Path,
    config: FeatureConfig,
    options: RunOptions,
    progress: Progress = NO_PROGRESS,
) -> dict[str, Any]:
    """What a run would do: clips to process, clips already stored, files ignored (per reason),
    and what this config's audio arrays cost on this machine (ms per second of audio)."""
    try:
        repo = open_repo(store)
    except NotFoundError:  # no store yet: everything is to do
        repo = None
    run = plan_run(corpus, source_dir, config, options, repo, progress=progress)
    return {
        "dry_run": True,
        "corpus": corpus,
        "feature_version": run.feature_version,
        "clips": {"todo": len(run.plan.todo), "skipped": len(run.plan.done)},
        "ignored": summarise_ignored(run.manifest.skipped),
        # Measured now, on this machine: what this config's audio arrays cost per s of audio.
        "audio_cost_ms_per_s": audio_cost(config.audio),
    }
