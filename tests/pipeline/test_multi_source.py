"""Clips as the corpora define them: one recording stored as two files is one clip with both
modalities on one clock, and a change to either file processes the clip again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import emofeat
from emofeat.config import FeatureConfig, VideoConfig
from emofeat.media import load_audio, probe
from emofeat.pipeline import RunOptions, ingest
from tests.mediagen import face_frames, no_face_frames, silence, sine, write_audio, write_video

FPS = 25
EVENT_FRAME = 30  # the face appears, and the tone starts, at 1.2 s
HOP_S = 0.010
EVERY_FRAME = FeatureConfig(video=VideoConfig(sampling="all"))


def _frames() -> np.ndarray:
    return np.concatenate(
        [no_face_frames(EVENT_FRAME, size=(240, 320), seed=1), face_frames(60 - EVENT_FRAME, size=(240, 320))]
    )


def _tone(rate: int = 16000, hz: float = 440) -> np.ndarray:
    event = EVENT_FRAME / FPS
    return np.concatenate([silence(event, rate), sine(hz, 60 / FPS - event, rate, 0.5)])


def _onsets(clip: dict[str, np.ndarray]) -> tuple[float, float]:
    face = clip["face_times"][np.flatnonzero(clip["face_present"])[0]]
    loud = clip["energy"] > 0.5 * clip["energy"].max()
    return float(face), float(clip["energy_times"][np.flatnonzero(loud)[0]])


def _recola(root: Path) -> None:
    (root / "recordings_audio").mkdir(parents=True)
    (root / "recordings_video").mkdir(parents=True)
    write_audio(root / "recordings_audio" / "train_1.wav", _tone(), 16000)
    write_video(root / "recordings_video" / "train_1.mp4", _frames(), FPS)  # no audio stream
    for dim in ("arousal", "valence"):
        folder = root / "ratings_gold_standard" / dim
        folder.mkdir(parents=True)
        lines = [f"train_1,{0.04 * k:.2f},{0.01 * k:.3f}" for k in range(60)]
        arff = "@relation GoldStandard\n@attribute Instance_name string\n@attribute frameTime numeric\n"
        arff += "@attribute GoldStandard numeric\n@data\n" + "\n".join(lines) + "\n"
        (folder / "train_1.arff").write_text(arff)


def test_a_recola_session_is_one_clip_with_audio_and_video_on_one_clock(tmp_path: Path) -> None:
    root, store = tmp_path / "recola", tmp_path / "store"
    _recola(root)
    summary = ingest("recola", root, store, EVERY_FRAME, RunOptions(workers=1))
    assert summary.clips == {"ok": 1, "failed": 0, "skipped": 0}, summary.failures
    opened = emofeat.open_store(store)
    clip_id = "recola/recordings_video/train_1.mp4"
    clip = opened.read(clip_id)
    assert len(clip["face_times"]) == 60  # both modalities
    assert clip["energy"].size > 0
    face_onset, energy_onset = _onsets(clip)
    assert face_onset == pytest.approx(EVENT_FRAME / FPS, abs=1e-6)
    assert abs(energy_onset - face_onset) <= HOP_S
    np.testing.assert_allclose(clip["label.arousal_times"], 0.04 * np.arange(60), atol=1e-6)

    row = opened.catalog("recola").set_index("clip_id").loc[clip_id]
    assert row["audio_source"] == "recordings_audio/train_1.wav"
    assert len(row["source_sha256"]) == 64
    assert len(row["audio_sha256"]) == 64
    assert row["source_sha256"] != row["audio_sha256"]
    assert row["person"] is None
    assert row["meta"]["modality"] == "audio-video"

    # Unchanged: nothing to do. A changed wav (the video untouched): the clip again.
    assert ingest("recola", root, store, EVERY_FRAME, RunOptions(workers=1)).clips["skipped"] == 1
    write_audio(root / "recordings_audio" / "train_1.wav", _tone(hz=880), 16000)
    again = ingest("recola", root, store, EVERY_FRAME, RunOptions(workers=1))
    assert again.clips == {"ok": 1, "failed": 0, "skipped": 0}, again.failures
    changed = emofeat.open_store(store).catalog("recola").set_index("clip_id").loc[clip_id]
    assert changed["audio_sha256"] != row["audio_sha256"]
    assert changed["source_sha256"] == row["source_sha256"]


def test_a_cremad_video_takes_its_audio_from_the_wav(tmp_path: Path) -> None:
    root, store = tmp_path / "cremad", tmp_path / "store"
    (root / "VideoFlash").mkdir(parents=True)
    (root / "AudioWAV").mkdir(parents=True)
    name = "1001_DFA_ANG_XX"
    # The WAV is converted from the video, as CREMA-D's were (FFmpeg's FLV muxer starts the
    # video 64 ms after the audio). Then the video's own audio is made silent: only the WAV
    # has the tone, so the onset proves where the clip's audio came from.
    flv = root / "VideoFlash" / f"{name}.flv"
    write_video(flv, _frames(), FPS, audio=_tone())
    converted = load_audio(flv, 16000)
    assert converted is not None
    write_audio(root / "AudioWAV" / f"{name}.wav", converted.samples, 16000)
    write_video(flv, _frames(), FPS, audio=silence(60 / FPS, 16000))
    write_audio(root / "AudioWAV" / "1002_DFA_SAD_XX.wav", _tone(), 16000)  # no video: audio alone
    summary = ingest("cremad", root, store, EVERY_FRAME, RunOptions(workers=1))
    assert summary.clips == {"ok": 2, "failed": 0, "skipped": 0}, summary.failures
    opened = emofeat.open_store(store)
    clip = opened.read(f"cremad/VideoFlash/{name}.flv")
    face_onset, energy_onset = _onsets(clip)
    assert face_onset == pytest.approx((probe(flv).video_start or 0) + EVENT_FRAME / FPS, abs=1e-6)
    assert abs(energy_onset - face_onset) <= HOP_S
    catalog = opened.catalog("cremad").set_index("clip_id")
    assert catalog.loc[f"cremad/VideoFlash/{name}.flv", "audio_source"] == f"AudioWAV/{name}.wav"
    assert catalog.loc["cremad/AudioWAV/1002_DFA_SAD_XX.wav", "audio_source"] is None
    assert summary.ignored["by_reason"][
        "WAV audio of an utterance's video (read as that clip's audio_source)"
    ]["examples"] == [f"AudioWAV/{name}.wav"]


def test_an_audio_file_without_audio_is_a_recorded_failure(tmp_path: Path) -> None:
    root, store = tmp_path / "recola", tmp_path / "store"
    _recola(root)
    write_video(root / "recordings_audio" / "train_2.mp4", _frames()[:5], FPS)
    (root / "recordings_audio" / "train_2.mp4").rename(root / "recordings_audio" / "train_2.wav")
    write_video(root / "recordings_video" / "train_2.mp4", _frames(), FPS)
    summary = ingest("recola", root, store, EVERY_FRAME, RunOptions(workers=1))
    assert summary.clips == {"ok": 1, "failed": 1, "skipped": 0}
    (failure,) = summary.failures
    assert failure["clip_id"] == "recola/recordings_video/train_2.mp4"
    assert (failure["stage"], failure["error_kind"]) == ("probe", "no_streams")
    assert "train_2.wav" in failure["error"]


HEADER = "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other"


def _two_people(n: int) -> np.ndarray:
    """Frames of two people side by side: a smaller face on the left, a larger (mirrored) one
    on the right, so "the largest face" would always pick the right person."""
    left = face_frames(n, size=(240, 320))
    right = face_frames(n, size=(360, 480), seed=2)[:, :, ::-1]
    frames = np.full((n, 360, 800, 3), 90, np.uint8)
    frames[:, 60:300, :320] = left
    frames[:, :, 320:] = right
    return frames


def test_an_affwild2_video_of_two_people_is_two_clips_each_with_its_own_face(tmp_path: Path) -> None:
    root, store = tmp_path / "affwild2", tmp_path / "store"
    (root / "batch1").mkdir(parents=True)
    write_video(root / "batch1" / "video59.mp4", _two_people(8), FPS)
    expr = root / "annotations" / "EXPR_Classification_Challenge" / "Train_Set"
    expr.mkdir(parents=True)
    codes = {"left": ["4"] * 8, "right": ["5"] * 8}
    for person, lines in codes.items():
        (expr / f"video59_{person}.txt").write_text(HEADER + "\n" + "\n".join(lines) + "\n")
    summary = ingest("affwild2", root, store, EVERY_FRAME, RunOptions(workers=1))
    assert summary.clips == {"ok": 2, "failed": 0, "skipped": 0}, summary.failures
    opened = emofeat.open_store(store)
    catalog = opened.catalog("affwild2").set_index("clip_id")
    middle = 800 / 2
    for person, code in (("left", 4), ("right", 5)):
        clip_id = f"affwild2/batch1/video59.mp4#{person}"
        assert catalog.loc[clip_id, "person"] == person
        assert catalog.loc[clip_id, "source"] == "batch1/video59.mp4"
        clip = opened.read(clip_id)
        assert clip["face_present"].all()
        centres = (clip["face_bbox"][:, 0] + clip["face_bbox"][:, 2]) / 2
        assert ((centres < middle) if person == "left" else (centres >= middle)).all(), centres
        assert clip["label.expression"].tolist() == [code] * 8  # its own person's labels only
        assert not any(key.endswith(("_left", "_right")) for key in clip)
    left, right = (opened.read(f"affwild2/batch1/video59.mp4#{p}")["face"] for p in ("left", "right"))
    assert np.abs(left.astype(int) - right.astype(int)).mean() > 10  # two different faces
    # the two people of one video are one subject: never split across folds
    assert catalog["fold"].nunique() == 1
