"""Session-wide test setup: offline Prefect settings, one corpus build and ingestion per session."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Before anything imports Prefect: an isolated home, no telemetry, a generous start-up
# timeout for the temporary server (started at most once per test session).
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="emofeat-prefect-"))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
from flows import settings

settings.apply()

import pytest  # noqa: E402

from emofeat.pipeline import RunOptions, ingest  # noqa: E402
from tests.corpusgen import Corpus, Ingested, build_ravdess  # noqa: E402
from tests.twocorpora import RECOLA_CONFIG, TwoCorpora, build_recola  # noqa: E402


@pytest.fixture(scope="session")
def ravdess(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return build_ravdess(tmp_path_factory.mktemp("corpus") / "RAVDESS")


@pytest.fixture(scope="session")
def ravdess_ingested(ravdess: Corpus, tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    store = tmp_path_factory.mktemp("stores") / "ravdess"
    options = RunOptions(batch_size=2, checkpoint_every=2, workers=2)
    first = ingest("ravdess", ravdess.root, store, options=options)
    second = ingest("ravdess", ravdess.root, store, options=options)
    return Ingested(store, first, second)


@pytest.fixture(scope="session")
def two_corpora(ravdess_ingested: Ingested, tmp_path_factory: pytest.TempPathFactory) -> TwoCorpora:
    """The session's RAVDESS store plus two RECOLA sessions (see :mod:`tests.twocorpora`)."""
    base = tmp_path_factory.mktemp("two-corpora")
    store = base / "store"
    shutil.copytree(ravdess_ingested.store, store)
    build_recola(base / "recola")
    summary = ingest("recola", base / "recola", store, RECOLA_CONFIG, RunOptions(workers=1))
    assert summary.clips["ok"] == 2, summary.failures
    return TwoCorpora(store, base / "cache")


@pytest.fixture
def cache_env(two_corpora: TwoCorpora, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The decoded cache of the session's two-corpora store (tests share it: they only read)."""
    monkeypatch.setenv("EMOFEAT_CACHE_DIR", str(two_corpora.cache))
    return two_corpora.cache


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """One Prefect API server for the whole session, shared by this process and Dask workers.

    Without it every process that runs a flow or task starts its own temporary server
    (15-20 s each here).
    """
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, temporary_settings

    server = SubprocessASGIServer()
    server.start(timeout=180)
    os.environ["PREFECT_API_URL"] = server.api_url  # inherited by worker processes
    try:
        with temporary_settings({PREFECT_API_URL: server.api_url}):
            yield server.api_url
    finally:
        del os.environ["PREFECT_API_URL"]
        server.stop()


@pytest.fixture(scope="session")
def dask_client(prefect_api: str) -> Iterator[Any]:
    """A real local Dask cluster: two worker processes, one thread each."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    )
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


# icechunk's runtime threads can abort the interpreter's finalization (exit 134) after every
# test has passed; once pytest is done, leave with its status the way the console script does
# (emofeat.store.repo.exit_without_finalizing).
_EXIT_STATUS: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _EXIT_STATUS.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    if not _EXIT_STATUS or os.environ.get("EMOFEAT_TEST_FINALIZE"):
        return
    from emofeat.store.repo import exit_without_finalizing

    exit_without_finalizing(_EXIT_STATUS[-1])
