"""PyAV plumbing: open containers, pick streams, open decoders, iterate frames.

Every PyAV exception is turned into an :mod:`emofeat.errors` media error here, so none of
them escapes the package.

Decoding of audio and video streams is strict: FFmpeg's ``err_detect=explode`` makes a
decoder fail on damage it detects instead of concealing it (by default FFmpeg decodes a
damaged AVI without a word, dropping or smearing frames), and frames flagged corrupt are
refused. Still images are decoded with FFmpeg's default checks, because under ``explode``
its TIFF decoder rejects files with tags it does not know (even the ones FFmpeg writes).
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import av.error
import numpy as np
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.stream import Disposition
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from emofeat.errors import DecodeError, EmptyFileError, NoMediaStreamError, UnreadableMediaError

#: Decoder options: fail on detected damage rather than conceal it.
DECODER_OPTIONS: dict[str, str] = {"err_detect": "explode"}

StreamKind = Literal["audio", "video"]

#: Demuxers whose per-stream packet count (``stream.frames``) is exact: MP4/MOV sample tables.
EXACT_COUNT_PREFIXES = ("mov,mp4",)


def check_path(path: str | Path) -> Path:
    """Return ``path`` as a Path after checking that it exists and is not an empty file.

    Raises
    ------
    UnreadableMediaError
        When the path does not exist or cannot be examined.
    EmptyFileError
        When it is a file of zero bytes.
    """
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError as exc:
        raise UnreadableMediaError(f"cannot open '{path}': no such file or directory") from exc
    except OSError as exc:
        raise UnreadableMediaError(f"cannot open '{path}': {exc.strerror or exc}") from exc
    if not stat.S_ISDIR(st.st_mode) and st.st_size == 0:
        raise EmptyFileError(f"cannot open '{path}': the file is empty (0 bytes)")
    return p


def _reason(exc: av.error.FFmpegError) -> str:
    return exc.strerror or str(exc)


@contextmanager
def open_input(path: Path) -> Iterator[InputContainer]:
    """Open a container for reading and close it afterwards.

    The absolute path is handed to FFmpeg, so a name such as ``a:b.mp4`` is never taken for
    a protocol. Undecodable metadata bytes are replaced rather than raised.

    Raises
    ------
    UnreadableMediaError
        When FFmpeg cannot open or recognise the container.
    """
    try:
        container = av.open(str(path.absolute()), metadata_errors="replace")
    except av.error.InvalidDataError as exc:
        raise UnreadableMediaError(
            f"cannot open '{path}': {_reason(exc)} (not a media file or damaged header)"
        ) from exc
    except av.error.FFmpegError as exc:
        raise UnreadableMediaError(f"cannot open '{path}': {_reason(exc)}") from exc
    try:
        yield container
    finally:
        container.close()


def video_stream(container: InputContainer) -> VideoStream | None:
    """The first video stream that is not attached cover art, or None."""
    for stream in container.streams.video:
        if not stream.disposition & Disposition.attached_pic:
            return stream
    return None


def audio_stream(container: InputContainer) -> AudioStream | None:
    """The first audio stream, or None."""
    return container.streams.audio[0] if container.streams.audio else None


def require_streams(container: InputContainer, path: Path) -> tuple[AudioStream | None, VideoStream | None]:
    """The audio and video streams of ``container``; at least one is present.

    Raises
    ------
    NoMediaStreamError
        When the container holds neither.
    """
    audio, video = audio_stream(container), video_stream(container)
    if audio is None and video is None:
        found = ", ".join(sorted({s.type for s in container.streams})) or "no streams at all"
        raise NoMediaStreamError(
            f"'{path}' holds no audio or video stream ({found}); "
            "if it should, the file is truncated or damaged"
        )
    return audio, video


def open_decoder(stream: AudioStream | VideoStream, path: Path, strict: bool = True) -> None:
    """Open the decoder of ``stream``; ``strict`` adds :data:`DECODER_OPTIONS`.

    Raises
    ------
    UnreadableMediaError
        When the stream's codec is unknown or its parameters are invalid (damaged header).
    """
    cc = stream.codec_context
    if cc is None or cc.codec is None:
        raise UnreadableMediaError(
            f"cannot decode the {stream.type} stream of '{path}': unknown codec (damaged header?)"
        )
    if cc.is_open:
        return
    if strict:
        cc.options = dict(DECODER_OPTIONS)
    try:
        cc.open(strict=False)
    except av.error.FFmpegError as exc:
        raise UnreadableMediaError(
            f"cannot open the {cc.codec.name} decoder for the {stream.type} stream of '{path}': "
            f"{_reason(exc)} (damaged header?)"
        ) from exc


def decode_error(
    exc: av.error.FFmpegError, path: Path, kind: StreamKind, done: int, unit: str
) -> DecodeError:
    """A :class:`DecodeError` saying where decoding of ``path`` stopped."""
    return DecodeError(
        f"cannot decode the {kind} stream of '{path}' after {done} {unit}: {_reason(exc)} "
        "(the file is truncated or its data is corrupt)"
    )


class PacketTally:
    """Counts a stream's packets to catch data that vanished without a decoder error.

    MP4/MOV declare every packet in their sample tables: fewer packets read means the data
    is cut short (a truncated faststart file ends without an error). An AVI header declares
    the frame count too and its demuxer silently skips a damaged chunk, so an AVI video stream
    that yields fewer packets lost some; except when its timestamps rise with gaps: that is a
    variable-rate AVI whose header also counts the dropped-frame slots it never stores.

    Uncompressed PCM audio in MP4/MOV is declared per sample (one table entry per sample
    frame, as cameras write it) while the demuxer delivers it in chunks of many samples: there
    each packet counts the samples it carries (its duration in the stream's 1/rate ticks).
    """

    def __init__(self, container: InputContainer, stream: AudioStream | VideoStream) -> None:
        name = container.format.name
        self.declared = int(stream.frames or 0)
        self.exact = name.startswith(EXACT_COUNT_PREFIXES)
        self.per_sample = (
            self.exact and stream.type == "audio" and stream.codec_context.name.startswith("pcm_")
        )
        self.avi = name == "avi" and stream.type == "video"
        self.count = 0
        self.rising_with_gaps = False  # timestamps increase, some by more than one tick
        self.disordered = False
        self._last_pts: int | None = None

    def add(self, packet: av.Packet) -> None:
        """Count one demuxed packet (the empty flush packet is ignored)."""
        if packet.size == 0:
            return
        self.count += int(packet.duration or 1) if self.per_sample else 1
        if packet.pts is not None:
            if self._last_pts is not None:
                step = packet.pts - self._last_pts
                self.disordered |= step <= 0
                self.rising_with_gaps |= step > 1
            self._last_pts = packet.pts

    def check(self, path: Path, kind: StreamKind) -> None:
        """Raise when packets the container declares never arrived.

        Raises
        ------
        DecodeError
            When fewer packets were read than declared (see the class docstring).
        """
        if not self.declared or self.count >= self.declared:
            return
        if self.exact or (self.avi and (self.disordered or not self.rising_with_gaps)):
            unit = "samples" if self.per_sample else "packets"
            raise DecodeError(
                f"the {kind} stream of '{path}' ends after {self.count} of the {self.declared} {unit} "
                "its container declares (the file is truncated or its data is corrupt)"
            )


def start_seconds(stream: AudioStream | VideoStream) -> Fraction:
    """The stream's start time in seconds (0 when unknown)."""
    if stream.start_time is None or stream.time_base is None:
        return Fraction(0)
    return stream.start_time * stream.time_base


def first_audio_time(container: InputContainer, stream: AudioStream, path: Path) -> Fraction:
    """Seconds on the container's timeline of the first sample the audio decoder delivers.

    This is after the decoder has dropped any encoder delay (AAC and Opus priming samples)
    that the container marks for skipping, so it is the time of sample 0 of
    :func:`emofeat.media.load_audio`. Falls back to the stream's start time when the first
    frame carries no timestamp. Consumes packets: use a container opened for this alone.

    Raises
    ------
    UnreadableMediaError
        When the decoder cannot be opened.
    """
    open_decoder(stream, path)
    try:
        for packet in container.demux(stream):
            for frame in packet.decode():
                if frame.pts is not None and frame.time_base is not None:
                    return Fraction(frame.pts) * frame.time_base
                return start_seconds(stream)
    except av.error.FFmpegError:
        pass  # the full decode reports the damage, with its position
    return start_seconds(stream)


def stream_starts(path: Path) -> tuple[Fraction | None, Fraction | None]:
    """Container times (s) of the first delivered audio sample and the video stream's start.

    None for a missing stream.

    Raises
    ------
    MediaError
        When the file cannot be opened or holds no audio or video stream.
    """
    with open_input(path) as container:
        audio, video = require_streams(container, path)
        video_first = start_seconds(video) if video is not None else None
        audio_first = first_audio_time(container, audio, path) if audio is not None else None
    return audio_first, video_first


def clock_origin(path: Path) -> Fraction:
    """Where the clip's clock is 0 on the container's timeline: the earliest stream start.

    The clip's clock is the container's presentation timeline shifted so that the earlier
    of the video stream's start and the first delivered audio sample is at 0. Events that
    are simultaneous in the file get the same time on it, whatever each stream's start
    offset, encoder delay or edit list.

    Raises
    ------
    MediaError
        When the file cannot be opened or holds no audio or video stream.
    """
    starts = [t for t in stream_starts(path) if t is not None]
    return min(starts) if starts else Fraction(0)


def nominal_rate(stream: VideoStream) -> Fraction | None:
    """The stream's frame rate: average, else guessed, else base; None when none is known."""
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            return Fraction(rate)
    return None


def iter_video(
    container: InputContainer,
    stream: VideoStream,
    path: Path,
    strict: bool = True,
    origin: Fraction | None = None,
) -> Iterator[tuple[VideoFrame, float]]:
    """Decode every frame of ``stream`` in presentation order, with its time in seconds.

    ``strict`` (the default; off for still images) fails on any damage the decoder detects.

    Times are ``pts * time_base`` minus ``origin`` (the clip clock's 0 on the container's
    timeline, see :func:`clock_origin`; default: the video stream's own start time); a frame
    without a timestamp (raw elementary streams) is timed ``index / nominal rate``.

    Raises
    ------
    UnreadableMediaError
        When the decoder cannot be opened.
    DecodeError
        On truncated or corrupt data, on a frame the decoder flags corrupt, or when the stream
        yields no frame at all.
    """
    open_decoder(stream, path, strict)
    start = start_seconds(stream) if origin is None else origin
    rate = nominal_rate(stream)
    tally = PacketTally(container, stream)
    done = 0
    try:
        for packet in container.demux(stream):
            tally.add(packet)
            for frame in packet.decode():
                if frame.is_corrupt:
                    raise DecodeError(
                        f"frame {done} of the video stream of '{path}' is corrupt "
                        "(the file is truncated or its data is corrupt)"
                    )
                if frame.pts is not None and frame.time_base is not None:
                    t = float(frame.pts * frame.time_base - start)
                elif rate is not None:
                    t = float(done / rate)
                else:
                    raise DecodeError(f"the video stream of '{path}' has neither timestamps nor a frame rate")
                yield frame, t
                done += 1
    except av.error.FFmpegError as exc:
        raise decode_error(exc, path, "video", done, "frames") from exc
    if done == 0:
        raise DecodeError(f"the video stream of '{path}' holds no decodable frame")
    if strict:
        tally.check(path, "video")


def rotation_cw(frame: VideoFrame) -> int:
    """Clockwise degrees (0, 90, 180, 270) to turn ``frame`` upright, from its display matrix.

    PyAV's ``frame.rotation`` is counter-clockwise; flips in the matrix are ignored.
    """
    return round(-frame.rotation / 90.0) % 4 * 90


def to_rgb(frame: VideoFrame, path: Path) -> np.ndarray:
    """The frame as an upright ``(H, W, 3)`` uint8 RGB array (rotation applied).

    Raises
    ------
    DecodeError
        When the pixel-format conversion fails.
    """
    try:
        rgb = frame.to_ndarray(format="rgb24")
    except av.error.FFmpegError as exc:
        raise DecodeError(f"cannot convert a frame of '{path}' to RGB: {_reason(exc)}") from exc
    turns = rotation_cw(frame) // 90
    if turns:
        rgb = np.rot90(rgb, k=-turns)  # negative k turns clockwise
    return np.ascontiguousarray(rgb, dtype=np.uint8)
