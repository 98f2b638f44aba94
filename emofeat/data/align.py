"""Time alignment on the clip's one clock: every series carries its own times, and views
pick rows by those times, never by row counts or assumed rates."""

from __future__ import annotations

import numpy as np


def nearest(times: np.ndarray, at: np.ndarray, tolerance: float) -> np.ndarray:
    """For each time in ``at``, the row of ``times`` (sorted) nearest to it, or -1 when the
    nearest is farther than ``tolerance`` seconds (or ``times`` is empty). Ties go to the
    earlier row."""
    at = np.asarray(at, np.float64)
    if len(times) == 0:
        return np.full(at.shape, -1, np.int64)
    right = np.clip(np.searchsorted(times, at, side="left"), 0, len(times) - 1)
    left = np.clip(right - 1, 0, len(times) - 1)
    pick = np.where(np.abs(times[left] - at) <= np.abs(times[right] - at), left, right)
    return np.where(np.abs(times[pick] - at) <= tolerance + 1e-9, pick, -1).astype(np.int64)


def within(times: np.ndarray, start: float, stop: float) -> tuple[int, int]:
    """The rows ``lo:hi`` of ``times`` (sorted) with ``start <= t < stop``."""
    return int(np.searchsorted(times, start, side="left")), int(np.searchsorted(times, stop, side="left"))


def period(times: np.ndarray, default: float) -> float:
    """The median spacing of ``times`` (``default`` with fewer than two)."""
    return float(np.median(np.diff(times))) if len(times) > 1 else default
