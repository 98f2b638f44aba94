"""The plain records :mod:`emofeat.media` returns: :class:`MediaInfo`, :class:`Audio`, :class:`Frames`."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np

MediaKind = Literal["av", "image", "image_sequence"]


@dataclass(frozen=True)
class MediaInfo:
    """What :func:`emofeat.media.probe` found in a file or folder.

    Attributes
    ----------
    path : str
        The path as given.
    kind : {"av", "image", "image_sequence"}
        A container file (audio and/or video), a still image, or a folder of image frames.
    container : str or None
        FFmpeg's demuxer name (``"mov,mp4,m4a,3gp,3g2,mj2"``, ``"avi"``, ``"wav"``, ...);
        None for images and image sequences.
    duration : float or None
        Seconds: where the later of the audio and video streams ends on the clip's clock
        (start offset included), else the container's duration;
        None when unknown and for images and image sequences (a folder has no clock).
    has_audio, has_video : bool
        Whether an audio / a video stream is present (cover art does not count as video).
        ``has_video`` is True for images and image sequences.
    audio_sample_rate, audio_channels : int or None
        Of the audio stream, as stored.
    audio_codec, video_codec : str or None
        FFmpeg decoder names (``"aac"``, ``"pcm_s16le"``, ``"h264"``, ``"png"``, ...).
    width, height : int or None
        Displayed size: after ``rotation`` is applied.
    rotation : int
        0, 90, 180 or 270: degrees **clockwise** a player turns the stored pictures to show
        them upright (the display matrix, or a JPEG's EXIF orientation). The convention of the
        legacy ``rotate`` tag: a phone's portrait clip reads 90. Frames from
        :func:`emofeat.media.read_frames` are already turned.
    frame_count : int or None
        The container's own frame count where it is exact (MP4/MOV and similar, images,
        folders); None otherwise (MKV has none; an AVI header counts index slots, which
        include dropped frames in variable-frame-rate files).
    avg_fps : float or None
        The average frame rate the container reports; None for images and folders.
    origin : fractions.Fraction
        The clip clock's 0 on the container's timeline, in seconds: the earliest start of
        its audio and video streams (see :func:`emofeat.media._av.clock_origin`). Every time
        emofeat stores for the clip is on that clock.
    audio_start, video_start : float or None
        Where the first audio sample / video frame lies on the clip's clock (one of them is
        0); None for a missing stream.
    """

    path: str
    kind: MediaKind
    container: str | None
    duration: float | None
    has_audio: bool
    has_video: bool
    audio_sample_rate: int | None
    audio_channels: int | None
    audio_codec: str | None
    video_codec: str | None
    width: int | None
    height: int | None
    rotation: int
    frame_count: int | None
    avg_fps: float | None
    origin: Fraction = Fraction(0)
    audio_start: float | None = None
    video_start: float | None = None


@dataclass(frozen=True)
class Audio:
    """Decoded audio.

    Attributes
    ----------
    samples : numpy.ndarray
        Shape ``(N,)``, dtype float32, values in [-1, 1], mono. Sample 0 is the first decoded
        sample of the audio stream.
    sample_rate : int
        Samples per second.
    start : float
        Time of sample 0 in seconds on the clip's clock (0 at the earliest stream start of
        the file): sample ``i`` plays at ``start + i / sample_rate``.
    """

    samples: np.ndarray
    sample_rate: int
    start: float = 0.0

    @property
    def duration(self) -> float:
        """Length in seconds (``N / sample_rate``)."""
        return float(self.samples.shape[0]) / self.sample_rate


@dataclass(frozen=True)
class Frames:
    """Decoded video frames, in presentation order.

    Attributes
    ----------
    images : numpy.ndarray
        Shape ``(T, H, W, 3)``, dtype uint8, RGB, upright (rotation applied).
    times : numpy.ndarray
        Shape ``(T,)``, dtype float64: presentation time of each frame in seconds on the
        source clock, with the stream's start time subtracted (the first frame of a normal
        file is at about 0). Taken from the frame's timestamp, never from index / fps.
    indices : numpy.ndarray
        Shape ``(T,)``, dtype int64: the index of each frame among all decoded frames of the
        stream (0-based). Repeats when the ``uniform`` plan repeats a frame.
    """

    images: np.ndarray
    times: np.ndarray
    indices: np.ndarray

    def __len__(self) -> int:
        return int(self.images.shape[0])
