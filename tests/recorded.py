"""A real recorded voice for tests: the 30 s two-speaker conversation that ships inside the
``pyannote.audio`` wheel (MIT licence) with its reference speaker turns (RTTM).

``make install`` downloads the wheel, without installing it or its dependencies, into
``<venv>/test-media/``; the test reads the two files from the wheel and checks their digests.
"""

from __future__ import annotations

import hashlib
import io
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

WHEEL = "pyannote_audio-3.3.2-py2.py3-none-any.whl"
WAV = "pyannote/audio/sample/sample.wav"
RTTM = "pyannote/audio/sample/sample.rttm"
WAV_SHA256 = "c319b4abca767b124e41432d364fd7df006cb26bb79d09326c487d606a134e6e"
MEDIA_DIR = Path(sys.prefix) / "test-media"


@dataclass(frozen=True)
class Recording:
    samples: np.ndarray  # float32 mono
    sample_rate: int
    turns: list[tuple[float, float]]  # annotated speaker turns (start, end), seconds, may overlap

    def speech(self, bridge_s: float = 0.0) -> list[tuple[float, float]]:
        """The union of the turns, joining gaps shorter than ``bridge_s``."""
        merged: list[list[float]] = []
        for start, end in sorted(self.turns):
            if merged and start - merged[-1][1] < bridge_s:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        return [(a, b) for a, b in merged]


def conversation() -> Recording:
    """The recording and its turns.

    Raises
    ------
    AssertionError
        When the wheel is missing (run ``make install``) or the audio is not the expected file.
    """
    wheel = MEDIA_DIR / WHEEL
    assert wheel.is_file(), f"{wheel} is missing: `make install` downloads it"
    with zipfile.ZipFile(wheel) as zf:
        data, rttm = zf.read(WAV), zf.read(RTTM).decode()
    assert hashlib.sha256(data).hexdigest() == WAV_SHA256, f"{WAV} in {wheel} is not the expected file"
    samples, rate = sf.read(io.BytesIO(data), dtype="float32")
    turns = []
    for line in rttm.splitlines():
        fields = line.split()
        if fields and fields[0] == "SPEAKER":
            start, duration = float(fields[3]), float(fields[4])
            turns.append((start, start + duration))
    return Recording(samples, int(rate), turns)
