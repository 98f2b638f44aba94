"""Batches on a real local Dask cluster (worker processes): forks cross processes and merge."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import emofeat
from emofeat.pipeline import RunOptions, ingest
from emofeat.pipeline.distributed import map_dask
from tests.mediagen import corrupt, face_frames, speech_like, write_video

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def test_ingest_on_a_dask_cluster(client: object, tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    for i in range(4):
        audio = speech_like(1.0, 16000, seed=i)
        write_video(root / f"c{i}.mp4", face_frames(8, size=(144, 192), seed=i), fps=8, audio=audio)
    corrupt(root / "broken.mp4", "text")
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
