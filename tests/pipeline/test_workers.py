"""Batches in supervised worker processes: a clip whose worker dies is a recorded failure.

The worker is SIGKILLed from a test thread while it processes a chosen clip, exactly what
the OOM killer does. Killed on both attempts, the clip is a ``worker_died`` failure and the
rest of the run is stored; killed once, the retry stores it. A stop request ends an
isolated run after the clip in progress. (The CLI's signal tests, in ``test_signals.py``,
check that no worker outlives the CLI process, SIGKILL included.)
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import emofeat
from emofeat.config import FeatureConfig
from emofeat.corpora import get_adapter
from emofeat.errors import FaceModelError
from emofeat.pipeline import BatchJob, RunOptions, ingest, stopping, workers
from emofeat.pipeline.plan import RETRIED_KINDS, PlannedClip, source_digest
from emofeat.store import open_repo
from tests.mediagen import face_frames, write_video

CLIPS = 6
SLOW = "folder/c1.mp4"  # 24 frames: about half a second of work, where the others take 0.15 s
OPTIONS = RunOptions(batch_size=3, checkpoint_every=2, workers=2)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("workers") / "corpus"
    root.mkdir()
    for i in range(CLIPS):
        write_video(root / f"c{i}.mp4", face_frames(24 if i == 1 else 4, size=(96, 128), seed=i), fps=4)
    return root


@contextmanager
def when_busy_with(clip: str, times: int, action: Any) -> Iterator[list[int]]:
    """Call ``action(pid)`` each time a worker process (another each time) starts ``clip``,
    at most ``times`` times; yields the pids it was called for."""
    seen: list[int] = []
    done = threading.Event()

    def watch() -> None:
        while len(seen) < times and not done.is_set():
            for pid, current in workers.busy().items():
                if current == clip and pid not in seen:
                    seen.append(pid)
                    action(pid)
            time.sleep(0.002)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        done.set()
        thread.join()


def sigkill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)  # what the OOM killer sends


def stored_ok(store: Path, clip_ids: list[str]) -> None:
    reader = emofeat.open_store(store)
    cat = reader.catalog("folder").set_index("clip_id")
    assert cat.index.is_unique
    for clip_id in clip_ids:
        assert cat.loc[clip_id, "status"] == "ok", clip_id
        assert reader.read(clip_id)["face"].shape[0] == 16


def test_a_clip_that_kills_its_worker_twice_is_recorded_and_the_run_goes_on(
    corpus: Path, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    with when_busy_with(SLOW, 2, sigkill) as killed:
        summary = ingest("folder", corpus, store, options=OPTIONS)
    assert len(killed) == 2, "killed on its first run and on the retry, each in its own worker"
    assert summary.clips == {"ok": CLIPS - 1, "failed": 1, "skipped": 0}
    assert summary.failures == [
        {
            "clip_id": SLOW,
            "stage": "worker",
            "error_kind": "worker_died",
            "error": "the worker process died twice on this clip (killed by SIGKILL: out of memory?)",
        }
    ]
    others = [f"folder/c{i}.mp4" for i in range(CLIPS) if f"folder/c{i}.mp4" != SLOW]
    stored_ok(store, others)  # its batch mates too, stored once (the retries rewrote nothing)
    reader = emofeat.open_store(store)
    cat = reader.catalog("folder").set_index("clip_id")
    assert (cat.loc[SLOW, "status"], cat.loc[SLOW, "error_kind"]) == ("failed", "worker_died")
    ledger = reader._ledger("folder", summary.feature_version).set_index("clip_id")
    row = ledger.loc[SLOW]
    assert (row["status"], row["stage"], row["run"]) == ("failed", "worker", summary.run)
    assert row["source_sha256"] == source_digest(corpus / "c1.mp4")

    assert "worker_died" not in RETRIED_KINDS  # it would most likely kill the next run's worker too
    again = ingest("folder", corpus, store, options=OPTIONS)
    assert again.clips == {"ok": 0, "failed": 0, "skipped": CLIPS}
    retried = ingest("folder", corpus, store, options=dataclasses.replace(OPTIONS, retry_failed=True))
    assert retried.clips == {"ok": 1, "failed": 0, "skipped": CLIPS - 1}
    stored_ok(store, [*others, SLOW])


def test_a_clip_that_kills_its_worker_once_is_stored_by_the_retry(corpus: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    with when_busy_with(SLOW, 1, sigkill) as killed:
        summary = ingest("folder", corpus, store, options=OPTIONS)
    assert len(killed) == 1
    assert summary.clips == {"ok": CLIPS, "failed": 0, "skipped": 0}
    stored_ok(store, [f"folder/c{i}.mp4" for i in range(CLIPS)])
    assert killed[0] not in workers.busy()


def test_a_stop_request_ends_an_isolated_run_after_the_clip_in_progress(corpus: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    options = RunOptions(batch_size=3, checkpoint_every=1, workers=1)
    try:
        with (
            when_busy_with(SLOW, 1, lambda _pid: stopping.request(signal.SIGTERM)),
            pytest.raises(stopping.RunInterrupted, match="stopped on SIGTERM"),
        ):
            ingest("folder", corpus, store, options=options)
    finally:
        stopping.reset()
    cat = emofeat.open_store(store).catalog("folder")
    assert sorted(cat["source"]) == ["c0.mp4", "c1.mp4"]  # the clip in progress was finished
    assert (cat["status"] == "ok").all()
    resumed = ingest("folder", corpus, store, options=options)
    assert resumed.clips == {"ok": CLIPS - 2, "failed": 0, "skipped": 2}


class DiesWhenUnpickled:
    """Kills the process that unpickles it: a worker dying before its first clip."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (os._exit, (3,))


