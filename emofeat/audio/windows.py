"""Windowed functionals: fixed-length summaries of frame-level descriptors every ``shift_s``.

Window ``k`` spans ``[k * shift_s, k * shift_s + window_s)`` on the clock of the input's frame
times (the clip's timebase) and holds the frames whose time lies in it. Conventions fixed here:

* Windows: ``k = 0, 1, ...`` while the window start is before the last frame's time, and at least
  one window for any non-empty input (a frame at exactly ``t = 0`` still gets window 0), so
  ``W = max(1, #{k : k * shift_s < t_last})``; empty input gives ``W = 0``.
* Boundaries are half-open with a 1 ns tolerance (a frame at ``2.9999999999999996`` s belongs to
  the window starting at 3 s), so float rounding of frame times never moves a frame.
* Partial final windows (those reaching past the last frame) are kept and summarised over the
  frames they hold, with the taper spread over those frames; they are still timed by their
  nominal centre. A window that holds no frame at all (``window_s`` shorter than the frame
  step, or a gap in the times) is an error rather than a row of made-up values.
* Per descriptor column, over the ``n`` frames of a window with weights
  ``w = scipy.signal.get_window(window, n, fftbins=False)`` (symmetric, so centred on those
  frames; normalised to sum 1, uniform when they sum to 0, as a 2-frame Hann does): the weighted
  mean ``sum(w x)``, the weighted standard deviation ``sqrt(sum(w (x - mean)**2))`` (population
  form), the minimum and the maximum (unweighted). ``window="boxcar"`` gives ``np.mean`` and
  ``np.std`` (``ddof=0``).
* Output columns are grouped per descriptor: ``{name}_mean, {name}_std, {name}_min, {name}_max``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import scipy.signal

from emofeat.audio.series import Series
from emofeat.errors import FeatureError

#: The functionals per descriptor column, in output order.
FUNCTIONALS: tuple[str, ...] = ("mean", "std", "min", "max")
#: Tolerance on window boundaries, in seconds.
_EPS_S = 1e-9


def window_names(names: Sequence[str]) -> tuple[str, ...]:
    """Output column names of :func:`windowed` for descriptor columns ``names``."""
    return tuple(f"{name}_{functional}" for name in names for functional in FUNCTIONALS)


def _window_count(last_time: float, shift_s: float) -> int:
    """``max(1, #{k >= 0 : k * shift_s < last_time})`` (with the boundary tolerance)."""
    count = max(1, math.ceil((last_time - _EPS_S) / shift_s))
    while count > 1 and (count - 1) * shift_s >= last_time - _EPS_S:
        count -= 1
    while count * shift_s < last_time - _EPS_S:
        count += 1
    return count


def windowed(
    lld: Series,
    names: Sequence[str],
    window_s: float = 3.0,
    shift_s: float = 1.0,
    window: str = "hamming",
) -> tuple[Series, tuple[str, ...]]:
    """Weighted mean, weighted std, min and max of each descriptor over sliding windows.

    Parameters
    ----------
    lld : Series
        Frame-level descriptors, ``values`` shape ``(T, D)``, ``times`` increasing, in seconds on
        the clip's timebase.
    names : Sequence[str]
        The ``D`` column names of ``lld``.
    window_s : float
        Window length in seconds, > 0.
    shift_s : float
        Step between window starts in seconds, > 0.
    window : str
        A ``scipy.signal.get_window`` window name for the weights of the mean and std
        (``"hamming"``, ``"hann"``, ``"boxcar"`` for plain mean and std, ...).

    Returns
    -------
    functionals : Series
        ``values`` shape ``(W, 4 * D)`` float32, ``times`` the window centres
        ``k * shift_s + window_s / 2`` float64. ``W = 0`` for empty input.
    names : tuple[str, ...]
        The ``4 * D`` column names (:func:`window_names`).

    Raises
    ------
    FeatureError
        When ``values`` is not 2-D and finite, ``names`` does not have ``D`` entries, the times
        are not increasing, ``window_s`` or ``shift_s`` is not a positive finite number, the
        window name is unknown, or a window holds no frame.
    """
    values = np.asarray(lld.values)
    if values.ndim != 2:
        raise FeatureError(f"windowed functionals need (T, D) descriptors, got shape {values.shape}")
    count, dims = values.shape
    if len(names) != dims:
        raise FeatureError(f"{len(names)} names for {dims} descriptor columns")
    if not (math.isfinite(window_s) and window_s > 0 and math.isfinite(shift_s) and shift_s > 0):
        raise FeatureError(f"window_s and shift_s must be positive seconds, not {window_s}/{shift_s}")
    try:
        scipy.signal.get_window(window, 1, fftbins=False)
    except (ValueError, TypeError) as exc:
        raise FeatureError(f"unknown window {window!r} for windowed functionals: {exc}") from exc
    if not np.isfinite(values).all():
        raise FeatureError("windowed functionals got NaN or infinite descriptor values")
    times = np.asarray(lld.times, dtype=np.float64)
    if count > 1 and not (np.diff(times) > 0).all():
        raise FeatureError("windowed functionals need increasing frame times")
    out_names = window_names(names)
    n_windows = 0 if count == 0 else _window_count(float(times[-1]), shift_s)
    starts = np.arange(n_windows, dtype=np.float64) * shift_s
    first = np.searchsorted(times, starts - _EPS_S, side="left")
    stop = np.searchsorted(times, starts + window_s - _EPS_S, side="left")
    out = np.empty((n_windows, dims, len(FUNCTIONALS)), dtype=np.float64)
    weights_by_size: dict[int, np.ndarray] = {}
    for k in range(n_windows):
        size = int(stop[k] - first[k])
        if size == 0:
            raise FeatureError(
                f"window {k} ([{starts[k]:.3f}, {starts[k] + window_s:.3f}) s) holds no frame; "
                "is window_s shorter than the frame step?"
            )
        if size not in weights_by_size:
            weights = scipy.signal.get_window(window, size, fftbins=False).astype(np.float64)
            total = weights.sum()
            weights_by_size[size] = weights / total if total > 0 else np.full(size, 1.0 / size)
        weights = weights_by_size[size]
        block = values[first[k] : stop[k]].astype(np.float64)
        mean = weights @ block
        out[k, :, 0] = mean
        out[k, :, 1] = np.sqrt(np.maximum(weights @ (block - mean) ** 2, 0.0))
        out[k, :, 2] = block.min(axis=0)
        out[k, :, 3] = block.max(axis=0)
    series = Series(
        values=out.reshape(n_windows, dims * len(FUNCTIONALS)).astype(np.float32),
        times=starts + window_s / 2,
    )
    return series, out_names
