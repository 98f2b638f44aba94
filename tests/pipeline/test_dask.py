"""Batches on a real local Dask cluster (worker processes), directly and through the Prefect
flow; a worker killed mid-batch; the stores they make equal a plain local run's."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest
from distributed.diagnostics.plugin import WorkerPlugin

import emofeat
from emofeat.pipeline import RunOptions, ingest
from emofeat.pipeline.distributed import map_dask
from flows.ingest import run_ingest_flow
from tests.mediagen import corrupt, face_frames, speech_like, write_video
from tests.pipeline.sameness import assert_same_features

OPTIONS = RunOptions(batch_size=2, checkpoint_every=2)


def make_corpus(root: Path) -> Path:
    root.mkdir()
    for i in range(4):
        audio = speech_like(1.0, 16000, seed=i)
        write_video(root / f"c{i}.mp4", face_frames(8, size=(144, 192), seed=i), fps=8, audio=audio)
    corrupt(root / "broken.mp4", "text")
    return root


def test_ingest_on_a_dask_cluster(dask_client: object, tmp_path: Path) -> None:
    client = dask_client
    root = make_corpus(tmp_path / "corpus")
    store = tmp_path / "store"
    options = RunOptions(batch_size=2, checkpoint_every=2)
    summary = ingest("folder", root, store, options=options, map_batches=map_dask(client))
    assert summary.clips == {"ok": 4, "failed": 1, "skipped": 0}
    opened = emofeat.open_store(store)
    for i in range(4):
        clip = opened.read(f"folder/c{i}.mp4")
        assert clip["face_present"].mean() >= 0.9
        assert len(clip["mfcc"]) >= 100
    assert opened.catalog("folder").set_index("source").loc["broken.mp4", "error_kind"] == "unreadable"
    again = ingest("folder", root, store, options=options, map_batches=map_dask(client))
    assert again.clips == {"ok": 0, "failed": 0, "skipped": 5}


def test_prefect_flow_on_a_dask_cluster(dask_client: Any, prefect_api: str, tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "corpus")
    address = dask_client.scheduler.address
    out = run_ingest_flow(
        "folder", str(root), str(tmp_path / "store"), None, RunOptions(batch_size=2), address
    )
    assert out["clips"] == {"ok": 4, "failed": 1, "skipped": 0}
    assert [f["clip_id"] for f in out["failures"]] == ["folder/broken.mp4"]
    assert emofeat.open_store(tmp_path / "store").read("folder/c3.mp4")["face_present"].all()


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The corpus and a plain single-process run of it (batches on the driver's thread)."""
    base = tmp_path_factory.mktemp("dask-reference")
    root = make_corpus(base / "corpus")
    store = base / "store"
    in_process = RunOptions(batch_size=2, checkpoint_every=2, isolate=False)
    summary = ingest("folder", root, store, options=in_process)
    assert summary.clips == {"ok": 4, "failed": 1, "skipped": 0}
    return root, store


def test_a_dask_run_equals_a_local_run(
    dask_client: Any, local_run: tuple[Path, Path], tmp_path: Path
) -> None:
    root, reference = local_run
    ingest("folder", root, tmp_path / "store", options=OPTIONS, map_batches=map_dask(dask_client))
    assert_same_features(reference, tmp_path / "store", "folder")


class KillFirstBatch(WorkerPlugin):
    """A Dask worker plugin: the first worker to start running a batch is killed (SIGKILL)
    shortly after, while the batch is in progress; once per marker file, so the replacement
    workers and the batch's next attempt run on."""

    name = "emofeat-kill-first-batch"

    def __init__(self, marker: str, delay: float) -> None:
        self.marker = marker
        self.delay = delay

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        if finish != "executing" or "run_batch" not in str(key):
            return
        try:
            os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
        threading.Timer(self.delay, os.kill, (os.getpid(), signal.SIGKILL)).start()


def test_a_worker_killed_mid_batch_costs_only_that_batch(
    dask_client: Any, local_run: tuple[Path, Path], tmp_path: Path
) -> None:
    root, reference = local_run
    marker = tmp_path / "killed"
    before = set(dask_client.scheduler_info()["workers"])
    dask_client.register_plugin(KillFirstBatch(str(marker), delay=0.3))
    try:
        on_dask = map_dask(dask_client)
        summary = ingest("folder", root, tmp_path / "store", options=OPTIONS, map_batches=on_dask)
    finally:
        dask_client.unregister_worker_plugin(KillFirstBatch.name)
        dask_client.wait_for_workers(len(before), timeout=120)
    assert marker.exists()  # a worker was told to die during its batch
    assert set(dask_client.scheduler_info()["workers"]) != before  # ... and was replaced
    assert summary.clips == {"ok": 4, "failed": 1, "skipped": 0}
    assert_same_features(reference, tmp_path / "store", "folder")
