"""The papers' audio representations, ingested end to end: by feature version, on the clip's
clock, with the speech segments beside them and their column names in the version."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import emofeat
from emofeat.config import AudioConfig, FeatureConfig, VideoConfig
from emofeat.pipeline import RunOptions, ingest
from tests.mediagen import face_frames, silence, sine, write_video

AUDIO_START = 0.48  # the audio stream starts this late on the file's clock
SPEECH = ((0.5, 1.5), (2.2, 3.0))  # seconds from the first audio sample
DURATION = 3.6


def _signal() -> np.ndarray:
    rate = 16000
    parts, at = [], 0.0
    for start, end in SPEECH:
        voiced = sine(180, end - start, rate, 0.3) + sine(540, end - start, rate, 0.1)  # a held vowel
        parts += [silence(start - at, rate), voiced]
        at = end
    return np.concatenate([*parts, silence(DURATION - at, rate)]).astype(np.float32)


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[emofeat.FeatureStore, str, FeatureConfig]:
    root = tmp_path_factory.mktemp("representations") / "corpus"
    root.mkdir()
    frames = face_frames(int(25 * (DURATION + AUDIO_START)), size=(96, 128))
    write_video(root / "talk.mkv", frames, 25, audio=_signal(), audio_start=AUDIO_START)
    audio = AudioConfig(preemphasis=0.94, compare=True, spectrogram=True)
    config = FeatureConfig(video=VideoConfig(frames=4), audio=audio)
    store = root.parent / "store"
    summary = ingest("folder", root, store, config, RunOptions(workers=1))
    assert summary.clips["ok"] == 1, summary.failures
    return emofeat.open_store(store), summary.feature_version, config


def test_speech_segments_are_on_the_clips_clock(
    stored: tuple[emofeat.FeatureStore, str, FeatureConfig],
) -> None:
    store, fv, _config = stored
    clip = store.read("folder/talk.mkv", fv)
    segments = clip["speech_segments"]
    assert segments.shape == (2, 2)
    np.testing.assert_allclose(segments, np.asarray(SPEECH) + AUDIO_START, atol=0.03)
    # The mask sits on the MFCC frames: 1 inside a segment, the frames themselves never cut.
    assert len(clip["speech_mask"]) == len(clip["mfcc"])
    np.testing.assert_array_equal(clip["speech_mask_times"], clip["mfcc_times"])
    inside = np.zeros(len(clip["mfcc_times"]), bool)
    for start, end in segments:
        inside |= (clip["mfcc_times"] >= start) & (clip["mfcc_times"] <= end)
    assert (clip["speech_mask"].astype(bool) == inside).mean() > 0.98
    assert clip["mfcc_times"][0] == pytest.approx(AUDIO_START, abs=0.03)


def test_pauses_windows_and_descriptors(stored: tuple[emofeat.FeatureStore, str, FeatureConfig]) -> None:
    store, fv, config = stored
    clip = store.read("folder/talk.mkv", fv)
    count, total, mean, ratio = clip["pauses"]
    assert count == 1
    assert total == pytest.approx(0.7, abs=0.06)
    assert mean == pytest.approx(total)
    assert ratio == pytest.approx(1.8 / DURATION, abs=0.03)
    # Windows of 3 s every 1 s, timed by their centre on the clip's clock.
    assert clip["windows_times"][0] == pytest.approx(AUDIO_START + 1.5, abs=0.02)
    np.testing.assert_allclose(np.diff(clip["windows_times"]), 1.0, atol=1e-6)
    (version,) = [v for v in store.feature_versions("folder") if v["feature_version"] == fv]
    names = version["names"]
    assert clip["windows"].shape[1] == len(names["windows"]) == 4 * (config.audio.n_mfcc + 4)
    assert clip["spectral"].shape == (len(clip["mfcc"]), 3)
    assert names["spectral"] == ["centroid_hz", "flux", "rolloff_hz"]
    assert clip["rhythm"].shape == (len(names["rhythm"]),)
    assert clip["compare_lld"].shape[1] == 65
    assert clip["compare"].shape == (6373,)
    assert len(names["compare"]) == 6373
    assert clip["spectrogram"].shape == (len(clip["mfcc"]), config.audio.n_fft // 2 + 1)
    for key in ("spectral", "onset", "compare_lld", "spectrogram", "pause_windows"):
        assert clip[f"{key}_times"][0] >= AUDIO_START - 1e-6, key


def test_preemphasis_changes_the_version_and_not_the_energy_tag(
    stored: tuple[emofeat.FeatureStore, str, FeatureConfig], tmp_path: Path
) -> None:
    store, fv, config = stored
    root = tmp_path / "corpus"
    root.mkdir()
    frames = face_frames(int(25 * (DURATION + AUDIO_START)), size=(96, 128))
    write_video(root / "talk.mkv", frames, 25, audio=_signal(), audio_start=AUDIO_START)
    plain = FeatureConfig(video=config.video, audio=AudioConfig(compare=True, spectrogram=True))
    other = ingest("folder", root, tmp_path / "store", plain, RunOptions(workers=1))
    assert other.feature_version != fv
    a = store.read("folder/talk.mkv", fv)
    b = emofeat.open_store(tmp_path / "store").read("folder/talk.mkv")
    np.testing.assert_array_equal(a["energy"], b["energy"])  # the energy tag reads the raw signal
    assert not np.allclose(a["spectral"][:, 0], b["spectral"][:, 0])  # pre-emphasis lifts the centroid
