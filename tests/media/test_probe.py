"""probe: what it reports for containers, audio-only files, images and folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emofeat.media import probe
from tests import mediagen
from tests.media.conftest import FPS, N_FRAMES


def test_video_with_audio(numbered_mp4: Path) -> None:
    info = probe(numbered_mp4)

    assert info.kind == "av"
    assert info.path == str(numbered_mp4)
    assert info.container is not None
    assert "mp4" in info.container
    assert info.has_audio
    assert info.has_video
    assert (info.audio_sample_rate, info.audio_channels, info.audio_codec) == (16000, 1, "aac")
    assert info.video_codec == "h264"
    assert (info.width, info.height, info.rotation) == (64, 48, 0)
    assert info.frame_count == N_FRAMES
    assert info.avg_fps == pytest.approx(FPS)
    assert info.duration is not None
    assert 2.0 <= info.duration <= 2.0 + 0.07  # AAC pads its last frame


def test_audio_only(tmp_path: Path) -> None:
    stereo = np.stack([mediagen.sine(300, 0.5, 44100)] * 2, axis=1)
    info = probe(mediagen.write_audio(tmp_path / "a.flac", stereo, 44100))

    assert info.kind == "av"
    assert info.container == "flac"
    assert info.has_audio
    assert not info.has_video
    assert (info.audio_sample_rate, info.audio_channels, info.audio_codec) == (44100, 2, "flac")
    assert info.duration == pytest.approx(0.5, abs=1e-3)
    assert info.width is None
    assert info.video_codec is None
    assert info.frame_count is None
    assert info.avg_fps is None
    assert info.rotation == 0


def test_rotated_video_reports_displayed_size(tmp_path: Path) -> None:
    pattern = mediagen.orientation_pattern(48, 64)
    info = probe(mediagen.write_video(tmp_path / "r.mp4", np.stack([pattern] * 2), rotation=90))
    assert (info.rotation, info.width, info.height) == (90, 64, 48)


def test_avi_frame_count_is_left_unknown(tmp_path: Path) -> None:
    info = probe(mediagen.write_video(tmp_path / "v.avi", mediagen.numbered_frames(5), codec="mjpeg"))
    assert info.container == "avi"
    assert info.video_codec == "mjpeg"
    assert info.frame_count is None
    assert info.duration == pytest.approx(5 / 25)


def test_still_image(tmp_path: Path) -> None:
    info = probe(mediagen.write_image(tmp_path / "x.JPG", mediagen.orientation_pattern(40, 56)))
    assert info.kind == "image"
    assert info.container is None
    assert (info.width, info.height, info.frame_count) == (56, 40, 1)
    assert info.has_video
    assert not info.has_audio
    assert info.video_codec == "mjpeg"
    assert info.duration is None


def test_image_sequence(tmp_path: Path) -> None:
    mediagen.write_image_sequence(tmp_path / "seq", mediagen.numbered_frames(7, size=(32, 48)))
    info = probe(tmp_path / "seq")
    assert info.kind == "image_sequence"
    assert (info.width, info.height, info.frame_count, info.video_codec) == (48, 32, 7, "png")
    assert info.duration is None
    assert info.avg_fps is None
