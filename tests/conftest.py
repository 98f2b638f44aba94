"""Session-wide test setup: offline Prefect settings, one corpus build and ingestion per session."""

from __future__ import annotations

import os
import tempfile

# Before anything imports Prefect: an isolated home, no telemetry, a generous start-up
# timeout for the temporary server (started at most once per test session).
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="emofeat-prefect-"))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
from flows import settings

settings.apply()

import pytest  # noqa: E402

from emofeat.pipeline import RunOptions, ingest  # noqa: E402
from tests.corpusgen import Corpus, Ingested, build_ravdess  # noqa: E402


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
