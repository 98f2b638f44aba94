"""eGeMAPSv02 low-level descriptors and functionals through openSMILE (the ``opensmile`` package).

The package ships its native library and configs, so nothing downloads. Building a
``opensmile.Smile`` parses its config (about 0.3 s), so one object per feature level is built
lazily and cached for the life of the process; each call still runs a fresh openSMILE instance,
so the cached objects hold no per-signal state.

Conventions fixed here:

* Input is clipped to [-1, 32767/32768] before openSMILE converts it to 16-bit PCM (it multiplies
  by 32768 and casts, so a sample of exactly 1.0 would otherwise wrap to -32768).
* Signals shorter than :data:`MIN_DURATION_S` (openSMILE's 60 ms pitch window; below it openSMILE
  emits NaN for every feature) are padded with digital silence up to that length. The
  functionals then describe the signal plus trailing silence; LLD frames are kept only when
  they start inside the real signal, so empty input gives ``T = 0`` LLD frames and the
  functionals of 60 ms of silence (finite).
* LLD frame times are ``start + 0.010 s``: the centre of the 20 ms energy/spectral window
  openSMILE time-stamps by its start (``frameCenterSpecial = left``); the pitch and voice-quality
  LLDs come from 60 ms windows that start at the same instant. (openSMILE stretches the last
  frame's ``end`` to the end of the signal, so ``(start + end) / 2`` would break the 10 ms grid.)
* Digital silence gives finite values natively (measured with opensmile 2.6: loudness about
  0.001, F0/jitter/shimmer/HNR/formant frequencies 0, ``F*amplitudeLogRelF0`` -201 (openSMILE's
  floor, also used in unvoiced frames of speech), ``equivalentSoundLevel_dBp`` -120), so nothing
  is rewritten. Any non-finite value openSMILE still returns is not patched over: it raises
  :class:`~emofeat.errors.FeatureError`, a recorded per-clip failure.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any

import numpy as np

from emofeat.audio.egemaps_names import EGEMAPS_FUNCTIONAL_NAMES, EGEMAPS_LLD_NAMES
from emofeat.audio.series import Series, as_signal
from emofeat.config import AudioConfig
from emofeat.errors import FeatureError

#: Shortest signal openSMILE's eGeMAPSv02 gives features for (its 60 ms pitch window).
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
            "eGeMAPS features need the 'opensmile' package (pip install 'opensmile>=2.6,<3')"
        ) from exc
    feature_level = (
        opensmile.FeatureLevel.LowLevelDescriptors if level == "lld" else opensmile.FeatureLevel.Functionals
    )
    smile = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02, feature_level=feature_level)
    expected = EGEMAPS_LLD_NAMES if level == "lld" else EGEMAPS_FUNCTIONAL_NAMES
    if tuple(smile.feature_names) != expected:
        raise FeatureError(
            f"this opensmile version emits different eGeMAPSv02 {level} columns than emofeat expects; "
            "install opensmile 2.6 or update emofeat.audio.egemaps_names"
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


def egemaps(samples: np.ndarray, config: AudioConfig) -> tuple[Series, np.ndarray]:
    """eGeMAPSv02 low-level descriptors (every 10 ms) and the 88 functionals of the whole signal.

    Parameters
    ----------
    samples : np.ndarray
        Shape ``(N,)``, mono float in [-1, 1] at ``config.sample_rate``.
    config : AudioConfig
        Only ``sample_rate`` is used (openSMILE fixes its own windows).

    Returns
    -------
    lld : Series
        ``values`` shape ``(T, 25)`` float32, columns :data:`EGEMAPS_LLD_NAMES`; ``times`` the
        frame centres (frame start + 10 ms), a 10 ms grid. ``T = 0`` for empty input; signals
        shorter than 60 ms are padded with silence and keep the frames that start inside them.
    functionals : np.ndarray
        Shape ``(88,)`` float32, columns :data:`EGEMAPS_FUNCTIONAL_NAMES`.

    Raises
    ------
    FeatureError
        When the samples are not 1-D finite floats, opensmile is missing or has different
        columns, or openSMILE returns non-finite values.
    """
    signal = as_signal(samples)
    n_real = signal.shape[0]
    sr = config.sample_rate
    min_len = math.ceil(MIN_DURATION_S * sr)
    signal = np.clip(signal, -1.0, _INT16_MAX)
    if n_real < min_len:
        signal = np.pad(signal, (0, min_len - n_real))
    starts, lld = _run("lld", signal, sr)
    _, functionals = _run("functionals", signal, sr)
    keep = starts < n_real / sr
    starts, lld = starts[keep], lld[keep]
    if lld.shape[1] != len(EGEMAPS_LLD_NAMES) or functionals.shape != (1, len(EGEMAPS_FUNCTIONAL_NAMES)):
        raise FeatureError(f"openSMILE returned LLDs {lld.shape} and functionals {functionals.shape}")
    if not (np.isfinite(lld).all() and np.isfinite(functionals).all()):
        raise FeatureError("openSMILE returned NaN or infinite eGeMAPS values for this signal")
    lld_series = Series(values=lld.astype(np.float32), times=starts + _LLD_HALF_WINDOW_S)
    return lld_series, functionals[0].astype(np.float32)
