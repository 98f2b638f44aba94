"""Signal preparation before frame-level analysis: first-order pre-emphasis.

Pre-emphasis is the FIR high-pass ``y[n] = x[n] - a * x[n - 1]`` (``y[0] = x[0]``, as if the
sample before the clip were 0), i.e. ``scipy.signal.lfilter([1, -a], 1, x)``. It lifts the
spectrum by about 6 dB per octave above ``sr * (1 - a) / (2 pi)``, compensating the glottal
roll-off, so the higher formants weigh more in cepstra. Typical coefficients are 0.95-0.97.
"""

from __future__ import annotations

import math

import numpy as np

from emofeat.audio.series import as_signal
from emofeat.errors import FeatureError


def preemphasis(samples: np.ndarray, coefficient: float) -> np.ndarray:
    """First-order pre-emphasis ``y[n] = x[n] - coefficient * x[n - 1]``, with ``y[0] = x[0]``.

    Parameters
    ----------
    samples : np.ndarray
        Shape ``(N,)``, mono float.
    coefficient : float
        The filter coefficient *a*, in [0, 1). 0 returns a float32 copy of the signal.

    Returns
    -------
    np.ndarray
        Shape ``(N,)``, float32, always a new array (computed in float64, then rounded once);
        the input is never modified. Empty input gives an empty array.

    Raises
    ------
    FeatureError
        When the samples are not 1-D finite floats, or ``coefficient`` is not a number in [0, 1).
    """
    if isinstance(coefficient, bool) or not isinstance(coefficient, int | float | np.integer | np.floating):
        raise FeatureError(f"pre-emphasis coefficient must be a number in [0, 1), not {coefficient!r}")
    a = float(coefficient)
    if not (math.isfinite(a) and 0.0 <= a < 1.0):
        raise FeatureError(f"pre-emphasis coefficient must be in [0, 1), not {a}")
    signal = as_signal(samples).astype(np.float64)  # a fresh array: the input stays untouched
    out = signal.copy()
    out[1:] -= a * signal[:-1]
    return out.astype(np.float32)
