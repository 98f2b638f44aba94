"""Log-mel spectrogram with deltas, and MFCC, in numpy/scipy only.

The math reproduces librosa 0.11 (checked against it in ``tests/audio``) without importing it
at run time (librosa's numba JIT costs 30-40 s in every fresh environment):

* STFT: periodic Hann window of ``win_length`` zero-padded (centred) to ``n_fft``, hop
  ``hop_length``, ``center=True`` with zero (``"constant"``) padding of ``n_fft // 2`` samples on
  each side, so frame ``t`` is centred on sample ``t * hop_length``.
* Power spectrogram ``|X|^2``, Slaney mel filterbank (``htk=False, norm="slaney"``) with
  ``config.n_mels`` bands between ``fmin`` and ``fmax`` (``None`` = Nyquist).
* Log-mel ``10 * log10(max(mel, 1e-10))`` (``power_to_db(ref=1.0, amin=1e-10, top_db=None)``):
  digital silence is -100 dB, never -inf.
* MFCC: DCT-II (``norm="ortho"``) of that log-mel over the mel axis, first ``n_mfcc``
  coefficients (``librosa.feature.mfcc(S=logmel, dct_type=2, norm="ortho")``). It uses the same
  ``config.n_mels`` bands and, unlike ``librosa.feature.mfcc(y=...)``, no 80 dB floor.
* Deltas: ``librosa.feature.delta`` semantics (Savitzky-Golay, ``width=delta_width``,
  ``mode="interp"``; delta-delta is the second derivative of the static features).
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.signal

from emofeat.audio.series import Series, as_signal, frame_times, padded_window, per_frame
from emofeat.config import AudioConfig
from emofeat.errors import FeatureError

_AMIN = 1e-10


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney mel scale: linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / (200.0 / 3)
    logstep = np.log(6.4) / 27.0
    log_part = 15.0 + np.log(np.maximum(hz, 1e-12) / 1000.0) / logstep
    return np.where(hz >= 1000.0, log_part, linear)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_hz_to_mel`."""
    mel = np.asarray(mel, dtype=np.float64)
    logstep = np.log(6.4) / 27.0
    return np.where(mel >= 15.0, 1000.0 * np.exp(logstep * (mel - 15.0)), mel * (200.0 / 3))


def mel_filterbank(config: AudioConfig) -> np.ndarray:
    """Slaney-normalised mel filterbank (librosa ``filters.mel(htk=False, norm="slaney")``).

    Returns
    -------
    np.ndarray
        Shape ``(n_mels, n_fft // 2 + 1)``, float64.

    Raises
    ------
    FeatureError
        When ``fmin``/``fmax`` do not satisfy ``0 <= fmin < fmax <= sample_rate / 2``.
    """
    sr = config.sample_rate
    fmax = sr / 2.0 if config.fmax is None else float(config.fmax)
    if not 0.0 <= config.fmin < fmax <= sr / 2.0:
        raise FeatureError(
            f"audio.fmin/fmax must satisfy 0 <= fmin < fmax <= {sr / 2}; got {config.fmin}/{fmax}"
        )
    fft_freqs = np.fft.rfftfreq(config.n_fft, d=1.0 / sr)
    mel_edges = np.linspace(_hz_to_mel(np.array(config.fmin)), _hz_to_mel(np.array(fmax)), config.n_mels + 2)
    hz_edges = _mel_to_hz(mel_edges)
    widths = np.diff(hz_edges)
    ramps = hz_edges[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (hz_edges[2:] - hz_edges[:-2]))[:, None]
    return weights


def _logmel_static(samples: np.ndarray, config: AudioConfig) -> np.ndarray:
    """Log-mel in dB, shape ``(T, n_mels)`` float64 (computed a block of frames at a time)."""
    window = padded_window("hann", config)
    bank = mel_filterbank(config).T

    def transform(framed: np.ndarray) -> np.ndarray:
        spectrum = scipy.fft.rfft(framed * window, axis=1)
        mel = (spectrum.real**2 + spectrum.imag**2) @ bank
        return 10.0 * np.log10(np.maximum(mel, _AMIN))

    return per_frame(samples, config, transform, (config.n_mels,))


