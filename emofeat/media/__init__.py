"""emofeat.media: the only code that opens media (layer 2).

Probe containers, still images and folders of image frames; decode audio to mono float32 at
a chosen rate; decode video frames at a sampling plan (uniform T frames, a fixed fps, or all)
by presentation time, upright. Built on PyAV (its wheels bundle FFmpeg; no system ffmpeg).
Every failure is an :class:`emofeat.errors.MediaError` subclass: no PyAV exception escapes.
:func:`ffmpeg_versions` names the FFmpeg libraries that decode (recorded as provenance).
"""

from __future__ import annotations

from emofeat.media.audio import load_audio
from emofeat.media.probe import probe
from emofeat.media.records import Audio, Frames, MediaInfo
from emofeat.media.sampling import FrameSelector, select_indices
from emofeat.media.suffixes import (
    AUDIO_SUFFIXES,
    IMAGE_SUFFIXES,
    MEDIA_SUFFIXES,
    VIDEO_SUFFIXES,
    is_image_file,
    is_media_file,
)
from emofeat.media.timeline import frame_times
from emofeat.media.versions import ffmpeg_versions
from emofeat.media.video import DEFAULT_MAX_PIXELS, Frame, iter_frames, read_frames

__all__ = [
    "AUDIO_SUFFIXES",
    "DEFAULT_MAX_PIXELS",
    "IMAGE_SUFFIXES",
    "MEDIA_SUFFIXES",
    "VIDEO_SUFFIXES",
    "Audio",
    "Frame",
    "FrameSelector",
    "Frames",
    "MediaInfo",
    "ffmpeg_versions",
    "frame_times",
    "is_image_file",
    "is_media_file",
    "iter_frames",
    "load_audio",
    "probe",
    "read_frames",
    "select_indices",
]
