"""Which failed clips a plain re-run processes again.

A failure of the run rather than of the clip (``internal_error``, ``io_error``) is retried;
a decode or validation failure on unchanged bytes under an unchanged config is not (until
``--retry-failed``). The failures are injected by wrapping the real per-clip function.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import emofeat
from emofeat.corpora import get_adapter
from emofeat.errors import DecodeError
from emofeat.pipeline import RunOptions, batch, ingest
from emofeat.pipeline.plan import RETRIED_KINDS, digest_clip, make_plan
from tests.mediagen import face_frames, write_video

# On this process's threads (isolate=False): the batches must see the patched per-clip function.
OPTIONS = RunOptions(batch_size=4, checkpoint_every=1, workers=1, isolate=False)


def statuses(store: Path) -> dict[str, tuple[str, str | None]]:
    cat = emofeat.open_store(store).catalog("folder")
    return {row.source: (row.status, row.error_kind) for row in cat.itertuples()}


def test_internal_errors_are_retried_by_a_plain_rerun_decode_errors_are_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    for name in ("bug", "decode", "good"):
        write_video(root / f"{name}.mp4", face_frames(3, size=(96, 128)), fps=3)
    store = tmp_path / "store"
    real = batch.process_clip

    def flaky(path: Path, *args: Any, **kwargs: Any) -> Any:
        if path.name == "bug.mp4":
            raise RuntimeError("a bug in this release")
        if path.name == "decode.mp4":
            raise DecodeError("the stream is damaged")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(batch, "process_clip", flaky)
    first = ingest("folder", root, store, options=OPTIONS)
    assert first.clips == {"ok": 1, "failed": 2, "skipped": 0}
    assert statuses(store) == {
        "bug.mp4": ("failed", "internal_error"),
        "decode.mp4": ("failed", "decode_error"),
        "good.mp4": ("ok", None),
    }

    monkeypatch.setattr(batch, "process_clip", real)  # the bug is fixed; the damage would stay
    second = ingest("folder", root, store, options=OPTIONS)
    assert second.clips == {"ok": 1, "failed": 0, "skipped": 2}
    assert statuses(store) == {
        "bug.mp4": ("ok", None),
        "decode.mp4": ("failed", "decode_error"),  # unchanged file, unchanged config: skipped
        "good.mp4": ("ok", None),
    }

    third = ingest("folder", root, store, options=OPTIONS)
    assert third.clips == {"ok": 0, "failed": 0, "skipped": 3}

    retried = ingest(
        "folder", root, store, options=RunOptions(batch_size=4, workers=1, retry_failed=True, isolate=False)
    )
    assert retried.clips == {"ok": 1, "failed": 0, "skipped": 2}
    assert statuses(store)["decode.mp4"] == ("ok", None)


@pytest.mark.parametrize(
    ("error_kind", "retried"),
    [("internal_error", True), ("io_error", True), ("decode_error", False), ("validation_failed", False)],
)
def test_the_plan_retries_only_run_failures(tmp_path: Path, error_kind: str, retried: bool) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    write_video(root / "a.mp4", face_frames(2, size=(96, 128)), fps=2)
    manifest = get_adapter("folder").scan(root)
    planned = digest_clip(manifest, manifest.clips[0])
    ledger = pd.DataFrame(
        {
            "clip_id": [planned.record.clip_id],
            "source_sha256": [planned.sha256],
            "labels_sha256": [planned.labels_sha256 or None],
            "status": ["failed"],
            "error_kind": [error_kind],
        }
    )
    plan = make_plan(manifest, ledger)
    assert (len(plan.todo), len(plan.done)) == ((1, 0) if retried else (0, 1))
    assert (error_kind in RETRIED_KINDS) is retried
    assert len(make_plan(manifest, ledger, retry_failed=True).todo) == 1
