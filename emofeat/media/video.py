"""Decode video frames at a sampling plan, by time, one frame at a time.

:func:`iter_frames` is the streaming reader the pipeline uses: it holds at most two decoded
frames (the current one and the one before, which the nearest-frame plans may still pick)
and converts to RGB only the frames the plan keeps, so memory does not grow with the
clip's length or resolution. :func:`read_frames` stacks the same frames into one array for
short clips and notebooks.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from av.video.frame import VideoFrame
from PIL import Image

from emofeat.config import VideoConfig
from emofeat.errors import DecodeError, TooLargeError
from emofeat.media._av import (
    check_path,
    clock_origin,
    iter_video,
    open_input,
    require_streams,
    to_rgb,
)
from emofeat.media.images import list_sequence, read_image
from emofeat.media.records import Frames
from emofeat.media.sampling import FrameSelector, select_indices
from emofeat.media.seek import SeekPlan, index_packets, iter_sought, plan_seek
from emofeat.media.suffixes import is_image_file

#: Largest frame (width x height) decoded by default: 100 megapixels, above any phone camera
#: in common use (48 MP and 108 MP sensors) and far below what would exhaust a worker's memory
#: (a frame costs about 9 bytes a pixel while it is decoded, converted and resized).
DEFAULT_MAX_PIXELS = 100_000_000


@dataclass(frozen=True)
class Frame:
    """One kept frame: ``image`` ``(H, W, 3)`` uint8 RGB upright, its ``time`` in seconds on
    the clip's clock and its ``index`` among all decoded frames of the stream."""

    image: np.ndarray
    time: float
    index: int


