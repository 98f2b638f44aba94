"""Per-clip work: decode, faces, audio features, tags, validation, streamed.

:func:`process_clip` turns one media file into the arrays the store keeps for it, or raises
an :class:`~emofeat.errors.EmofeatError` whose ``stage`` and ``kind`` say where and why it
failed. It has no Prefect, store or corpus knowledge, so tests and notebooks call it as is.

Memory does not grow with the clip: frames flow decode -> detect -> align -> crop one at a
time (decoding runs on its own thread, one frame ahead of detection, and the audio features
on a third), no full-resolution frame outlives its crop, and with a ``sink`` the face series
leave in segments of :data:`SEGMENT_FRAMES` frames as they are made. What stays in memory
for the whole clip is small: the audio features, and the frame times and face-present flags
the validation gates need (9 bytes a frame).

Every time series is on one clock, the clip's: 0 at the earliest stream start of the file
(see :attr:`emofeat.media.MediaInfo.origin`), so a face and a sound that are simultaneous
in the file have the same time in the store, whatever each stream's start offset.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
import traceback
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import ParamSpec, TypeVar

import numpy as np

from emofeat.config import FeatureConfig
from emofeat.errors import EmofeatError, NoMediaStreamError
from emofeat.faces import Detections, FaceDetector, FaceFrame, FaceTracker, stack_track
from emofeat.media import DEFAULT_MAX_PIXELS, Frame, MediaInfo, iter_frames, load_audio, probe
from emofeat.media.video import check_frame_size
from emofeat.pipeline.audio_features import PER_CLIP, audio_arrays
from emofeat.pipeline.timing import StageTimes
from emofeat.pipeline.validate import validate

P = ParamSpec("P")
R = TypeVar("R")
log = logging.getLogger(__name__)

#: Arrays stored once per clip (all others have time, or a segment, on axis 0).
PER_CLIP_KEYS = PER_CLIP
#: The face series, streamed in segments.
FACE_KEYS = ("face", "face_present", "face_score", "face_bbox", "face_landmarks", "face_times")
#: Frames per streamed segment of face series (about 9.6 MB of 112x112 crops).
SEGMENT_FRAMES = 256
#: Decoded frames that may wait for the detector.
_QUEUE_FRAMES = 4

Sink = Callable[[dict[str, np.ndarray]], None]


@dataclass(frozen=True)
class ClipFeatures:
    """What one clip yields: its arrays plus a few facts for the ledger.

    With a sink, ``arrays`` holds everything but the face series (the sink received those);
    without one, it holds them too. ``audio_start`` and ``video_start`` place each stream's
    first sample / frame on the clip's clock (None for a missing stream).
    """

    arrays: dict[str, np.ndarray]
    duration: float | None
    frames: int
    face_ratio: float | None
    audio_start: float | None = None
    video_start: float | None = None


def process_clip(
    path: Path,
    config: FeatureConfig,
    detector: FaceDetector,
    sink: Sink | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    *,
    audio_path: Path | None = None,
    side: str | None = None,
    times: StageTimes | None = None,
) -> ClipFeatures:
    """Compute every feature of the clip at ``path``.

    A clip with no audio stream gets empty audio series and NaN eGeMAPS functionals; a clip
    with no video stream gets empty face series. Neither is an error.

    With ``audio_path``, the clip is one recording stored as two files: the audio comes from
    ``audio_path`` and only the video from ``path``. Both are on the recording's clock: the
    audio file's first sample lies where ``path``'s own audio starts when it has one (the
    separate file was taken from it, as CREMA-D's WAVs were), else at the video file's 0.

    Parameters
    ----------
    path : pathlib.Path
        A media file, still image or image-sequence folder.
    config : FeatureConfig
        What to compute.
    detector : FaceDetector
        The face detector (one per process; not thread-safe across clips).
    sink : callable, optional
        Receives the face series (the :data:`FACE_KEYS`) in consecutive segments of at most
        :data:`SEGMENT_FRAMES` frames, as they are made. Without it they are collected and
        returned in ``arrays`` (memory then grows with the clip).
    max_pixels : int
        Frames larger than this are refused before decoding (kind ``too_large``).
    audio_path : pathlib.Path, optional
        The file the audio comes from, when not ``path`` (which then gives only the video).
    side : {"left", "right"}, optional
        Follow the face on this side of the frame (one of two people), not the largest.
    times : StageTimes, optional
        Receives the seconds spent in each stage (probe, decode, detect, align, audio
        features, validate; see :mod:`emofeat.pipeline.timing`).

    Raises
    ------
    EmofeatError
        With ``stage`` and ``kind`` set, when any step fails (decode, faces, features,
        validation).
    """
    times = times if times is not None else StageTimes()
    with times.timed("probe"):
        _stage("probe", check_frame_size, path, max_pixels)  # before any frame is decoded
        info = _stage("probe", probe, path)
        audio_from = AudioFrom(path, info.origin, 0.0)
        if audio_path is not None:
            info, audio_from = _stage("probe", _with_audio_of, info, audio_path)
    if not (info.has_audio or info.has_video):
        raise NoMediaStreamError(f"{path.name}: no audio or video stream", stage="probe")
    collected: list[dict[str, np.ndarray]] = []
    out: Sink = sink if sink is not None else collected.append
    arrays: dict[str, np.ndarray] = {}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="emofeat-audio") as pool:
        audio = pool.submit(_audio, audio_from, config, times) if info.has_audio else None
        try:
            frame_times, present = _faces(path, info, config, detector, out, max_pixels, side, times)
        finally:
            samples = _audio_result(audio, config, arrays)
    if sink is None:
        arrays |= _concat(collected, config.faces.crop_size)
    features = ClipFeatures(
        arrays=arrays,
        duration=info.duration,
        frames=len(frame_times),
        face_ratio=float(present.mean()) if len(present) else None,
        audio_start=info.audio_start,
        video_start=info.video_start,
    )
    gates = dict(arrays, face_times=frame_times, face_present=present)
    with times.timed("validate"):
        _stage("validate", validate, gates, info, samples, config)
    return features


def _audio_result(
    audio: Future[tuple[dict[str, np.ndarray], np.ndarray]] | None,
    config: FeatureConfig,
    out: dict[str, np.ndarray],
) -> np.ndarray | None:
    """Store the audio thread's arrays in ``out``; return the samples (None without audio)."""
    if audio is None:
        out |= audio_arrays(None, 0.0, config.audio)
        return None
    arrays, samples = audio.result()
    out |= arrays
    return samples


@dataclass(frozen=True)
class AudioFrom:
    """Where a clip's audio is decoded from: a file, the 0 of that file's own clock on its
    timeline (``MediaInfo.origin``), and where that 0 lies on the clip's clock (seconds)."""

    path: Path
    origin: Fraction
    offset: float


def _with_audio_of(video: MediaInfo, audio_path: Path) -> tuple[MediaInfo, AudioFrom]:
    """The clip's description when its audio comes from ``audio_path``: the video stream of
    ``video``, the audio stream of the other file, on the recording's clock.

    Raises
    ------
    NoMediaStreamError
        When ``audio_path`` has no audio stream.
    """
    audio = probe(audio_path)
    if not audio.has_audio:
        raise NoMediaStreamError(f"{audio_path.name}: the clip's audio file has no audio stream")
    offset = video.audio_start if video.has_audio and video.audio_start is not None else 0.0
    start = offset + (audio.audio_start or 0.0)
    ends = [d for d in (video.duration, None if audio.duration is None else offset + audio.duration) if d]
    info = dataclasses.replace(
        video,
        has_audio=True,
        audio_sample_rate=audio.audio_sample_rate,
        audio_channels=audio.audio_channels,
        audio_codec=audio.audio_codec,
        audio_start=start,
        duration=max(ends) if ends else None,
    )
    return info, AudioFrom(audio_path, audio.origin, offset)


def _audio(
    source: AudioFrom, config: FeatureConfig, times: StageTimes
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    cfg = config.audio
    with times.timed("decode"):
        audio = _stage("decode", load_audio, source.path, cfg.sample_rate, source.origin)
    if audio is None:  # pragma: no cover - probe said there is an audio stream
        raise NoMediaStreamError(f"{source.path.name}: the audio stream vanished", stage="decode")
    # Audio features are timed from sample 0: put them on the clip's clock.
    with times.timed("audio_features"):
        arrays = audio_arrays(audio.samples, source.offset + audio.start, cfg, _features)
    return arrays, audio.samples


def _features(fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    return _stage("features", fn, *args, **kwargs)


def _faces(
    path: Path,
    info: MediaInfo,
    config: FeatureConfig,
    detector: FaceDetector,
    sink: Sink,
    max_pixels: int,
    side: str | None,
    stage_times: StageTimes,
) -> tuple[np.ndarray, np.ndarray]:
    """Track the faces of every kept frame, sending segments to ``sink``; return the frame
    times and face-present flags of the whole clip. The detector's own time counts as
    ``detect``, the rest of each frame's face work as ``align``."""
    size = config.faces.crop_size
    if not info.has_video:
        sink(_segment([], [], size))
        return np.zeros(0, np.float64), np.zeros(0, np.uint8)
    timed = _TimedDetector(detector, stage_times)
    tracker = _stage("faces", FaceTracker, timed, config.faces, side=side)
    times: list[float] = []
    present: list[int] = []
    pending: list[FaceFrame] = []
    pending_times: list[float] = []
    last: tuple[int, FaceFrame] | None = None
    sent = False
    with closing(_decoded(path, info, config, max_pixels, stage_times)) as decoded:
        for frame in decoded:
            if last is not None and last[0] == frame.index:
                tracked = last[1]  # the plan repeats a frame: detect it once
            else:
                started, detecting = time.perf_counter(), timed.seconds
                tracked = _stage("faces", tracker.push, frame.image)
                stage_times.add("align", time.perf_counter() - started - (timed.seconds - detecting))
                last = (frame.index, tracked)
            pending.append(tracked)
            pending_times.append(frame.time)
            times.append(frame.time)
            present.append(tracked.present)
            if len(pending) >= SEGMENT_FRAMES:
                sink(_segment(pending, pending_times, size))
                pending, pending_times, sent = [], [], True
    if pending or not sent:
        sink(_segment(pending, pending_times, size))
    return np.asarray(times, np.float64), np.asarray(present, np.uint8)


class _TimedDetector:
    """A detector that counts the seconds of its ``detect`` calls (for one clip's face thread)."""

    def __init__(self, detector: FaceDetector, times: StageTimes) -> None:
        self.name = detector.name
        self.weights_sha256 = detector.weights_sha256
        self.seconds = 0.0
        self._detector = detector
        self._times = times

    def detect(self, image: np.ndarray, threshold: float) -> Detections:
        started = time.perf_counter()
        try:
            return self._detector.detect(image, threshold)
        finally:
            spent = time.perf_counter() - started
            self.seconds += spent
            self._times.add("detect", spent)


def _decoded(
    path: Path, info: MediaInfo, config: FeatureConfig, max_pixels: int, times: StageTimes
) -> Generator[Frame]:
    """The kept frames, decoded on a helper thread one queue ahead of the caller."""
    frames: queue.Queue[Frame | BaseException | None] = queue.Queue(maxsize=_QUEUE_FRAMES)
    stop = threading.Event()

    def produce() -> None:
        try:
            for frame in _timed_frames(iter_frames(path, config.video, info.origin, max_pixels), times):
                while not stop.is_set():
                    try:
                        frames.put(frame, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            frames.put(None)
        except BaseException as exc:  # handed to the consumer, which raises it
            frames.put(exc)

    thread = threading.Thread(target=produce, name="emofeat-decode", daemon=True)
    thread.start()
    try:
        while (item := frames.get()) is not None:
            if isinstance(item, BaseException):
                _stage("decode", _raise, item)
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while thread.is_alive():
            try:
                frames.get(timeout=0.1)
            except queue.Empty:
                continue
        thread.join()


def _timed_frames(frames: Iterator[Frame], times: StageTimes) -> Iterator[Frame]:
    """``frames``, the time taken to make each counted as ``decode``."""
    while True:
        started = time.perf_counter()
        frame = next(frames, None)
        times.add("decode", time.perf_counter() - started)
        if frame is None:
            return
        yield frame


def _raise(exc: BaseException) -> None:
    raise exc


def _segment(frames: list[FaceFrame], times: list[float], size: int) -> dict[str, np.ndarray]:
    track = stack_track(frames, size)
    return {
        "face": track.crops,
        "face_present": track.present,
        "face_score": track.scores,
        "face_bbox": track.boxes,
        "face_landmarks": track.landmarks,
        "face_times": np.asarray(times, np.float64),
    }


def _concat(segments: list[dict[str, np.ndarray]], size: int) -> dict[str, np.ndarray]:
    if not segments:
        return _segment([], [], size)
    return {k: np.concatenate([s[k] for s in segments], axis=0) for k in FACE_KEYS}


def _stage(stage: str, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run one step, tagging its error with the stage it happened in.

    An exception that is not an :class:`EmofeatError` is a bug or a library failure we did
    not anticipate; it is recorded for this clip as ``internal_error`` (with its type and a
    short trace) rather than ending the whole run.
    """
    try:
        return fn(*args, **kwargs)
    except EmofeatError as exc:
        exc.stage = stage
        raise
    except Exception as exc:
        log.exception("unexpected error at stage %s", stage)
        raise internal_error(exc, stage) from exc


def internal_error(exc: BaseException, stage: str) -> EmofeatError:
    """An ``internal_error`` naming the exception's type, message and where it was raised."""
    frames = traceback.extract_tb(exc.__traceback__)[-3:]
    where = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
    return EmofeatError(f"{type(exc).__name__}: {exc} (at {where})", kind="internal_error", stage=stage)
