"""Decode video frames at a sampling plan, by time, converting only the frames kept."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from av.video.frame import VideoFrame

from emofeat.config import VideoConfig
from emofeat.errors import DecodeError
from emofeat.media._av import check_path, iter_video, open_input, packet_span, require_streams, to_rgb
from emofeat.media.images import list_sequence, read_image
from emofeat.media.records import Frames
from emofeat.media.sampling import FrameSelector, select_indices
from emofeat.media.suffixes import is_image_file


def read_frames(path: str | Path, config: VideoConfig) -> Frames | None:
    """Decode the frames a sampling plan keeps from a video, a still image or an image folder.

    One sequential decode; a frame is converted to RGB only when the plan keeps it. Frames
    are chosen by presentation time (``pts * time_base``), so variable frame rate comes out
    right (see :mod:`emofeat.media.sampling` for the plans). Rotation metadata is applied.
    A still image is a one-frame video at time 0; a folder's image files, in natural name
    order, are frames at ``i / config.sequence_fps``.

    Parameters
    ----------
    path : str or pathlib.Path
        A media file, an image file or a folder of image frames.
    config : VideoConfig
        The sampling plan. ``uniform`` always yields exactly ``config.frames`` frames
        (repeating the nearest frames of a short clip); ``all`` holds every frame in memory.

    Returns
    -------
    Frames or None
        ``images`` ``(T, H, W, 3)`` uint8 RGB, ``times`` ``(T,)`` float64 seconds,
        ``indices`` ``(T,)`` int64; None when the file has no video stream (audio only).

    Raises
    ------
    EmptyFileError
        The file has zero bytes.
    UnreadableMediaError
        The path does not exist, is not media, its header is damaged or its codec unknown.
    NoMediaStreamError
        The file has neither an audio nor a video stream; the folder holds no image.
    DecodeError
        The video data is truncated or corrupt, no frame decodes, or the frame size changes
        within the stream (or between a folder's images).
    """
    p = check_path(path)
    if p.is_dir():
        return _read_sequence(p, config)
    if is_image_file(p):
        return _assemble(select_indices(np.zeros(1), config), np.zeros(1), lambda _i: read_image(p), [p])
    span: tuple[float, float] | None = None
    if config.sampling == "uniform":
        with open_input(p) as container:
            _audio, video = require_streams(container, p)
            if video is None:
                return None
            span = packet_span(container, video, p)
    with open_input(p) as container:
        _audio, video = require_streams(container, p)
        if video is None:
            return None
        return _decode_selected(iter_video(container, video, p), config, span, p)


def _decode_selected(
    frames: Iterator[tuple[VideoFrame, float]],
    config: VideoConfig,
    span: tuple[float, float] | None,
    path: Path,
) -> Frames:
    images: list[np.ndarray] = []
    times: list[float] = []
    indices: list[int] = []
    selector: FrameSelector | None = None
    prev: tuple[VideoFrame, float] | None = None
    cache: tuple[int, np.ndarray] | None = None  # the last converted frame, for repeats
    index = -1
    for frame, t in frames:
        index += 1
        if selector is None:
            selector = FrameSelector(config, span if span is not None else (t, t))
        for pick in selector.push(t):
            held = (frame, t) if pick == index else prev
            if held is None:  # pragma: no cover - the selector only picks this or the previous frame
                raise DecodeError(f"internal frame-selection error reading '{path}'")
            if cache is None or cache[0] != pick:
                cache = (pick, to_rgb(held[0], path))
            _append(images, times, indices, cache[1], held[1], pick, path)
        prev = (frame, t)
    if selector is not None and prev is not None:
        for pick in selector.finish():
            if cache is None or cache[0] != pick:
                cache = (pick, to_rgb(prev[0], path))
            _append(images, times, indices, cache[1], prev[1], pick, path)
    return _stack(images, times, indices)


def _append(
    images: list[np.ndarray],
    times: list[float],
    indices: list[int],
    rgb: np.ndarray,
    t: float,
    index: int,
    path: Path,
) -> None:
    if images and rgb.shape != images[0].shape:
        raise DecodeError(
            f"the frame size of '{path}' changes from {images[0].shape[1]}x{images[0].shape[0]} "
            f"to {rgb.shape[1]}x{rgb.shape[0]} at frame {index}; emofeat needs one size per clip"
        )
    images.append(rgb)
    times.append(t)
    indices.append(index)


def _stack(images: list[np.ndarray], times: list[float], indices: list[int]) -> Frames:
    return Frames(
        images=np.stack(images).astype(np.uint8, copy=False),
        times=np.asarray(times, dtype=np.float64),
        indices=np.asarray(indices, dtype=np.int64),
    )


def _read_sequence(folder: Path, config: VideoConfig) -> Frames:
    files = list_sequence(folder)
    times = np.arange(len(files), dtype=np.float64) / config.sequence_fps
    return _assemble(select_indices(times, config), times, lambda i: read_image(files[i]), files)


def _assemble(
    picks: np.ndarray, times: np.ndarray, load: Callable[[int], np.ndarray], sources: list[Path]
) -> Frames:
    """Frames from known picks, loading each picked picture once."""
    loaded: dict[int, np.ndarray] = {}
    images: list[np.ndarray] = []
    out_times: list[float] = []
    out_indices: list[int] = []
    for pick in picks.tolist():
        if pick not in loaded:
            loaded[pick] = load(pick)
        _append(images, out_times, out_indices, loaded[pick], float(times[pick]), pick, sources[pick])
    return _stack(images, out_times, out_indices)
