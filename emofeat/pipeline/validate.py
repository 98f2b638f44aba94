"""Validation gates a clip must pass before its features are stored.

A failed gate raises :class:`~emofeat.errors.ValidationError` (recorded for the clip, never
a silent skip): non-finite values, shapes that do not match the config, timestamps that run
backwards or past the clip's end, empty decodes, and audio and video whose spans disagree
on the clip's clock (different lengths, or one starting long after the other).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from emofeat.config import FeatureConfig
from emofeat.errors import ValidationError
from emofeat.media import MediaInfo
from emofeat.pipeline.audio_features import PER_CLIP

#: Largest tolerated gap between the audio and the video spans (at either end): this many
#: seconds, or this fraction of the longer stream, whichever is larger.
MAX_AV_GAP_S = 1.0
MAX_AV_GAP_FRACTION = 0.25


def validate(
    arrays: Mapping[str, np.ndarray], info: MediaInfo, samples: np.ndarray | None, config: FeatureConfig
) -> None:
    """Check one clip's arrays; raise :class:`ValidationError` on the first failed gate.

    ``arrays`` holds the clip's series; the face crops may be absent (streamed to the store
    segment by segment, shaped by construction) but ``face_times`` and ``face_present``
    cover the whole clip.

    Raises
    ------
    ValidationError
        Naming the gate that failed and the values that failed it.
    """
    a = arrays
    size = config.faces.crop_size
    if "face" in a:
        _shape(a, "face", (size, size, 3))
    _shape(a, "mfcc", (config.audio.n_mfcc,))
    _shape(a, "logmel", (config.audio.n_mels, 3))
    for key, value in a.items():
        if key in PER_CLIP and (samples is None or (key == "egemaps" and not config.audio.egemaps)):
            continue  # NaN marks "no audio" or "not computed" here, by contract
        if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
            raise ValidationError(f"{key} has NaN or infinite values", kind="non_finite")
        if key.endswith("_times") and np.any(np.diff(value) < 0):
            raise ValidationError(f"{key} runs backwards", kind="bad_timestamps")
        stem = "face_present" if key == "face_times" else key.removesuffix("_times")
        if key.endswith("_times") and len(value) != len(a[stem]):
            raise ValidationError(f"{key} has {len(value)} entries for {len(a[stem])} frames", kind="shape")
    if info.has_video and len(a["face_times"]) == 0:
        raise ValidationError("the video stream decoded to no frames", kind="empty_decode")
    if samples is not None and samples.size == 0:
        raise ValidationError("the audio stream decoded to no samples", kind="empty_decode")
    _check_times(a["face_times"], info)
    if samples is not None and info.kind == "av" and info.has_video and len(a["face_times"]):
        _check_spans(a["face_times"], samples.size / config.audio.sample_rate, info)


def _check_spans(face_times: np.ndarray, audio_s: float, info: MediaInfo) -> None:
    """Audio and video must cover about the same stretch of the clip's clock."""
    audio_start = info.audio_start or 0.0
    audio = (audio_start, audio_start + audio_s)
    period = _frame_period(info)
    video_first = info.video_start if info.video_start is not None else float(face_times[0])
    video = (min(video_first, float(face_times[0])), float(face_times[-1]) + period)
    limit = max(MAX_AV_GAP_S, MAX_AV_GAP_FRACTION * max(audio[1] - audio[0], video[1] - video[0]))
    for end, a, v in (("starts", audio[0], video[0]), ("ends", audio[1], video[1])):
        if abs(a - v) > limit + period:
            raise ValidationError(
                f"on the clip's clock the audio {end} at {a:.2f} s but the video at {v:.2f} s "
                f"(audio {audio[0]:.2f}-{audio[1]:.2f} s, video {video[0]:.2f}-{video[1]:.2f} s; "
                f"more than {limit:.2f} s apart)",
                kind="av_duration_gap",
            )


def _shape(a: Mapping[str, np.ndarray], key: str, trailing: tuple[int, ...]) -> None:
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