def job(root: Path, session: Any, **changes: Any) -> BatchJob:
    clip = get_adapter("folder").scan(root).clips[0]
    base = BatchJob("folder", str(root), "fv-x", FeatureConfig(), (PlannedClip(clip, "0"),), session)
    return dataclasses.replace(base, **changes)


def test_a_worker_dying_outside_any_clip_twice_is_an_error_of_the_run(corpus: Path, tmp_path: Path) -> None:
    pickle.dumps(DiesWhenUnpickled())  # it pickles here; it is the worker that dies
    with pytest.raises(
        workers.WorkerError, match=r"died twice before its first clip \(exited with status 3\)"
    ):
        workers.run_isolated(job(corpus, DiesWhenUnpickled()))
    session = open_repo(tmp_path / "s", create=True).writable_session("main")
    result = workers.run_isolated(job(corpus, session.fork()))  # the pool goes on with new workers
    assert [row["status"] for row in result.rows] == ["ok"]


def test_errors_of_the_batch_are_raised_in_the_driver(corpus: Path, tmp_path: Path) -> None:
    session = open_repo(tmp_path / "s", create=True).writable_session("main")
    with pytest.raises(FaceModelError, match="not the one the run started with") as info:
        workers.run_isolated(job(corpus, session.fork(), weights_sha256="ab" * 32))
    assert info.value.kind == "weights_mismatch"  # kind and stage cross the process boundary


def test_workers_are_reused_and_shut_down(corpus: Path, tmp_path: Path) -> None:
    session = open_repo(tmp_path / "s", create=True).writable_session("main")
    workers.run_isolated(job(corpus, session.fork()))
    pids = {w.pid for w in workers._POOL.all()}
    started = time.perf_counter()
    workers.run_isolated(job(corpus, session.fork()))
    assert {w.pid for w in workers._POOL.all()} == pids, "the same process serves the next batch"
    assert time.perf_counter() - started < 5
    workers.shutdown()
    assert workers._POOL.all() == []
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()], "stopped and reaped"
