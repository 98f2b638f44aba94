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

import numpy as np

from emofeat.audio.egemaps_names import EGEMAPS_FUNCTIONAL_NAMES, EGEMAPS_LLD_NAMES
from emofeat.audio.series import Series
from emofeat.audio.smile import LLD_STEP_S, MIN_DURATION_S, SmileSet, features
from emofeat.config import AudioConfig

__all__ = ["EGEMAPS", "LLD_STEP_S", "MIN_DURATION_S", "egemaps"]

#: The half-length of the 20 ms window whose centre is the LLD time.
_LLD_HALF_WINDOW_S = 0.010
#: The feature set, as :mod:`emofeat.audio.smile` runs it.
EGEMAPS = SmileSet(
    "eGeMAPSv02",
    "eGeMAPS",
    EGEMAPS_LLD_NAMES,
    EGEMAPS_FUNCTIONAL_NAMES,
    "emofeat.audio.egemaps_names",
    regrid=False,
)


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
    return features(samples, config, EGEMAPS, _LLD_HALF_WINDOW_S)
