"""ComParE_2016 low-level descriptors and functionals through openSMILE (the ``opensmile`` package).

The same conventions as :mod:`emofeat.audio.egemaps` (one cached ``opensmile.Smile`` per feature
level, built lazily; each call runs a fresh openSMILE instance):

* Input is clipped to [-1, 32767/32768] before openSMILE converts it to 16-bit PCM.
* Signals shorter than :data:`MIN_DURATION_S` (ComParE's 60 ms pitch/voicing window) are padded
  with digital silence up to that length; LLD frames are kept only when they start inside the
  real signal, so empty input gives ``T = 0`` LLD frames and the functionals of 60 ms of silence.
* LLD frame times are ``start + 0.010 s``: ComParE frames every 10 ms with a 20 ms window for
  energy, spectral, MFCC and auditory-spectrum LLDs and a 60 ms window (same start) for F0,
  voicing, jitter, shimmer, HNR and zero-crossing rate, all time-stamped by their start
  (``frameCenterSpecial = left``); the time is the centre of the 20 ms window, as for eGeMAPS.
  Row ``i`` starts at ``i * 10 ms``: openSMILE 2.6 stamps ComParE's final (flushed) row with the
  previous row's start (measured: a 1 s signal gives starts ``0.93, 0.94, 0.94``, and a burst
  placed at 0.965 s shows the last row is the frame starting at 0.95 s), so the starts are
  rebuilt from the row index after checking every other row is on that grid.
* The 65 LLDs are the smoothed (``_sma``) descriptors, without their deltas (``_sma_de``, which
  the 6373 functionals already summarise).
* Any non-finite value openSMILE returns raises :class:`~emofeat.errors.FeatureError`.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any

import numpy as np

from emofeat.audio.compare_names import COMPARE_FUNCTIONAL_NAMES, COMPARE_LLD_NAMES
from emofeat.audio.series import Series, as_signal
from emofeat.config import AudioConfig
from emofeat.errors import FeatureError

#: Shortest signal the ComParE_2016 set is computed on (its 60 ms pitch window).
MIN_DURATION_S = 0.060
#: LLD frame step and the half-length of the 20 ms window whose centre is the LLD time.
LLD_STEP_S = 0.010
_LLD_HALF_WINDOW_S = 0.010
_INT16_MAX = 32767.0 / 32768.0


@functools.lru_cache(maxsize=2)
def _smile(level: str) -> Any:
    """The cached ``opensmile.Smile`` for ``level`` ("lld" or "functionals").

    Raises
    ------
    FeatureError
        When the ``opensmile`` package is not installed or its feature names have changed.
    """
    try:
        import opensmile  # heavy (pandas, audformat): imported on first use only
    except ImportError as exc:
        raise FeatureError(
            "ComParE features need the 'opensmile' package (pip install 'opensmile>=2.6,<3')"
        ) from exc
    feature_level = (
        opensmile.FeatureLevel.LowLevelDescriptors if level == "lld" else opensmile.FeatureLevel.Functionals
    )
    smile = opensmile.Smile(feature_set=opensmile.FeatureSet.ComParE_2016, feature_level=feature_level)
    expected = COMPARE_LLD_NAMES if level == "lld" else COMPARE_FUNCTIONAL_NAMES
    if tuple(smile.feature_names) != expected:
        raise FeatureError(
            f"this opensmile version emits different ComParE_2016 {level} columns than emofeat expects; "
            "install opensmile 2.6 or update emofeat.audio.compare_names"
        )
    return smile


def _run(level: str, signal: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Run openSMILE; returns (frame start seconds (T,) float64, values (T, F) float64)."""
    with warnings.catch_warnings():
        # Raised by opensmile only for too-short input, which the caller pads away.
        warnings.filterwarnings("ignore", message="Segment too short", category=UserWarning)
        table = _smile(level).process_signal(signal, sample_rate)
    starts = np.asarray(table.index.get_level_values("start").total_seconds(), dtype=np.float64)
    return starts, np.asarray(table.to_numpy(), dtype=np.float64)


def compare(samples: np.ndarray, config: AudioConfig) -> tuple[Series, np.ndarray]:
    """ComParE_2016 low-level descriptors (every 10 ms) and the 6373 functionals of the whole signal.

    Parameters
    ----------
    samples : np.ndarray
        Shape ``(N,)``, mono float in [-1, 1] at ``config.sample_rate``.
    config : AudioConfig
        Only ``sample_rate`` is used (openSMILE fixes its own windows).

    Returns
    -------
    lld : Series
        ``values`` shape ``(T, 65)`` float32, columns :data:`COMPARE_LLD_NAMES`; ``times`` the
        frame centres (frame start + 10 ms), a 10 ms grid. ``T = 0`` for empty input; signals
        shorter than 60 ms are padded with silence and keep the frames that start inside them.
    functionals : np.ndarray
        Shape ``(6373,)`` float32, columns :data:`COMPARE_FUNCTIONAL_NAMES`.

    Raises
    ------
    FeatureError
        When the samples are not 1-D finite floats, opensmile is missing or has different
        columns, or openSMILE returns non-finite values or LLD frames off the 10 ms grid.
    """
    signal = as_signal(samples)
    n_real = signal.shape[0]
    sr = config.sample_rate
    min_len = math.ceil(MIN_DURATION_S * sr)
    signal = np.clip(signal, -1.0, _INT16_MAX)
    if n_real < min_len:
        signal = np.pad(signal, (0, min_len - n_real))
    stamped, lld = _run("lld", signal, sr)
    _, functionals = _run("functionals", signal, sr)
    starts = np.arange(lld.shape[0], dtype=np.float64) * LLD_STEP_S
    on_grid = np.abs(stamped - starts) < 1e-6
    if on_grid.size:  # the flushed final row may carry the previous row's start
        on_grid[-1] |= abs(stamped[-1] - (starts[-1] - LLD_STEP_S)) < 1e-6
    if not on_grid.all():
        raise FeatureError("openSMILE returned ComParE LLD frames off the 10 ms grid")
    keep = starts < n_real / sr
    starts, lld = starts[keep], lld[keep]
    if lld.shape[1] != len(COMPARE_LLD_NAMES) or functionals.shape != (1, len(COMPARE_FUNCTIONAL_NAMES)):
        raise FeatureError(f"openSMILE returned LLDs {lld.shape} and functionals {functionals.shape}")
    if not (np.isfinite(lld).all() and np.isfinite(functionals).all()):
        raise FeatureError("openSMILE returned NaN or infinite ComParE values for this signal")
    lld_series = Series(values=lld.astype(np.float32), times=starts + _LLD_HALF_WINDOW_S)
    return lld_series, functionals[0].astype(np.float32)
