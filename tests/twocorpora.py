"""One store of two corpora for the dataset and training tests (fixture `two_corpora` in tests/conftest.py).

* ``ravdess``: the session's RAVDESS corpus (16 uniform frames a clip; a clip with video and
  audio, one with video but no audio and no face, audio-only clips).
* ``recola``: two 3 s sessions (``train_1``, ``dev_1``) at 25 fps, every frame stored: a face
  is in view, and a 440 Hz tone sounds, from 1.2 s to 2.0 s only; arousal and valence every
  40 ms from 0 s: ``arousal = 0.01 k``, ``valence = -0.01 k`` at step ``k`` (60 steps).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emofeat.config import AudioConfig, FeatureConfig, VideoConfig
from tests.mediagen import face_frames, no_face_frames, silence, sine, write_audio, write_video

FPS = 25
ON, OFF = 1.2, 2.0  # the face and the tone, seconds
FRAMES = 75
LABELS = 60
RECOLA_CONFIG = FeatureConfig(video=VideoConfig(sampling="all"), audio=AudioConfig(spectrogram=True))


@dataclass(frozen=True)
class TwoCorpora:
    store: Path
    cache: Path


def build_recola(root: Path) -> None:
    frames = np.concatenate(
        [
            no_face_frames(round(ON * FPS), size=(240, 320), seed=1),
            face_frames(round((OFF - ON) * FPS), size=(240, 320)),
            no_face_frames(FRAMES - round(OFF * FPS), size=(240, 320), seed=2),
        ]
    )
    rate = 16000
    tone = np.concatenate(
        [silence(ON, rate), sine(440, OFF - ON, rate, 0.5), silence(FRAMES / FPS - OFF, rate)]
    )
    for rid in ("train_1", "dev_1"):
        (root / "recordings_audio").mkdir(parents=True, exist_ok=True)
        (root / "recordings_video").mkdir(parents=True, exist_ok=True)
        write_audio(root / "recordings_audio" / f"{rid}.wav", tone, rate)
        write_video(root / "recordings_video" / f"{rid}.mp4", frames, FPS)
        for dim, sign in (("arousal", 1), ("valence", -1)):
            folder = root / "ratings_gold_standard" / dim
            folder.mkdir(parents=True, exist_ok=True)
            lines = [f"{rid},{0.04 * k:.2f},{sign * 0.01 * k:.3f}" for k in range(LABELS)]
            arff = "@relation GoldStandard\n@attribute Instance_name string\n@attribute frameTime numeric\n"
            arff += "@attribute GoldStandard numeric\n@data\n" + "\n".join(lines) + "\n"
            (folder / f"{rid}.arff").write_text(arff)
