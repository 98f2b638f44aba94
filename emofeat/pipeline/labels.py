"""Time-varying labels onto the clip's clock, as arrays stored beside the features.

Each :class:`~emofeat.corpora.LabelTrack` becomes ``label.<name>`` (values) and
``label.<name>_times`` (seconds on the clip's clock). Frame-indexed tracks are timed with the
video's real frame timestamps (:func:`emofeat.media.frame_times`); indices past the last
frame (annotation files are sometimes longer than the video) are extrapolated with the
median frame period. Categorical values are class indices (``-1`` = not annotated) whose
names the part records in its ``label_classes`` attribute; continuous values are float32,
NaN where not annotated.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emofeat.corpora import LabelTrack
from emofeat.errors import ValidationError
from emofeat.media import frame_times

PREFIX = "label."


def track_arrays(tracks: tuple[LabelTrack, ...], path: Path, sequence_fps: float) -> dict[str, np.ndarray]:
    """The arrays of a clip's tracks, keyed ``label.<name>`` and ``label.<name>_times``.

    Raises
    ------
    ValidationError
        When a frame-indexed track meets a clip without video frames.
    MediaError
        When the frame timestamps cannot be read.
    """
    out: dict[str, np.ndarray] = {}
    clock: np.ndarray | None = None
    for track in tracks:
        if track.times is not None:
            times = np.asarray(track.times, np.float64)
        else:
            if clock is None:
                clock = frame_times(path, sequence_fps)
            times = frames_to_seconds(np.asarray(track.frames, np.int64), clock, track.name)
        dtype = np.int16 if track.kind == "categorical" else np.float32
        out[PREFIX + track.name] = np.asarray(track.values).astype(dtype)
        out[PREFIX + track.name + "_times"] = times
    return out


def frames_to_seconds(frames: np.ndarray, clock: np.ndarray, name: str) -> np.ndarray:
    """Seconds of each frame index on ``clock`` (extrapolated past its end)."""
    if len(frames) and len(clock) == 0:
        raise ValidationError(f"track {name!r} counts video frames but the clip has none", kind="labels")
    if len(frames) and frames.min() < 0:
        raise ValidationError(f"track {name!r} has negative frame indices", kind="labels")
    period = float(np.median(np.diff(clock))) if len(clock) > 1 else 0.0
    inside = np.minimum(frames, len(clock) - 1)
    return clock[inside] + (frames - inside) * period


def track_classes(tracks: tuple[LabelTrack, ...]) -> dict[str, list[str]]:
    """Class names of the categorical tracks, by track name."""
    return {t.name: list(t.classes) for t in tracks if t.kind == "categorical"}
