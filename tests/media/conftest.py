"""Shared fixtures: small generated clips, written once per test session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests import mediagen

FPS = 25
N_FRAMES = 50  # 2 s at 25 fps


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def numbered_mp4(media_dir: Path) -> Path:
    """2 s of H.264 at 25 fps, frame i shows i, with 2 s of 440 Hz AAC audio at 16 kHz."""
    return mediagen.write_video(
        media_dir / "numbered.mp4",
        mediagen.numbered_frames(N_FRAMES),
        fps=FPS,
        audio=mediagen.sine(440, N_FRAMES / FPS, 16000),
        audio_rate=16000,
    )


@pytest.fixture(scope="session")
def silent_mp4(media_dir: Path) -> Path:
    """Video only (no audio stream): 10 numbered frames."""
    return mediagen.write_video(media_dir / "silent.mp4", mediagen.numbered_frames(10), fps=FPS)


@pytest.fixture(scope="session")
def speech_wav(media_dir: Path) -> Path:
    """1.5 s of speech-like mono PCM at 16 kHz."""
    return mediagen.write_audio(media_dir / "speech.wav", mediagen.speech_like(1.5, 16000, seed=1), 16000)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
