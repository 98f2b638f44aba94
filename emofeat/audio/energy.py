"""The short-term energy tag (the auxiliary per-frame tag *m* of the AlexNet-attention paper).

Per centred frame (the same frames and times as :func:`emofeat.audio.mfcc`), the energy under a
periodic Hamming window of ``win_length`` samples is expressed in dB re full scale::

    db = 10 * log10(sum(x**2 * w**2) / sum(w**2))

so a full-scale square wave is 0 dBFS and a full-scale sine about -3 dBFS. Frames at or below
``config.energy_silence_db`` become 0; the others are scaled per clip, linearly in dB, to (0, 1]::

    tag = (db - silence_db) / (max_db - silence_db)

where ``max_db`` is the loudest frame of the clip (which gets exactly 1).
"""

from __future__ import annotations

import numpy as np

from emofeat.audio.series import Series, as_signal, frame_times, padded_window, per_frame
from emofeat.config import AudioConfig
from emofeat.errors import FeatureError

#: Power floor before the log (-200 dBFS): digital silence stays finite and far below any threshold.
_POWER_FLOOR = 1e-20


def frame_energy_db(samples: np.ndarray, config: AudioConfig) -> Series:
    """Short-term energy of each centred frame in dB re full scale.

    Parameters
    ----------
    samples : np.ndarray
        Shape ``(N,)``, mono float at ``config.sample_rate``.
    config : AudioConfig
        Frame parameters.

    Returns
    -------
    Series
        ``values`` shape ``(T,)`` float32 in dBFS, floored at -200 dB (digital silence);
        ``T = 1 + N // hop_length``, 0 for empty input.

    Raises
    ------
    FeatureError
        When the samples are not 1-D finite floats.
    """
    signal = as_signal(samples)
    window = padded_window("hamming", config) ** 2
    power = per_frame(signal, config, lambda framed: framed**2 @ window, ()) / window.sum()
    db = 10.0 * np.log10(np.maximum(power, _POWER_FLOOR))
    return Series(values=db.astype(np.float32), times=frame_times(db.shape[0], config))


def energy(samples: np.ndarray, config: AudioConfig) -> Series:
    """The per-frame energy tag in [0, 1].

    Parameters
    ----------
    samples : np.ndarray
        Shape ``(N,)``, mono float at ``config.sample_rate``.
    config : AudioConfig
        Frame parameters and ``energy_silence_db`` (must be > -200).

    Returns
    -------
    Series
        ``values`` shape ``(T,)`` float32 in [0, 1]: exactly 0 for frames at or below the silence
        threshold (all 0 for digital silence), 1 for the loudest frame of the clip. Times and ``T``
        as in :func:`frame_energy_db`.

    Raises
    ------
    FeatureError
        When the samples are not 1-D finite floats, or ``energy_silence_db`` is not in (-200, 0).
    """
    silence_db = float(config.energy_silence_db)
    if not -200.0 < silence_db < 0.0:
        raise FeatureError(f"audio.energy_silence_db must be in (-200, 0) dBFS, not {silence_db}")
    db_series = frame_energy_db(samples, config)
    db = db_series.values.astype(np.float64)
    tag = np.zeros(db.shape, dtype=np.float64)
    active = db > silence_db
    if active.any():
        tag[active] = (db[active] - silence_db) / (db.max() - silence_db)
    return Series(values=np.clip(tag, 0.0, 1.0).astype(np.float32), times=db_series.times)
