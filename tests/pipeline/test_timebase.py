"""One clock for every stream: a face and a sound that are simultaneous in the file get the
same time in the store, whichever stream starts first and whatever the audio codec's delay."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import emofeat
from emofeat.config import FeatureConfig, VideoConfig
from emofeat.media import probe
from emofeat.pipeline import RunOptions, ingest
from tests.mediagen import face_frames, no_face_frames, silence, sine, write_video

FPS = 25
OFFSET = 0.48  # a whole number of video frames, as a camera's stream offsets usually are
HOP_S = 0.010


def _clip(path: Path, video_start: float, audio_start: float, face_frame: int, rate: int) -> float:
    """A clip whose face appears at frame ``face_frame`` exactly when a tone starts; returns
    that moment on the file's own clock."""
    frames = np.concatenate(
        [no_face_frames(face_frame, size=(240, 320), seed=1), face_frames(60 - face_frame, size=(240, 320))]
    )
    event = video_start + face_frame / FPS
    lead = event - audio_start
    audio = np.concatenate([silence(lead, rate), sine(440, 60 / FPS + video_start - event, rate, 0.5)])
    write_video(
        path, frames, FPS, audio=audio, audio_rate=rate, video_start=video_start, audio_start=audio_start
    )
    return event


@pytest.mark.parametrize(
    ("name", "video_start", "audio_start", "rate"),
    [
        ("audio_late.mp4", 0.0, OFFSET, 48000),  # AAC in MP4: priming samples and an edit list
        ("video_late.mkv", OFFSET, 0.0, 16000),
    ],
)
def test_energy_onset_matches_the_face_on_the_files_clock(
    tmp_path: Path, name: str, video_start: float, audio_start: float, rate: int
) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    event = _clip(root / name, video_start, audio_start, face_frame=30, rate=rate)
    info = probe(root / name)
    assert info.video_start == pytest.approx(video_start, abs=1e-3)
    # The first delivered sample may be an AAC priming sample, up to one frame early.
    priming = 1024 / rate
    assert audio_start - priming - 1e-3 <= info.audio_start <= audio_start + 1e-3

    config = FeatureConfig(video=VideoConfig(sampling="all"))
    summary = ingest("folder", root, tmp_path / "store", config, RunOptions(workers=1))
    assert summary.clips["ok"] == 1, summary.failures
    store = emofeat.open_store(tmp_path / "store")
    clip = store.read(f"folder/{name}")

    face_onset = clip["face_times"][np.flatnonzero(clip["face_present"])[0]]
    loud = clip["energy"] > 0.5 * clip["energy"].max()
    energy_onset = clip["energy_times"][np.flatnonzero(loud)[0]]
    assert face_onset == pytest.approx(event, abs=1e-6)  # the earliest stream starts at 0
    assert abs(energy_onset - face_onset) <= HOP_S
    for key in ("energy_times", "mfcc_times", "logmel_times", "egemaps_lld_times"):
        # every audio series starts where the audio does (within its first window's centre)
        assert info.audio_start - 1e-6 <= clip[key][0] <= info.audio_start + 0.035, key

    ledger = store._ledger("folder", summary.feature_version).set_index("clip_id")
    row = ledger.loc[f"folder/{name}"]
    assert row["audio_start"] == pytest.approx(info.audio_start, abs=1e-6)
    assert row["video_start"] == pytest.approx(video_start, abs=1e-3)
    assert row["run"] == summary.run


def test_streams_that_do_not_overlap_fail_the_span_gate(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    frames = face_frames(25, size=(96, 128))  # 1 s of video at 0..1 s
    write_video(root / "apart.mkv", frames, FPS, audio=sine(440, 1.0, 16000), audio_start=4.0)
    summary = ingest("folder", root, tmp_path / "store", options=RunOptions(workers=1))
    assert summary.clips["failed"] == 1
    failure = summary.failures[0]
    assert failure["error_kind"] == "av_duration_gap"
    assert "clock" in failure["error"]
