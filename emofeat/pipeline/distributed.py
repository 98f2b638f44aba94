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

from typing import Any

from emofeat.errors import ConfigError
from emofeat.pipeline.batch import BatchJob, BatchResult, run_batch
from emofeat.pipeline.ingest import MapBatches


def map_dask(cluster: Any) -> MapBatches:
    """Batches on Dask: ``cluster`` is a ``distributed.Client`` or a scheduler address.

    Raises
    ------
    ConfigError
        When the ``distributed`` package is not installed.
    """
    try:
        from distributed import Client  # optional extra, imported only when asked for
    except ImportError as exc:
        raise ConfigError("running on Dask needs the extra: pip install 'emofeat[dask]'") from exc
    client = cluster if isinstance(cluster, Client) else Client(cluster)

    def run(jobs: list[BatchJob]) -> list[BatchResult]:
        futures = client.map(run_batch, jobs, pure=False)
        results: list[BatchResult] = client.gather(futures)
        return results

    return run
