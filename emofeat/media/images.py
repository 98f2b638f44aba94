"""Still images and folders of image frames (CK+ style), decoded with PyAV's image demuxers."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from av.video.frame import VideoFrame

from emofeat.errors import DecodeError, NoMediaStreamError
from emofeat.media._av import check_path, iter_video, open_input, rotation_cw, to_rgb, video_stream
from emofeat.media.suffixes import is_image_file

_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders embedded numbers by value: ``f2.png`` before ``f10.png``."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in _DIGITS.split(name) if part)


def list_sequence(folder: Path) -> list[Path]:
    """The image files of ``folder`` (not recursive, hidden files skipped), in natural order.

    Raises
    ------
    NoMediaStreamError
        When the folder holds no image file.
    """
    files = sorted(
        (p for p in folder.iterdir() if p.is_file() and is_image_file(p)), key=lambda p: natural_key(p.name)
    )
    if not files:
        raise NoMediaStreamError(
            f"folder '{folder}' holds no image files (an image sequence needs at least one)"
        )
    return files


def decode_image(path: Path) -> tuple[VideoFrame, str]:
    """Decode the single picture of an image file; returns the frame and the codec name.

    Raises
    ------
    EmptyFileError, UnreadableMediaError
        When the file is empty, missing or not an image.
    NoMediaStreamError
        When it holds no picture.
    DecodeError
        When the picture's data is damaged.
    """
    p = check_path(path)
    with open_input(p) as container:
        stream = video_stream(container)
        if stream is None:
            raise NoMediaStreamError(f"image '{p}' holds no picture")
        codec = stream.codec_context.name
        for frame, _t in iter_video(container, stream, p, strict=False):
            return frame, codec
    raise DecodeError(f"image '{p}' holds no decodable picture")  # pragma: no cover - iter_video raises first


def read_image(path: Path) -> np.ndarray:
    """An image file as an upright ``(H, W, 3)`` uint8 RGB array.

    Grey, 16-bit and alpha images are converted to 8-bit RGB (alpha dropped); a JPEG's EXIF
    orientation is applied (its mirror variants are not).

    Raises
    ------
    MediaError
        As :func:`decode_image`.
    """
    frame, _codec = decode_image(path)
    return to_rgb(frame, path)


def image_geometry(path: Path) -> tuple[int, int, int, str]:
    """``(width, height, rotation_cw, codec)`` of an image file; width and height as displayed.

    Raises
    ------
    MediaError
        As :func:`decode_image`.
    """
    frame, codec = decode_image(path)
    rotation = rotation_cw(frame)
    width, height = (frame.height, frame.width) if rotation in (90, 270) else (frame.width, frame.height)
    return width, height, rotation, codec
