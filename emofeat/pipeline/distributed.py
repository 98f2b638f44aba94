"""Running batches on a Dask cluster (the ``dask`` extra: ``pip install emofeat[dask]``).

Each batch job pickles (its icechunk fork session included) to a worker process, which loads
its own face detector once, writes its part into the fork and sends the fork back; the
driver merges the forks and commits. On several machines the store must live on storage
every worker can reach.

Here the Dask worker runs :func:`~emofeat.pipeline.batch.run_batch` itself, not in a
supervised child process (:mod:`emofeat.pipeline.workers`, ``RunOptions.isolate`` does not
apply): Dask's worker processes are daemonic and may not start children, and Dask already
supervises them: a worker that dies (a native crash, the OOM killer) is replaced and its
task runs again elsewhere, up to ``distributed.scheduler.allowed-failures`` times, after
which the run fails with Dask's ``KilledWorker``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from emofeat.errors import ConfigError
from emofeat.pipeline.batch import BatchJob, BatchResult, run_batch
from emofeat.pipeline.ingest import MapBatches
from emofeat.pipeline.window import rolling


def map_dask(cluster: Any, width: int | None = None) -> MapBatches:
    """Batches on Dask: ``cluster`` is a ``distributed.Client`` or a scheduler address.

    ``width`` batches are in flight at once, in a rolling window (default: one per worker
    thread of the cluster, plus one queued); each result comes back as soon as it is done.

    Raises
    ------
    ConfigError
        When the ``distributed`` package is not installed.
    """
    try:
        from distributed import Client, wait  # optional extra, imported only when asked for
    except ImportError as exc:
        raise ConfigError("running on Dask needs the extra: pip install 'emofeat[dask]'") from exc
    client = cluster if isinstance(cluster, Client) else Client(cluster)

    def run(jobs: Iterable[BatchJob]) -> Iterator[BatchResult]:
        threads = sum(client.nthreads().values()) or 1
        yield from rolling(
            jobs,
            width or threads + 1,
            lambda job: client.submit(run_batch, job, pure=False),
            lambda pending: set(wait(list(pending), return_when="FIRST_COMPLETED").done),
            lambda future: future.result(),
        )

    return run
