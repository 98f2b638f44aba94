"""The ingestion flow: one Prefect task per batch of clips, commits by the driver.

Run it from the CLI (``emofeat ingest``), from Python (``ingest_flow(...)``), or deploy it
with ``ingest_flow.serve(...)`` against a Prefect server. Batches run on Prefect's thread
pool by default; pass ``dask_address`` to run them on a Dask cluster (Prefect's Dask task
runner), where each worker loads its own face detector once.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from emofeat.config import FeatureConfig
from emofeat.errors import ConfigError
from emofeat.pipeline import BatchJob, BatchResult, RunOptions, ingest, run_batch

RUN = RunOptions()  # defaults


@task(name="ingest-batch", cache_policy=NO_CACHE, retries=0)
def process_batch(job: BatchJob) -> BatchResult:
    """One batch of clips (per-clip failures are rows of the result, not task failures)."""
    return run_batch(job)


def _map_with_prefect(jobs: list[BatchJob]) -> list[BatchResult]:
    futures = [process_batch.submit(job) for job in jobs]
    return [f.result() for f in futures]


@flow(name="emofeat-ingest", log_prints=True, validate_parameters=False)
def ingest_flow(
    corpus: str,
    source_dir: str,
    store: str,
    config: dict[str, Any] | None = None,
    batch_size: int = RUN.batch_size,
    checkpoint_every: int = RUN.checkpoint_every,
    workers: int = RUN.workers,
    retry_failed: bool = False,
    folds: int = RUN.folds,
) -> dict[str, Any]:
    """Ingest ``corpus`` from ``source_dir`` into the store at ``store``; returns the summary."""
    options = RunOptions(batch_size, checkpoint_every, workers, retry_failed, folds)
    summary = ingest(
        corpus,
        source_dir,
        store,
        FeatureConfig.from_dict(config or {}),
        options,
        map_batches=_map_with_prefect,
    )
    return summary.to_dict()


def run_ingest_flow(
    corpus: str,
    source_dir: str,
    store: str,
    config: FeatureConfig | None = None,
    options: RunOptions | None = None,
    dask_address: str | None = None,
) -> dict[str, Any]:
    """Run :func:`ingest_flow` with a task runner sized by ``options.workers``.

    ``dask_address`` (``tcp://host:8786``) sends the batches to an existing Dask cluster.
    """
    options = options or RunOptions()
    if dask_address:
        try:
            from prefect_dask import DaskTaskRunner  # optional extra: emofeat[dask]
        except ImportError as exc:
            raise ConfigError("running on Dask needs the extra: pip install 'emofeat[dask]'") from exc
        runner: Any = DaskTaskRunner(address=dask_address)
    else:
        runner = ThreadPoolTaskRunner(max_workers=options.workers)
    configured = ingest_flow.with_options(task_runner=runner)
    result: dict[str, Any] = configured(
        corpus,
        source_dir,
        store,
        (config or FeatureConfig()).to_dict(),
        options.batch_size,
        options.checkpoint_every,
        options.workers,
        options.retry_failed,
        options.folds,
    )
    return result
