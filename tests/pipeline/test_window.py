"""The rolling window: a free worker takes the next job at once, never waiting for a slow one."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

import pytest

import emofeat
from emofeat.config import AudioConfig, FeatureConfig, VideoConfig
from emofeat.pipeline import RunOptions, ingest
from emofeat.pipeline.window import rolling
from tests.mediagen import face_frames, write_video


def _first_done(pending: set[Future[str]]) -> set[Future[str]]:
    return wait(pending, return_when=FIRST_COMPLETED).done


def test_a_slow_job_does_not_hold_back_the_others() -> None:
    release = threading.Event()

    def work(name: str) -> str:
        if name == "slow":
            release.wait(10)
        return name

    done: list[str] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        names = ["slow", "a", "b", "c", "d", "e"]
        for name in rolling(names, 3, lambda n: pool.submit(work, n), _first_done, Future.result):
            done.append(name)
            if len(done) == 5:  # every quick job ran on the other worker meanwhile
                release.set()
    assert sorted(done[:5]) == ["a", "b", "c", "d", "e"]
    assert done[5] == "slow"


def test_jobs_are_drawn_only_when_the_window_has_room() -> None:
    drawn: list[int] = []
    in_flight = 0
    most = 0
    lock = threading.Lock()

    def jobs() -> Iterator[int]:
        for number in range(10):
            drawn.append(number)
            yield number

    def work(number: int) -> int:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        time.sleep(0.01)
        with lock:
            in_flight -= 1
        return number

    with ThreadPoolExecutor(max_workers=4) as pool:
        stream = rolling(jobs(), 2, lambda n: pool.submit(work, n), _first_done, Future.result)
        first = next(stream)
        assert len(drawn) <= 4  # two submitted, refilled by as many as finished, no more
        rest = list(stream)
    assert sorted([first, *rest]) == list(range(10))
    assert most <= 2


def test_a_failed_job_raises_to_the_consumer() -> None:
    def work(number: int) -> int:
        if number == 2:
            raise RuntimeError("batch 2 broke")
        return number

    with ThreadPoolExecutor(max_workers=1) as pool, pytest.raises(RuntimeError, match="batch 2 broke"):
        list(rolling(range(5), 1, lambda n: pool.submit(work, n), _first_done, Future.result))


def test_width_must_be_positive() -> None:
    with pytest.raises(ValueError, match="width"):
        list(rolling([1], 0, lambda n: n, lambda p: p, lambda f: f))


def test_an_ingest_commits_quick_batches_while_a_slow_one_runs(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    write_video(root / "a_long.mp4", face_frames(240, size=(144, 192)), fps=8)  # 30 s, every frame
    for i in range(5):
        write_video(root / f"b{i}.mp4", face_frames(4, size=(96, 128), seed=i), fps=8)
    store = tmp_path / "store"
    config = FeatureConfig(video=VideoConfig(sampling="all"), audio=AudioConfig(egemaps=False))
    options = RunOptions(batch_size=1, checkpoint_every=1, workers=2)
    summary = ingest("folder", root, store, config, options)
    assert summary.clips == {"ok": 6, "failed": 0, "skipped": 0}, summary.failures
    opened = emofeat.open_store(store)
    checkpoints = [c for c in reversed(opened.history()) if "checkpoint" in c.message]
    assert len(checkpoints) == 6
    stored = [set(emofeat.open_store(store, c.snapshot).catalog("folder")["source"]) for c in checkpoints]
    # The long clip (the first batch) is committed last: the other worker went through every
    # quick batch, and each was committed, while it ran.
    assert "a_long.mp4" not in stored[-2]
    assert stored[-2] == {f"b{i}.mp4" for i in range(5)}
    # The shared groups were made once, before any fork: their attributes survived every merge.
    assert opened.feature_versions("folder")[0]["config"] == config.to_dict()
