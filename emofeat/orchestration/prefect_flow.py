"""The ingestion flow: one Prefect task per batch of clips, commits by the driver.

The CLI runs it in-process (:func:`run_ingest_flow`); ``flows/ingest.py`` exposes it for
deployments (``ingest_flow.serve(...)`` against a Prefect server). Batches run on Prefect's
thread pool by default; ``dask_address`` runs them on a Dask cluster (Prefect's Dask task
runner), where each worker loads its own face detector once. On the thread pool each task
hands its batch to a supervised worker process (:mod:`emofeat.pipeline.workers`) unless the
flow's ``isolate`` is false; on Dask the task runs the batch itself (Dask replaces a worker
that dies and runs its task again).

Flow parameters stay plain data (a deployment serialises them). A caller's
:class:`~emofeat.pipeline.progress.Progress` reaches the library call through a context
variable that :func:`run_ingest_flow` sets around the in-process flow run; a deployed run
sees the no-op default.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.settings import get_current_settings
from prefect.task_runners import ThreadPoolTaskRunner

from emofeat.config import FeatureConfig
from emofeat.errors import ConfigError
from emofeat.orchestration import context
from emofeat.orchestration.forking import make_forks_exit_cleanly
from emofeat.pipeline import BatchJob, BatchResult, MapBatches, RunOptions, ingest, run_batch, stopping
from emofeat.pipeline.progress import NO_PROGRESS, SERVER, Progress
from emofeat.pipeline.window import rolling
from emofeat.pipeline.workers import run_isolated

make_forks_exit_cleanly()

RUN = RunOptions()  # defaults


@task(name="ingest-batch", cache_policy=NO_CACHE, retries=0)
def process_batch(job: BatchJob, isolate: bool = True) -> BatchResult:
    """One batch of clips (per-clip failures are rows of the result, not task failures); with
    ``isolate``, in a supervised worker process (a clip that kills it is a ``worker_died`` row)."""
    return run_isolated(job) if isolate else run_batch(job)


def _map_with_prefect(isolate: bool, workers: int) -> MapBatches:
    """Batches as Prefect tasks, ``workers`` at once in a rolling window (one more queued)."""

    def run(jobs: Iterable[BatchJob]) -> Iterator[BatchResult]:
        yield from rolling(
            jobs,
            workers + 1,
            lambda job: process_batch.submit(job, isolate),
            lambda pending: {next(as_completed(list(pending)))},
            lambda future: future.result(),
        )

    return run


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
    max_megapixels: float = RUN.max_megapixels,
    name: str | None = None,
    root_moved: bool = False,
    isolate: bool = RUN.isolate,
) -> dict[str, Any]:
    """Ingest ``corpus`` from ``source_dir`` into the store at ``store``; returns the summary."""
    options = RunOptions(
        batch_size,
        checkpoint_every,
        workers,
        retry_failed,
        folds,
        max_megapixels,
        name,
        root_moved,
        isolate,
    )
    # Prefect's engine swaps in its own SIGTERM handler (it raises wherever the main thread
    # is, a commit included): the CLI's handlers stop the run between batches instead.
    with stopping.keep_stop_handlers():
        summary = ingest(
            corpus,
            source_dir,
            store,
            FeatureConfig.from_dict(config or {}),
            options,
            map_batches=_map_with_prefect(isolate, workers),
            progress=context.current_progress.get(),
        )
    return summary.to_dict()


def start_server(progress: Progress = NO_PROGRESS) -> None:
    """Start Prefect's temporary server now, reported as the ``"server"`` phase, when no
    Prefect API is configured (``PREFECT_API_URL``); otherwise do nothing.

    The flow's first call would start the same server (one per process) silently.

    Raises
    ------
    RuntimeError
        When the server does not answer within
        ``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS``.
    """
    settings = get_current_settings()
    if settings.api.url or not settings.server.ephemeral.enabled:
        return
    # The server app is heavy to import: only when a temporary server is needed (as Prefect does).
    from emofeat.orchestration.server import start_temporary_server

    progress.phase(SERVER, None)
    start_temporary_server()  # in its own process group, killed if this process dies


def run_ingest_flow(
    corpus: str,
    source_dir: str,
    store: str,
    config: FeatureConfig | None = None,
    options: RunOptions | None = None,
    dask_address: str | None = None,
    *,
    progress: Progress = NO_PROGRESS,
) -> dict[str, Any]:
    """Run :func:`ingest_flow` in-process with a task runner sized by ``options.workers``.

    ``dask_address`` (``tcp://host:8786``) sends the batches to an existing Dask cluster
    (where ``options.isolate`` does not apply: a Dask worker runs its batches itself).
    ``progress`` sees the server start (when a temporary server is needed) and every phase
    and checkpoint of the run.

    Raises
    ------
    ConfigError
        When ``dask_address`` is given and the ``dask`` extra is not installed.
    RunInterrupted
        When a stop was requested (see :mod:`emofeat.pipeline.stopping`).
    EmofeatError
        When the run cannot proceed (see :func:`emofeat.pipeline.ingest`).
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
    start_server(progress)
    stopping.check()
    token = context.current_progress.set(progress)
    try:
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
            options.max_megapixels,
            options.name,
            options.root_moved,
            options.isolate and not dask_address,
        )
    finally:
        context.current_progress.reset(token)
    return result
