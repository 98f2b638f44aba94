"""frame_times: every frame's presentation time from a demux-only pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emofeat.config import VideoConfig
from emofeat.media import frame_times, read_frames
from tests.mediagen import face_frames, numbered_frames, sine, write_audio, write_image, write_video


def test_constant_rate_matches_read_frames(tmp_path: Path) -> None:
    path = write_video(tmp_path / "cfr.mp4", numbered_frames(12), fps=6)
    times = frame_times(path)
    np.testing.assert_allclose(times, np.arange(12) / 6, atol=1e-6)
    decoded = read_frames(path, VideoConfig(sampling="all"))
    assert decoded is not None
    np.testing.assert_allclose(times[decoded.indices], decoded.times, atol=1e-6)


def test_variable_rate_and_b_frames_come_out_in_presentation_order(tmp_path: Path) -> None:
    stamps = np.array([0.0, 0.04, 0.3, 0.35, 1.1, 1.25, 1.3, 2.0])
    path = write_video(tmp_path / "vfr.mp4", face_frames(8, size=(96, 128)), times=stamps)
    np.testing.assert_allclose(frame_times(path), stamps, atol=1e-3)


def test_still_folder_and_audio_only(tmp_path: Path) -> None:
    image = write_image(tmp_path / "one.png", numbered_frames(1)[0])
    np.testing.assert_array_equal(frame_times(image), [0.0])
    folder = tmp_path / "seq"
    folder.mkdir()
    for i, frame in enumerate(numbered_frames(4)):
        write_image(folder / f"f{i}.png", frame)
    np.testing.assert_allclose(frame_times(folder, sequence_fps=10), [0.0, 0.1, 0.2, 0.3])
    audio = write_audio(tmp_path / "a.wav", sine(440, 0.5, 16000), 16000)
    assert frame_times(audio).shape == (0,)


def test_raw_stream_without_timestamps_is_timed_like_the_decoder(tmp_path: Path) -> None:
    path = write_video(tmp_path / "raw.h264", numbered_frames(10), fps=5)  # no container clock
    decoded = read_frames(path, VideoConfig(sampling="all"))
    assert decoded is not None
    times = frame_times(path)
    assert len(times) == 10
    np.testing.assert_allclose(times[decoded.indices], decoded.times, atol=1e-6)
