"""Pause statistics from speech segments (for example :attr:`emofeat.audio.endpoint.Endpoints.segments`).

A *pause* is a gap between two speech segments: silence before the first segment and after the
last one (the clip's lead-in and tail, or a window's edges) is not a pause, since it says how
the clip was cut, not how the speaker paused. Touching segments (a gap of 0 s) make no pause.

The statistics, in the order of :data:`PAUSE_NAMES`:

* ``pause_count``: number of pauses;
* ``pause_total_s``: their summed length in seconds;
* ``pause_mean_s``: their mean length (0 without pauses);
* ``speech_ratio``: speech time over the analysed duration (0 for a duration of 0).

Segments are clipped to ``[0, duration_s]`` first (speech outside the clip is not counted).
:func:`window_pauses` computes the same statistics in sliding windows: window ``k`` is
``[k * shift_s, k * shift_s + window_s)`` for every ``k`` whose start lies before the end of the
clip, **clipped to the clip's end** (so ``speech_ratio`` is relative to the audio the window
actually holds), timed by the centre of the clipped window on the clip's clock. Within a window
the segments are clipped to it, and a pause counts only when speech lies on both sides of it
inside the window.
"""

from __future__ import annotations

import math

import numpy as np

from emofeat.audio.series import Series
from emofeat.errors import FeatureError

#: Column names of :func:`pause_stats` and :func:`window_pauses`, in order.
PAUSE_NAMES: tuple[str, ...] = ("pause_count", "pause_total_s", "pause_mean_s", "speech_ratio")


def _duration(name: str, value: float, *, positive: bool = False) -> float:
    """``value`` as a finite float >= 0 (> 0 when ``positive``), or a :class:`FeatureError`."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise FeatureError(f"pause statistics: {name} must be a number of seconds, not {value!r}")
    out = float(value)
    if not math.isfinite(out) or out < 0.0 or (positive and out == 0.0):
        bound = "> 0" if positive else ">= 0"
        raise FeatureError(f"pause statistics: {name} must be finite and {bound}, not {out}")
    return out


def _check_segments(segments: np.ndarray) -> np.ndarray:
    """Validate ``(K, 2)`` sorted, non-overlapping segments; return them as a float64 copy."""
    arr = np.asarray(segments)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise FeatureError(f"speech segments must have shape (K, 2), got {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise FeatureError(f"speech segments must be numbers of seconds, got dtype {arr.dtype}")
    out = arr.astype(np.float64)  # a copy: the caller's array is never touched
    if not np.isfinite(out).all():
        raise FeatureError("speech segments hold NaN or infinity")
    if (out[:, 0] < 0.0).any() or (out[:, 1] <= out[:, 0]).any():
        raise FeatureError("every speech segment needs 0 <= start < end")
    if (out[1:, 0] < out[:-1, 1]).any():
        raise FeatureError("speech segments must be sorted and must not overlap")
    return out


def _stats(segments: np.ndarray, start: float, stop: float) -> np.ndarray:
    """The four statistics of valid segments clipped to ``[start, stop]``, shape ``(4,)`` float64."""
    clipped = np.stack([np.maximum(segments[:, 0], start), np.minimum(segments[:, 1], stop)], axis=1)
    clipped = clipped[clipped[:, 1] > clipped[:, 0]]
    gaps = clipped[1:, 0] - clipped[:-1, 1]
    gaps = gaps[gaps > 0.0]
    total = float(gaps.sum())
    count = gaps.shape[0]
    length = stop - start
    speech = float((clipped[:, 1] - clipped[:, 0]).sum())
    return np.array(
        [count, total, total / count if count else 0.0, speech / length if length > 0.0 else 0.0],
        dtype=np.float64,
    )


def pause_stats(segments: np.ndarray, duration_s: float) -> np.ndarray:
    """Pause statistics of a whole clip.

    Parameters
    ----------
    segments : np.ndarray
        Shape ``(K, 2)``: start and end seconds of each speech segment, ``0 <= start < end``,
        sorted and not overlapping (touching is allowed); ``(0, 2)`` for no speech.
    duration_s : float
        Length of the clip in seconds, >= 0; segments are clipped to ``[0, duration_s]``.

    Returns
    -------
    np.ndarray
        Shape ``(4,)`` float32, the statistics of :data:`PAUSE_NAMES` (see the module docstring).

    Raises
    ------
    FeatureError
        When the segments are not a finite ``(K, 2)`` array of sorted, non-overlapping, positive
        length intervals starting at >= 0, or ``duration_s`` is not a finite number >= 0.
    """
    checked = _check_segments(segments)
    duration = _duration("duration_s", duration_s)
    return _stats(checked, 0.0, duration).astype(np.float32)


def window_pauses(
    segments: np.ndarray, duration_s: float, window_s: float = 3.0, shift_s: float = 1.0
) -> Series:
    """Pause statistics in sliding windows over the clip.

    Parameters
    ----------
    segments : np.ndarray
        Shape ``(K, 2)`` speech segments, as for :func:`pause_stats`.
    duration_s : float
        Length of the clip in seconds, >= 0.
    window_s : float
        Window length in seconds, > 0.
    shift_s : float
        Step between window starts in seconds, > 0.

    Returns
    -------
    Series
        ``values`` shape ``(W, 4)`` float32, the :data:`PAUSE_NAMES` statistics of each window
        ``[k * shift_s, min(k * shift_s + window_s, duration_s))``, ``k = 0 .. W - 1`` with
        ``W`` the number of starts before ``duration_s`` (0 for a duration of 0); ``times`` the
        centre of each clipped window in seconds from sample 0.

    Raises
    ------
    FeatureError
        As :func:`pause_stats`, and when ``window_s`` or ``shift_s`` is not a finite number > 0.
    """
    checked = _check_segments(segments)
    duration = _duration("duration_s", duration_s)
    window = _duration("window_s", window_s, positive=True)
    shift = _duration("shift_s", shift_s, positive=True)
    count = math.ceil(duration / shift)
    while count > 0 and (count - 1) * shift >= duration:  # guard the division's rounding
        count -= 1
    while count * shift < duration:
        count += 1
    starts = np.arange(count, dtype=np.float64) * shift
    stops = np.minimum(starts + window, duration)
    values = np.zeros((count, len(PAUSE_NAMES)), dtype=np.float64)
    # Segments are sorted: those overlapping [start, stop) are one contiguous slice.
    first = np.searchsorted(checked[:, 1], starts, side="right")
    last = np.searchsorted(checked[:, 0], stops, side="left")
    for k in range(count):
        values[k] = _stats(checked[first[k] : last[k]], float(starts[k]), float(stops[k]))
    return Series(values=values.astype(np.float32), times=(starts + stops) / 2.0)
