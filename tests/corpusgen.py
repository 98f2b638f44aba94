"""Small real-layout corpora built from generated media (fixtures in tests/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emofeat.pipeline import IngestSummary
from tests.mediagen import (
    carphone_frames,
    corrupt,
    face_frames,
    no_face_frames,
    silence,
    speech_like_with_segments,
    write_audio,
    write_video,
)

SR = 16000
AV = "Actor_01/01-01-03-01-01-01-01.mp4"  # audio-video, happy, actor 1 (male)
VIDEO_ONLY_NO_FACE = "Actor_02/02-01-04-02-01-02-02.mp4"  # video only, sad strong, actor 2 (female)
AUDIO_ONLY = "Audio_Speech_Actors_01-24/Actor_03/03-01-05-01-02-01-03.wav"  # angry, actor 3
SONG = "Audio_Song_Actors_01-24/Actor_04/03-02-06-01-01-01-04.wav"  # song, fearful, actor 4 (female)
SURROUND = "Actor_05/03-01-08-02-02-02-05.wav"  # 5.1 audio, surprised strong, actor 5
CARPHONE = "Actor_06/02-01-02-01-01-01-06.mp4"  # a real talking head, calm, video only


@dataclass(frozen=True)
class Corpus:
    root: Path
    voiced: list[tuple[float, float]]  # voiced intervals of the AV clip's audio, seconds
    audio_only_voiced: list[tuple[float, float]]


def build_ravdess(root: Path) -> Corpus:
    speech, voiced = speech_like_with_segments(2.0, SR, seed=1)
    for rel in (AV, VIDEO_ONLY_NO_FACE, AUDIO_ONLY, SONG, SURROUND, CARPHONE):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
    write_video(root / AV, face_frames(50), fps=25, audio=speech, audio_rate=SR)
    write_video(root / VIDEO_ONLY_NO_FACE, no_face_frames(30), fps=25)
    talk, talk_voiced = speech_like_with_segments(1.5, 48000, seed=2)
    write_audio(root / AUDIO_ONLY, np.concatenate([talk, silence(1.0, 48000)]), 48000)
    write_audio(root / SONG, speech_like_with_segments(1.0, 44100, seed=3)[0], 44100, codec="flac")
    sur = np.stack([speech_like_with_segments(1.0, 48000, seed=4)[0]] * 6, axis=1) * 0.3
    write_audio(root / SURROUND, sur, 48000)
    phone = carphone_frames(40)
    if phone is not None:
        write_video(root / CARPHONE, phone, fps=15)
    (root / "Actor_01" / "README.txt").write_text("not a clip")
    return Corpus(root, voiced, talk_voiced)


@dataclass(frozen=True)
class Ingested:
    store: Path
    first: IngestSummary
    second: IngestSummary


BROKEN = {
    "bad/zero byte.mp4": "empty",
    "bad/text.mp4": "text",
    "bad/truncated.mp4": "truncate",
    "bad/damaged.avi": "damage",
    "bad/header.wav": "wav_header",
}


def build_messy_folder(root: Path) -> Path:
    """Good clips beside every kind of broken input, plus rotation, VFR and odd paths."""
    (root / "bad").mkdir(parents=True)
    (root / "good").mkdir()
    speech = speech_like_with_segments(1.0, SR, seed=5)[0]
    for rel, how in BROKEN.items():
        if how == "truncate":
            write_video(root / rel, face_frames(25), fps=25, audio=speech, audio_rate=SR)
        elif how == "damage":
            write_video(root / rel, face_frames(50), fps=25, codec="mpeg4")
        elif how == "wav_header":
            write_audio(root / rel, speech, SR)
        corrupt(root / rel, how)  # type: ignore[arg-type]
    write_video(root / "good" / "upright.mp4", face_frames(10), fps=10)
    write_video(root / "good" / "phone.mp4", face_frames(10), fps=10, rotation=90)
    write_video(root / "good" / "vfr.mkv", face_frames(6), times=np.array([0.0, 0.04, 0.3, 0.35, 1.1, 1.25]))
    write_video(root / "good" / "one frame.mp4", face_frames(1), fps=25)
    odd = root / "good" / "Émotions été" / "clip ünï.wav"
    odd.parent.mkdir()
    write_audio(odd, speech, SR)
    return root
