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

import numpy as np

from emofeat.audio.compare_names import COMPARE_FUNCTIONAL_NAMES, COMPARE_LLD_NAMES
from emofeat.audio.series import Series
from emofeat.audio.smile import LLD_STEP_S, MIN_DURATION_S, SmileSet, features
from emofeat.config import AudioConfig

__all__ = ["COMPARE", "LLD_STEP_S", "MIN_DURATION_S", "compare"]

#: The half-length of the 20 ms window whose centre is the LLD time.
_LLD_HALF_WINDOW_S = 0.010
#: The feature set, as :mod:`emofeat.audio.smile` runs it.
COMPARE = SmileSet(
    "ComParE_2016",
    "ComParE",
    COMPARE_LLD_NAMES,
    COMPARE_FUNCTIONAL_NAMES,
    "emofeat.audio.compare_names",
    regrid=True,
)


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
    return features(samples, config, COMPARE, _LLD_HALF_WINDOW_S)
