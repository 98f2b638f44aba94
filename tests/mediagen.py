"""Small media generated at test time, shared by every test in the project.

The writers, signals and pictures live in :mod:`emofeat.media.synth` (the demo and the
benchmark use them too); this module re-exports them and adds the broken inputs that only
tests need (:func:`corrupt`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from emofeat.media.synth import (
    AUDIO_CODECS,
    LAYOUTS,
    carphone_frames,
    carphone_path,
    face_frames,
    no_face_frames,
    numbered_frames,
    orientation_pattern,
    read_number,
    silence,
    sine,
    speech_like,
    speech_like_with_segments,
    write_audio,
    write_image,
    write_image_sequence,
    write_video,
)

__all__ = [
    "AUDIO_CODECS",
    "LAYOUTS",
    "CorruptHow",
    "carphone_frames",
    "carphone_path",
    "corrupt",
    "face_frames",
    "no_face_frames",
    "numbered_frames",
    "orientation_pattern",
    "read_number",
    "silence",
    "sine",
    "speech_like",
    "speech_like_with_segments",
    "write_audio",
    "write_image",
    "write_image_sequence",
    "write_video",
]

CorruptHow = Literal["empty", "text", "truncate", "damage", "wav_header"]


# --------------------------------------------------------------------------- broken inputs


def corrupt(path: str | Path, how: CorruptHow) -> Path:
    """Break the file at ``path`` in place (or create it broken) and return ``path``.

    ``empty``
        Zero bytes (created if missing).
    ``text``
        Plain text, whatever the suffix (e.g. a text file renamed ``.mp4``).
    ``truncate``
        Cut to half its size (an MP4 written without faststart loses its index).
    ``damage``
        Overwrite 1/20 of the file (at least 512 bytes) in the middle with a fixed byte
        pattern: the headers survive, the stream data does not.
    ``wav_header``
        Overwrite the ``RIFF``/``WAVE``/``fmt `` magic of a WAV file.
    """
    path = Path(path)
    if how == "empty":
        path.write_bytes(b"")
    elif how == "text":
        path.write_text("This is not a video, just text with a media suffix.\n" * 40, encoding="utf-8")
    elif how == "truncate":
        whole = path.read_bytes()
        path.write_bytes(whole[: len(whole) // 2])
    elif how == "damage":
        data = bytearray(path.read_bytes())
        length = max(512, len(data) // 20)
        mid = len(data) // 2
        data[mid : mid + length] = bytes((i * 37 + 11) % 256 for i in range(length))[: len(data) - mid]
        path.write_bytes(bytes(data))
    elif how == "wav_header":
        data = bytearray(path.read_bytes())
        if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
            raise ValueError(f"{path} is not a WAV file")
        data[0:4], data[8:16] = b"JUNK", b"JUNKJUNK"
        path.write_bytes(bytes(data))
    else:
        raise ValueError(f"unknown corruption {how!r}")
    return path
