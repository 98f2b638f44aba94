"""Batches on a real local Dask cluster (worker processes), directly and through the Prefect flow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import emofeat
from emofeat.pipeline import RunOptions, ingest
from emofeat.pipeline.distributed import map_dask
from flows.ingest import run_ingest_flow
from tests.mediagen import corrupt, face_frames, speech_like, write_video


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
