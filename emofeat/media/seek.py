"""Decoding only what a sampled-frames plan keeps: seek to the keyframe before each target.

The ``uniform`` plan keeps a fixed number of frames (16 by default) of a clip of any length.
Decoding a 5-minute 1080p session through to keep 16 of its 7,500 frames spends almost all
of its time on frames it drops. The plan's demux pass (:func:`index_packets`, no decoding)
already reads every packet: their presentation times are the frames' times, and the
keyframe flags say where decoding can start. So the frames the plan keeps are known before
anything is decoded (:func:`emofeat.media.sampling.select_indices` on those times, the same
choice the decode-through pass makes), and so is what each way costs, counted in frames
decoded (:func:`plan_seek`):

* decode-through: every frame up to the last one kept;
* seek: for each keyframe that starts a run of kept frames, the frames from it to the
  last kept frame before the next such keyframe, plus :data:`SEEK_COST_FRAMES` per seek
  (flushing and restarting the decoder).

The cheaper way is taken, per stream: intra-only codecs (MJPEG, every frame a keyframe)
and long-GOP camera footage seek; short clips with one keyframe decode through. Both give
the same frames bit for bit (decoding from a keyframe of a closed GOP is exact; frames
that precede their keyframe in presentation order after a seek are dropped), with the same
times and indices. Seeking is used only where a packet is a frame: codecs in
:data:`SEEKABLE_CODECS`, every packet timed, no two packets at the same time.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from emofeat.config import VideoConfig
from emofeat.errors import DecodeError
from emofeat.media._av import PacketTally, decode_error, nominal_rate, open_decoder, start_seconds
from emofeat.media.sampling import select_indices

#: Codecs whose packets are one frame each, with exact keyframe flags.
SEEKABLE_CODECS = frozenset({"h264", "hevc", "mpeg4", "mjpeg", "mpeg2video", "prores", "dnxhd", "ffv1"})
#: What one seek costs, counted in frames decoded (the decoder restarts at a keyframe).
SEEK_COST_FRAMES = 4
#: Seek only when it decodes at most this share of what decoding through would.
SEEK_WHEN_BELOW = 0.7


@dataclass(frozen=True)
class PacketIndex:
    """A video stream's packets from one demux pass: presentation ticks in presentation
    order, the ticks of the keyframes, and whether seeking by them is exact."""

    ticks: np.ndarray  # int64, sorted: the pts of every timed packet
    keyframes: np.ndarray  # int64, sorted: the pts of each keyframe packet
    time_base: Fraction
    start: Fraction  # the clip clock's 0 on the stream's timeline (seconds)
    exact: bool  # one frame a packet, every packet timed, no duplicate times
    packets: int = 0  # packets read, timed or not
    rate: Fraction | None = None  # the stream's nominal frame rate

    def times(self) -> np.ndarray:
        """Each frame's time in seconds on the clip's clock (as decode-through times them)."""
        return np.asarray([self._seconds(t) for t in self.ticks.tolist()], np.float64)

    def _seconds(self, tick: int) -> float:
        return float(tick * self.time_base - self.start)

    def span(self) -> tuple[float, float] | None:
        """First and last presentation time (s, on the clip's clock) over the packets; when
        no packet is timed, from the packet count and the nominal rate, as frames then are
        timed (None without either)."""
        if self.ticks.size:
            return self._seconds(int(self.ticks[0])), self._seconds(int(self.ticks[-1]))
        if self.packets == 0 or self.rate is None:
            return None
        return 0.0, float((self.packets - 1) / self.rate)


@dataclass(frozen=True)
class SeekPlan:
    """Which frames to decode: ``picks`` (indices into the stream's frames in presentation
    order, as the plan keeps them, repeats included), and what each way costs in frames
    decoded."""

    picks: np.ndarray
    seek_frames: int
    through_frames: int

    @property
    def seeks(self) -> bool:
        """Whether seeking is the cheaper way."""
        return self.seek_frames <= SEEK_WHEN_BELOW * self.through_frames


def index_packets(
    container: InputContainer, stream: VideoStream, path: Path, origin: Fraction | None
) -> PacketIndex:
    """Read every packet of ``stream`` (no decoding): times, keyframes, exactness, and so the
    span the ``uniform`` plan spreads its targets over (:meth:`PacketIndex.span`).

    Raises
    ------
    DecodeError
        When reading packets fails, or fewer packets arrive than the container declares (a
        truncated file: the check decoding through makes, see :class:`PacketTally`).
    """
    tally = PacketTally(container, stream)
    ticks: list[int] = []
    keys: list[int] = []
    timed = stream.time_base is not None  # pts mean nothing without a time base
    count = 0
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            count += 1
            tally.add(packet)
            if packet.pts is None or stream.time_base is None:
                timed = False
                continue
            ticks.append(int(packet.pts))
            if packet.is_keyframe:
                keys.append(int(packet.pts))
    except av.error.FFmpegError as exc:
        raise decode_error(exc, path, "video", count, "packets") from exc
    tally.check(path, "video")
    sorted_ticks = np.unique(np.asarray(ticks, np.int64))
    exact = (
        timed
        and stream.codec_context.name in SEEKABLE_CODECS
        and len(sorted_ticks) == len(ticks) > 0
        and bool(keys)
        and min(keys) == int(sorted_ticks[0])
    )
    return PacketIndex(
        ticks=sorted_ticks,
        keyframes=np.unique(np.asarray(keys, np.int64)),
        time_base=stream.time_base or Fraction(1),
        start=start_seconds(stream) if origin is None else origin,
        exact=exact,
        packets=count,
        rate=nominal_rate(stream),
    )


def plan_seek(index: PacketIndex, config: VideoConfig) -> SeekPlan:
    """The frames ``config``'s plan keeps from the stream of ``index``, and what decoding
    them costs by seeking and by decoding through (in frames).

    Raises
    ------
    ValueError
        When the index holds no frame.
    """
    picks = select_indices(index.times(), config)
    wanted = np.unique(picks)
    cost = sum(frames for _pick, _key, frames in _steps(index, wanted))
    return SeekPlan(picks=picks, seek_frames=cost, through_frames=int(wanted[-1]) + 1)


def _steps(index: PacketIndex, wanted: np.ndarray) -> Iterator[tuple[int, int | None, int]]:
    """For each frame to decode (presentation order): the keyframe pts to seek to first
    (None: go on decoding from the last one) and the frames this step decodes, whichever
    way is cheaper."""
    keys = index.keyframes.tolist()
    ticks = index.ticks
    position = -1  # the last frame decoded so far
    for pick in wanted.tolist():
        key = keys[bisect.bisect_right(keys, int(ticks[pick])) - 1]
        first = int(np.searchsorted(ticks, key))
        on = pick - position  # frames to decode going on (from the start, at first)
        jump = SEEK_COST_FRAMES + pick - first + 1
        if first > position and jump < on:
            yield pick, key, jump
        else:
            yield pick, None, pick - position
        position = pick


def iter_sought(
    container: InputContainer, stream: VideoStream, path: Path, index: PacketIndex, plan: SeekPlan
) -> Iterator[tuple[VideoFrame, float, int]]:
    """Each distinct frame of ``plan.picks``, in order, with its time and index, decoded by
    seeking to the keyframe before it when that is ahead of the decoder.

    Raises
    ------
    UnreadableMediaError
        When the decoder cannot be opened.
    DecodeError
        When the data is corrupt, or a frame the packets promised does not decode.
    """
    open_decoder(stream, path, True)
    ticks = index.ticks
    frames: Iterator[VideoFrame] | None = None
    for pick, key, _cost in _steps(index, np.unique(plan.picks)):
        target = int(ticks[pick])
        if key is not None or frames is None:
            if key is not None:
                container.seek(key, stream=stream, backward=True, any_frame=False)
                stream.codec_context.flush_buffers()
            frames = _decode(container, stream, path)
        for frame in frames:
            if frame.pts is None:
                raise DecodeError(f"a frame of '{path}' lost its timestamp after a seek")
            pts = int(frame.pts)
            if pts < target:
                continue
            if pts != target:
                raise DecodeError(f"seeking in '{path}' did not reach the frame at pts {target} (got {pts})")
            yield frame, float(pts * index.time_base - index.start), pick
            break
        else:
            raise DecodeError(f"the video stream of '{path}' ends before the frame at pts {target}")


def _decode(container: InputContainer, stream: VideoStream, path: Path) -> Iterator[VideoFrame]:
    done = 0
    try:
        for packet in container.demux(stream):
            for frame in packet.decode():
                if frame.is_corrupt:
                    raise DecodeError(
                        f"a frame of the video stream of '{path}' is corrupt "
                        "(the file is truncated or its data is corrupt)"
                    )
                done += 1
                yield frame
    except av.error.FFmpegError as exc:
        raise decode_error(exc, path, "video", done, "frames after a seek") from exc