def deltas(values: np.ndarray, width: int, order: int) -> np.ndarray:
    """Savitzky-Golay derivative over time (axis 0), like ``librosa.feature.delta(axis=0)``.

    For fewer frames than ``width`` the window shrinks to the largest odd frame count (one local
    polynomial over the whole clip) where librosa would raise; with fewer than 3 frames the
    derivative is 0.

    Parameters
    ----------
    values : np.ndarray
        Shape ``(T, ...)``.
    width : int
        Odd window length in frames, >= 3.
    order : int
        1 (delta) or 2 (delta-delta).

    Returns
    -------
    np.ndarray
        Same shape as ``values``, float64.

    Raises
    ------
    FeatureError
        When ``order`` is not 1 or 2, or ``width`` is not odd and >= 3.
    """
    if order not in (1, 2):
        raise FeatureError(f"delta order must be 1 or 2, not {order}")
    if width < 3 or width % 2 == 0:
        raise FeatureError(f"delta width must be odd and >= 3, not {width}")
    count = values.shape[0]
    window = min(width, count if count % 2 else count - 1)
    if window < 3:
        return np.zeros(values.shape, dtype=np.float64)
    return np.asarray(
        scipy.signal.savgol_filter(
            values.astype(np.float64), window, polyorder=order, deriv=order, axis=0, mode="interp"
        ),
        dtype=np.float64,
    )


def logmel(samples: np.ndarray, config: AudioConfig) -> Series:
    """Log-mel spectrogram with delta and delta-delta channels.

    Parameters
    ----------
    samples : np.ndarray
        Shape ``(N,)``, mono float at ``config.sample_rate``.
    config : AudioConfig
        Frame and filterbank parameters.

    Returns
    -------
    Series
        ``values`` shape ``(T, n_mels, 3)`` float32 in dB (channel 0 static, 1 delta, 2 delta-delta),
        ``times`` the frame centres ``t * hop_length / sample_rate``. ``T = 1 + N // hop_length``
        (so any non-empty input, even shorter than one window, gives at least one frame);
        ``T = 0`` for empty input. Digital silence gives -100 dB and zero deltas.

    Raises
    ------
    FeatureError
        When the samples are not 1-D finite floats, or fmin/fmax are invalid.
    """
    signal = as_signal(samples)
    static = _logmel_static(signal, config)
    stacked = np.empty((*static.shape, 3), dtype=np.float32)  # filled a channel at a time
    stacked[..., 0] = static
    for order in (1, 2):
        stacked[..., order] = deltas(static, config.delta_width, order)
    return Series(values=stacked, times=frame_times(static.shape[0], config))


def mfcc(samples: np.ndarray, config: AudioConfig) -> Series:
    """Mel-frequency cepstral coefficients (DCT-II ortho of the ``n_mels``-band log-mel).

    Parameters
    ----------
    samples : np.ndarray
        Shape ``(N,)``, mono float at ``config.sample_rate``.
    config : AudioConfig
        Frame and filterbank parameters; ``n_mfcc <= n_mels``.

    Returns
    -------
    Series
        ``values`` shape ``(T, n_mfcc)`` float32, ``times`` as in :func:`logmel`
        (``T = 1 + N // hop_length``, 0 for empty input).

    Raises
    ------
    FeatureError
        When the samples are not 1-D finite floats, ``n_mfcc > n_mels``, or fmin/fmax are invalid.
    """
    if not 1 <= config.n_mfcc <= config.n_mels:
        raise FeatureError(f"audio.n_mfcc must be in [1, n_mels={config.n_mels}], not {config.n_mfcc}")
    signal = as_signal(samples)
    static = _logmel_static(signal, config)
    coeffs = scipy.fft.dct(static, type=2, norm="ortho", axis=1)[:, : config.n_mfcc]
    return Series(values=coeffs.astype(np.float32), times=frame_times(static.shape[0], config))
