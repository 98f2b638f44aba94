"""A batch bounds its memory: past MAX_PART_BYTES it writes what it holds as a part."""

from __future__ import annotations

from pathlib import Path

import pytest

import emofeat
from emofeat.pipeline import RunOptions, batch, ingest
from tests.mediagen import corrupt, face_frames, write_video


def test_big_batches_are_written_in_several_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    for i in range(3):
        write_video(root / f"c{i}.mp4", face_frames(3, size=(144, 192), seed=i), fps=3)
    corrupt(root / "c1b.mp4", "text")  # a failure in the middle keeps its row, gets no part
    monkeypatch.setattr(batch, "MAX_PART_BYTES", 1)  # every clip is "big"
    options = RunOptions(batch_size=4, workers=1, isolate=False)  # the batch sees the patch
    summary = ingest("folder", root, tmp_path / "store", options=options)
    assert summary.clips == {"ok": 3, "failed": 1, "skipped": 0}
    store = emofeat.open_store(tmp_path / "store")
    cat = store.catalog("folder").set_index("source")
    parts = store._ledger("folder", summary.feature_version).set_index("clip_id")["part"]
    assert parts[["folder/c0.mp4", "folder/c1.mp4", "folder/c2.mp4"]].nunique() == 3
    assert parts["folder/c1b.mp4"] is None
    for i in range(3):
        assert store.read(f"folder/c{i}.mp4")["face"].shape[0] == 16
    assert cat.loc["c1b.mp4", "status"] == "failed"
