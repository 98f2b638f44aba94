"""Time-varying labels: onto the clip's clock, stored beside the features, read back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emofeat.corpora import LabelTrack
from emofeat.errors import ValidationError
from emofeat.pipeline.labels import frames_to_seconds, track_arrays
from emofeat.store import ClipArrays, commit, open_repo, open_store, record, write_part
from tests.mediagen import face_frames, write_video

CLASSES = ("neutral", "anger", "happiness")


def test_frame_indexed_track_uses_real_frame_times(tmp_path: Path) -> None:
    stamps = np.array([0.0, 0.1, 0.5, 0.55, 0.9])
    video = write_video(tmp_path / "vfr.mkv", face_frames(5, size=(96, 128)), times=stamps)
    track = LabelTrack(
        "expression", "categorical", np.array([0, 1, 1, -1, 2, 2]), frames=np.arange(6), classes=CLASSES
    )
    ratings = LabelTrack("arousal", "continuous", np.array([0.1, np.nan]), times=np.array([0.0, 0.04]))
    out = track_arrays((track, ratings), video, sequence_fps=30.0)
    np.testing.assert_allclose(out["label.expression_times"][:5], stamps, atol=1e-3)
    # One annotation line past the last frame: extrapolated by the median frame period.
    assert out["label.expression_times"][5] == pytest.approx(0.9 + np.median(np.diff(stamps)), abs=1e-3)
    assert out["label.expression"].dtype == np.int16
    assert out["label.expression"].tolist() == [0, 1, 1, -1, 2, 2]
    assert out["label.arousal"].dtype == np.float32
    np.testing.assert_array_equal(out["label.arousal_times"], [0.0, 0.04])


def test_frame_track_on_a_clip_without_frames_is_an_error() -> None:
    with pytest.raises(ValidationError, match="no"):
        frames_to_seconds(np.array([0, 1]), np.zeros(0), "expression")
    with pytest.raises(ValidationError, match="negative"):
        frames_to_seconds(np.array([-1]), np.array([0.0, 0.1]), "expression")


def test_parts_store_optional_tracks_empty_for_clips_without_them(tmp_path: Path) -> None:
    repo = open_repo(tmp_path / "s", create=True)
    session = repo.writable_session("main")
    base = {"x": np.ones((2, 3), np.float32)}
    with_track = base | {"label.v": np.array([0.5, 0.25], np.float32), "label.v_times": np.array([0.0, 0.04])}
    clips = [ClipArrays("c/a", with_track), ClipArrays("c/b", base)]
    write_part(session.store, "c", "fv-t", "p-1", clips, {"label_classes": {"expression": list(CLASSES)}})
    rows = [
        {"clip_id": "c/a", "source_sha256": "1", "status": "ok", "part": "p-1", "row": 0},
        {"clip_id": "c/b", "source_sha256": "2", "status": "ok", "part": "p-1", "row": 1},
    ]
    catalog = [{"clip_id": r["clip_id"], "corpus": "c", "source": r["clip_id"][2:]} for r in rows]
    record(session, "c", "fv-t", {"feature_version": "fv-t"}, catalog, rows)
    commit(session, "t", {})
    store = open_store(tmp_path / "s")
    a, b = store.read("c/a"), store.read("c/b")
    np.testing.assert_array_equal(a["label.v"], [0.5, 0.25])
    assert b["label.v"].shape == (0,)
    assert b["label.v_times"].shape == (0,)
    assert store.label_classes("c/a") == {"expression": list(CLASSES)}
