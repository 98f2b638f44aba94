"""Validation gates a clip must pass before its features are stored.

A failed gate raises :class:`~emofeat.errors.ValidationError` (recorded for the clip, never
a silent skip): non-finite values, shapes that do not match the config, timestamps that run
backwards or past the clip's end, empty decodes, and audio and video of very different
lengths.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from emofeat.config import FeatureConfig
from emofeat.errors import ValidationError
from emofeat.media import MediaInfo

if TYPE_CHECKING:
    from emofeat.pipeline.clip import ClipFeatures

#: Largest tolerated gap between the audio and the video durations: this many seconds, or
#: this fraction of the longer one, whichever is larger.
MAX_AV_GAP_S = 1.0
MAX_AV_GAP_FRACTION = 0.25


def validate(
    features: ClipFeatures, info: MediaInfo, samples: np.ndarray | None, config: FeatureConfig
) -> None:
    """Check one clip's arrays; raise :class:`ValidationError` on the first failed gate.

    Raises
    ------
    ValidationError
        Naming the gate that failed and the values that failed it.
    """
    a = features.arrays
    size = config.faces.crop_size
    _shape(a, "face", (size, size, 3))
    _shape(a, "mfcc", (config.audio.n_mfcc,))
    _shape(a, "logmel", (config.audio.n_mels, 3))
    for key, value in a.items():
        if key == "egemaps" and (samples is None or not config.audio.egemaps):
            continue  # NaN marks "no audio" or "not computed" here, by contract
        if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
            raise ValidationError(f"{key} has NaN or infinite values", kind="non_finite")
        if key.endswith("_times") and np.any(np.diff(value) < 0):
            raise ValidationError(f"{key} runs backwards", kind="bad_timestamps")
        stem = key.removesuffix("_times")
        if key.endswith("_times") and len(value) != len(a[stem]):
            raise ValidationError(f"{key} has {len(value)} entries for {len(a[stem])} frames", kind="shape")
    if info.has_video and len(a["face_times"]) == 0:
        raise ValidationError("the video stream decoded to no frames", kind="empty_decode")
    if samples is not None and samples.size == 0:
        raise ValidationError("the audio stream decoded to no samples", kind="empty_decode")
    _check_times(a["face_times"], info)
    if samples is not None and info.kind == "av" and info.has_video and info.duration:
        audio_s = samples.size / config.audio.sample_rate
        video_s = float(a["face_times"][-1]) if len(a["face_times"]) else 0.0
        limit = max(MAX_AV_GAP_S, MAX_AV_GAP_FRACTION * max(audio_s, video_s))
        if abs(audio_s - video_s) > limit + _frame_period(info):
            raise ValidationError(
                f"audio lasts {audio_s:.2f} s but the video's last sampled frame is at {video_s:.2f} s",
                kind="av_duration_gap",
            )


def _shape(a: dict[str, np.ndarray], key: str, trailing: tuple[int, ...]) -> None:
    if a[key].shape[1:] != trailing:
        raise ValidationError(f"{key} has shape {a[key].shape}, expected (T, {trailing})", kind="shape")


def _frame_period(info: MediaInfo) -> float:
    return 1.0 / info.avg_fps if info.avg_fps else 0.0


def _check_times(times: np.ndarray, info: MediaInfo) -> None:
    if len(times) and info.duration and times[-1] > info.duration + _frame_period(info) + 0.5:
        raise ValidationError(
            f"frame time {times[-1]:.3f} s is past the clip's duration {info.duration:.3f} s",
            kind="bad_timestamps",
        )