def iter_frames(
    path: str | Path,
    config: VideoConfig,
    origin: Fraction | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Iterator[Frame]:
    """Yield the frames a sampling plan keeps, in order, one at a time.

    One sequential decode; a frame is converted to RGB only when the plan keeps it. Frames
    are chosen by presentation time (``pts * time_base``), so variable frame rate comes out
    right (see :mod:`emofeat.media.sampling` for the plans). Rotation metadata is applied. A
    still image is one frame at time 0, whatever the plan (padding to a fixed T is the
    loaders' job); a folder's image files, in natural name order, are frames at
    ``i / config.sequence_fps``. A file without a video stream yields nothing. When the
    ``uniform`` plan repeats a frame (a clip shorter than T frames), the same
    :class:`Frame` object is yielded again.

    Parameters
    ----------
    path : str or pathlib.Path
        A media file, an image file or a folder of image frames.
    config : VideoConfig
        The sampling plan.
    origin : fractions.Fraction, optional
        The clip clock's 0 on the container's timeline (``MediaInfo.origin``); by default
        the file's own.
    max_pixels : int
        Frames with more pixels than this are refused before they are decoded.

    Raises
    ------
    EmptyFileError
        The file has zero bytes.
    UnreadableMediaError
        The path does not exist, is not media, its header is damaged or its codec unknown.
    NoMediaStreamError
        The file has neither an audio nor a video stream; the folder holds no image.
    TooLargeError
        A frame is larger than ``max_pixels`` (kind ``too_large``).
    DecodeError
        The video data is truncated or corrupt, no frame decodes, or the frame size changes
        within the stream (or between a folder's images).
    """
    p = check_path(path)
    if p.is_dir():
        yield from _sequence(p, config, max_pixels)
        return
    if is_image_file(p):
        _check_picture(p, max_pixels)
        yield Frame(read_image(p), 0.0, 0)
        return
    zero = clock_origin(p) if origin is None else origin
    span: tuple[float, float] | None = None
    plan: SeekPlan | None = None
    if config.sampling == "uniform":
        with open_input(p) as container:
            _audio, video = require_streams(container, p)
            if video is None:
                return
            index = index_packets(container, video, p, zero)
        span = index.span()
        if index.exact:
            plan = plan_seek(index, config)
    with open_input(p) as container:
        _audio, video = require_streams(container, p)
        if video is None:
            return
        cc = video.codec_context
        _check_size(cc.width, cc.height, max_pixels, p)
        if plan is not None and plan.seeks:
            yield from _sought(iter_sought(container, video, p, index, plan), plan, p, max_pixels)
            return
        yield from _select(iter_video(container, video, p, origin=zero), config, span, p, max_pixels)


def _sought(
    frames: Iterator[tuple[VideoFrame, float, int]], plan: SeekPlan, path: Path, max_pixels: int
) -> Iterator[Frame]:
    """The kept frames of a seeking decode, a repeated pick yielding the same object again."""
    shape: tuple[int, ...] | None = None
    cache: Frame | None = None
    for pick in plan.picks.tolist():
        if cache is None or cache.index != pick:
            frame, t, index = next(frames)
            if index != pick:  # pragma: no cover - iter_sought yields the distinct picks in order
                raise DecodeError(f"internal frame-selection error reading '{path}'")
            _check_size(frame.width, frame.height, max_pixels, path)
            cache = Frame(to_rgb(frame, path), t, pick)
            shape = _same_size(shape, cache, path)
        yield cache


def read_frames(path: str | Path, config: VideoConfig, origin: Fraction | None = None) -> Frames | None:
    """Every frame :func:`iter_frames` keeps, stacked: for short clips (memory grows with T).

    Returns
    -------
    Frames or None
        ``images`` ``(T, H, W, 3)`` uint8 RGB, ``times`` ``(T,)`` float64 seconds on the clip's
        clock, ``indices`` ``(T,)`` int64; None when the file has no video stream (audio only).

    Raises
    ------
    MediaError
        As :func:`iter_frames`.
    """
    frames = list(iter_frames(path, config, origin))
    if not frames:
        return None
    return Frames(
        images=np.stack([f.image for f in frames]).astype(np.uint8, copy=False),
        times=np.asarray([f.time for f in frames], dtype=np.float64),
        indices=np.asarray([f.index for f in frames], dtype=np.int64),
    )


def check_frame_size(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
    """Refuse media whose frames exceed ``max_pixels``, reading headers only.

    A still image's size comes from its header, a folder's from its first image, a video's
    from its stream parameters. Call it before anything decodes a frame (even
    :func:`emofeat.media.probe` decodes the first one).

    Raises
    ------
    TooLargeError
        When a frame is larger than ``max_pixels`` (kind ``too_large``).
    MediaError
        When the path is missing, empty or not media.
    """
    p = check_path(path)
    if p.is_dir():
        _check_picture(list_sequence(p)[0], max_pixels)
    elif is_image_file(p):
        _check_picture(p, max_pixels)
    else:
        with open_input(p) as container:
            _audio, video = require_streams(container, p)
            if video is not None:
                _check_size(video.codec_context.width, video.codec_context.height, max_pixels, p)


def _check_size(width: int, height: int, max_pixels: int, path: Path) -> None:
    if width * height > max_pixels:
        raise TooLargeError(
            f"'{path.name}' has {width}x{height} frames ({width * height / 1e6:.1f} megapixels), over "
            f"the limit of {max_pixels / 1e6:.1f} megapixels; raise it with --max-megapixels "
            "if the machine has the memory (about 9 bytes a pixel)"
        )


def _check_picture(path: Path, max_pixels: int) -> None:
    """Refuse a still image from its header alone."""
    size = picture_size(path)
    if size is not None:
        _check_size(size[0], size[1], max_pixels, path)


def picture_size(path: Path) -> tuple[int, int] | None:
    """``(width, height)`` of a still image from its header (no pixel data is read); None
    for a format Pillow does not know (FFmpeg then decodes it and reports any damage).

    Pillow's own plug-ins parse the header; :func:`PIL.Image.open` is not used because its
    decompression-bomb guard would refuse exactly the images whose size we want to report.
    """
    Image.init()
    try:
        with path.open("rb") as fh:
            prefix = fh.read(16)
            for factory, accept in Image.OPEN.values():
                fh.seek(0)
                if accept is not None and not accept(prefix):
                    continue
                try:
                    image = factory(fh, str(path))
                except (OSError, ValueError, SyntaxError, IndexError, TypeError, struct.error):
                    continue
                width, height = image.size
                return int(width), int(height)
    except OSError:
        return None
    return None


def _select(
    frames: Iterator[tuple[VideoFrame, float]],
    config: VideoConfig,
    span: tuple[float, float] | None,
    path: Path,
    max_pixels: int,
) -> Iterator[Frame]:
    selector: FrameSelector | None = None
    prev: tuple[VideoFrame, float] | None = None
    cache: Frame | None = None  # the last converted frame, for repeats
    shape: tuple[int, ...] | None = None
    index = -1
    for frame, t in frames:
        index += 1
        if selector is None:
            _check_size(frame.width, frame.height, max_pixels, path)
            selector = FrameSelector(config, span if span is not None else (t, t))
        for pick in selector.push(t):
            held = (frame, t) if pick == index else prev
            if held is None:  # pragma: no cover - the selector only picks this or the previous frame
                raise DecodeError(f"internal frame-selection error reading '{path}'")
            if cache is None or cache.index != pick:
                cache = Frame(to_rgb(held[0], path), held[1], pick)
                shape = _same_size(shape, cache, path)
            yield cache
        prev = (frame, t)
    if selector is not None and prev is not None:
        for pick in selector.finish():
            if cache is None or cache.index != pick:
                cache = Frame(to_rgb(prev[0], path), prev[1], pick)
                shape = _same_size(shape, cache, path)
            yield cache


def _same_size(shape: tuple[int, ...] | None, frame: Frame, path: Path) -> tuple[int, ...]:
    got = frame.image.shape
    if shape is not None and got != shape:
        raise DecodeError(
            f"the frame size of '{path}' changes from {shape[1]}x{shape[0]} "
            f"to {got[1]}x{got[0]} at frame {frame.index}; emofeat needs one size per clip"
        )
    return got


def _sequence(folder: Path, config: VideoConfig, max_pixels: int) -> Iterator[Frame]:
    files = list_sequence(folder)
    times = np.arange(len(files), dtype=np.float64) / config.sequence_fps
    shape: tuple[int, ...] | None = None
    cache: Frame | None = None
    for pick in select_indices(times, config).tolist():
        if cache is None or cache.index != pick:
            _check_picture(files[pick], max_pixels)
            cache = Frame(read_image(files[pick]), float(times[pick]), pick)
            shape = _same_size(shape, cache, files[pick])
        yield cache
