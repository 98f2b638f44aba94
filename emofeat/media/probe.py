"""Describe a media file, still image or image folder without decoding it all."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from av.audio.stream import AudioStream
from av.container import InputContainer
from av.video.stream import VideoStream

from emofeat.errors import ImplausibleHeaderError
from emofeat.media._av import (
    EXACT_COUNT_PREFIXES,
    check_path,
    iter_video,
    open_decoder,
    open_input,
    require_streams,
    rotation_cw,
    start_seconds,
    stream_starts,
)
from emofeat.media.images import image_geometry, list_sequence
from emofeat.media.records import MediaInfo, MediaKind
from emofeat.media.suffixes import is_image_file


def probe(path: str | Path) -> MediaInfo:
    """Describe a container file, a still image or a folder of image frames.

    Decodes at most the first video frame (to read its rotation) and the first audio frame
    (to place the streams on one clock, see ``MediaInfo.origin``).

    Parameters
    ----------
    path : str or pathlib.Path
        A media file, an image file (by suffix, see ``IMAGE_SUFFIXES``) or a folder whose
        image files are the frames of one sequence.

    Returns
    -------
    MediaInfo

    Raises
    ------
    EmptyFileError
        The file has zero bytes.
    UnreadableMediaError
        The path does not exist, is not media, or its header is damaged.
    NoMediaStreamError
        The file has neither an audio nor a video stream; the folder holds no image.
    DecodeError
        The first video frame cannot be decoded.
    ImplausibleHeaderError
        The header declares a sample rate, channel count, frame rate or duration no real
        recording has (:func:`check_header`).
    """
    p = check_path(path)
    if p.is_dir():
        files = list_sequence(p)
        width, height, rotation, codec = image_geometry(files[0])
        return _picture_info(path, "image_sequence", codec, width, height, rotation, len(files))
    if is_image_file(p):
        width, height, rotation, codec = image_geometry(p)
        return _picture_info(path, "image", codec, width, height, rotation, 1)
    audio_first, video_first = stream_starts(p)
    origin = min(t for t in (audio_first, video_first) if t is not None)
    with open_input(p) as container:
        audio, video = require_streams(container, p)
        if audio is not None:
            open_decoder(audio, p)
        size: tuple[int, int] | None = None
        rotation = 0
        if video is not None:
            frame, _t = next(iter_video(container, video, p, origin=origin))
            rotation = rotation_cw(frame)
            size = (frame.height, frame.width) if rotation in (90, 270) else (frame.width, frame.height)
        return check_header(
            MediaInfo(
                path=str(path),
                kind="av",
                container=container.format.name,
                duration=_duration(container, audio, video, origin),
                has_audio=audio is not None,
                has_video=video is not None,
                audio_sample_rate=audio.codec_context.sample_rate if audio is not None else None,
                audio_channels=audio.codec_context.channels if audio is not None else None,
                audio_codec=audio.codec_context.name if audio is not None else None,
                video_codec=video.codec_context.name if video is not None else None,
                width=size[0] if size else None,
                height=size[1] if size else None,
                rotation=rotation,
                frame_count=_frame_count(container, video),
                avg_fps=float(video.average_rate) if video is not None and video.average_rate else None,
                origin=origin,
                audio_start=None if audio_first is None else float(audio_first - origin),
                video_start=None if video_first is None else float(video_first - origin),
            )
        )


#: What a real recording never exceeds; a header that declares more is refused.
MAX_SAMPLE_RATE = 768_000  # Hz (studio audio stops at 384 kHz)
MAX_CHANNELS = 64  # 22.2 surround has 24, third-order Ambisonics 16
MAX_FPS = 10_000.0  # high-speed cameras in affect research film at up to 1,000
MAX_DURATION_S = 24 * 3600.0  # a day: the longest sessions of the corpora are hours


def check_header(info: MediaInfo) -> MediaInfo:
    """``info`` if what its header declares is plausible (see the ``MAX_*`` limits).

    Raises
    ------
    ImplausibleHeaderError
        Naming the value, the limit and the file.
    """
    checks = (
        ("audio sample rate", info.audio_sample_rate, MAX_SAMPLE_RATE, "Hz"),
        ("audio channel count", info.audio_channels, MAX_CHANNELS, ""),
        ("video frame rate", info.avg_fps, MAX_FPS, "fps"),
        ("duration", info.duration, MAX_DURATION_S, "s"),
    )
    for what, value, limit, unit in checks:
        if value is not None and value > limit:
            raise ImplausibleHeaderError(
                f"{info.path}: its header declares {what} = {value:g} {unit}".rstrip()
                + f", more than any real recording (limit {limit:g} {unit}".rstrip()
                + "); the file is damaged or crafted: refused without decoding it"
            )
    return info


def _picture_info(
    path: str | Path, kind: MediaKind, codec: str, width: int, height: int, rotation: int, count: int
) -> MediaInfo:
    return MediaInfo(
        path=str(path),
        kind=kind,
        container=None,
        duration=None,
        has_audio=False,
        has_video=True,
        audio_sample_rate=None,
        audio_channels=None,
        audio_codec=None,
        video_codec=codec,
        width=width,
        height=height,
        rotation=rotation,
        frame_count=count,
        avg_fps=None,
        video_start=0.0,
    )


def _duration(
    container: InputContainer, audio: AudioStream | None, video: VideoStream | None, origin: Fraction
) -> float | None:
    """Where the last stream ends on the clip's clock (its start offset included)."""
    known = [
        float(start_seconds(s) - origin + s.duration * s.time_base)
        for s in (audio, video)
        if s is not None and s.duration is not None and s.time_base is not None
    ]
    if known:
        return max(known)
    if container.duration is not None:
        return container.duration / 1_000_000  # AV_TIME_BASE
    return None


def _frame_count(container: InputContainer, video: VideoStream | None) -> int | None:
    if video is None or not video.frames:
        return None
    if container.format.name.startswith(EXACT_COUNT_PREFIXES):
        return int(video.frames)
    return None
