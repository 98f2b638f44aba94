"""An interrupted run loses at most the batches since its last checkpoint; a re-run finishes.

Also: a worker that would compute features under the wrong model is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

import emofeat
from emofeat.config import FeatureConfig
from emofeat.corpora import get_adapter
from emofeat.errors import FaceModelError
from emofeat.pipeline import BatchJob, BatchResult, RunOptions, ingest, run_batch
from emofeat.pipeline.plan import PlannedClip
from emofeat.store import open_repo
from tests.mediagen import face_frames, write_video


class Interrupted(Exception):
    pass


def test_interrupted_run_resumes_without_duplicates(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    for i in range(6):
        write_video(root / f"clip{i}.mp4", face_frames(4, size=(96, 128), seed=i), fps=4)
    store = tmp_path / "store"
    calls = 0

    def dies_on_second_checkpoint(jobs: Iterable[BatchJob]) -> Iterator[BatchResult]:
        nonlocal calls
        for job in jobs:
            calls += 1
            if calls == 2:
                raise Interrupted("worker lost")
            yield run_batch(job)

    options = RunOptions(batch_size=2, checkpoint_every=1, workers=1)
    with pytest.raises(Interrupted):
        ingest("folder", root, store, options=options, map_batches=dies_on_second_checkpoint)
    partial = emofeat.open_store(store).catalog("folder")
    assert sorted(partial["source"]) == ["clip0.mp4", "clip1.mp4"]  # the first checkpoint survived
    assert (partial["status"] == "ok").all()

    resumed = ingest("folder", root, store, options=options)
    assert resumed.clips == {"ok": 4, "failed": 0, "skipped": 2}
    final = emofeat.open_store(store)
    cat = final.catalog("folder")
    assert sorted(cat["source"]) == [f"clip{i}.mp4" for i in range(6)]
    assert cat["clip_id"].is_unique
    assert (cat["status"] == "ok").all()
    for clip_id in cat["clip_id"]:
        assert final.read(clip_id)["face"].shape[0] == 16


def test_a_worker_with_other_face_weights_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    write_video(root / "a.mp4", face_frames(2, size=(96, 128)), fps=2)
    session = open_repo(tmp_path / "s", create=True).writable_session("main")
    clip = get_adapter("folder").scan(root).clips[0]
    job = BatchJob(
        "folder", str(root), "fv-x", FeatureConfig(), (PlannedClip(clip, "0"),), session, "ab" * 32
    )
    with pytest.raises(FaceModelError, match="not the one the run started with"):
        run_batch(job)
