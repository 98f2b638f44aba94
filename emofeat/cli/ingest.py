"""``emofeat ingest``: choose the engine, run, return the summary as plain data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emofeat.config import FeatureConfig, feature_version_id
from emofeat.corpora import get_adapter
from emofeat.corpora.base import check_root
from emofeat.errors import ConfigError, NotFoundError
from emofeat.pipeline import RunOptions, ingest
from emofeat.pipeline.batch import detector_for
from emofeat.pipeline.distributed import map_dask
from emofeat.pipeline.plan import make_plan
from emofeat.store import BRANCH, open_repo, read_ledger, read_root
from emofeat.store.tables import LEDGER_SCHEMA, empty_table

ENGINES = ("prefect", "local")


def run_ingest(
    corpus: str,
    source_dir: Path,
    store: Path,
    config: FeatureConfig,
    options: RunOptions,
    engine: str,
    dask: str | None,
    dry_run: bool,
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
        return dry_run_plan(corpus, source_dir, store, config, options)
    if engine == "local":
        mapper = map_dask(dask) if dask else None
        return ingest(corpus, source_dir, store, config, options, map_batches=mapper).to_dict()
    from flows.ingest import run_ingest_flow  # Prefect is heavy to import: only when used

    return run_ingest_flow(corpus, str(source_dir), str(store), config, options, dask)


def dry_run_plan(
    corpus: str, source_dir: Path, store: Path, config: FeatureConfig, options: RunOptions
) -> dict[str, Any]:
    """What a run would do: clips to process, clips already stored, files ignored."""
    manifest = get_adapter(corpus).scan(source_dir)
    detector = detector_for(config.faces)
    fv = feature_version_id(config, {detector.name: detector.weights_sha256})
    try:
        repo = open_repo(store)
    except NotFoundError:  # no store yet: everything is to do
        ledger = empty_table(LEDGER_SCHEMA)
    else:
        ledger = read_ledger(read_root(repo.readonly_session(branch=BRANCH).store), corpus, fv)
    plan = make_plan(manifest, ledger, retry_failed=options.retry_failed, workers=options.workers)
    return {
        "dry_run": True,
        "corpus": corpus,
        "feature_version": fv,
        "clips": {"todo": len(plan.todo), "skipped": len(plan.done)},
        "ignored": [{"source": s.source, "reason": s.reason} for s in manifest.skipped],
    }
