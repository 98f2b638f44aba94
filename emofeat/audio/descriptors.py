"""Spectral shape, linear spectrogram and rhythm descriptors, in numpy/scipy only.

All three frame-level descriptors share the MFCC frame grid (periodic Hann window of
``win_length`` centred in ``n_fft``, hop ``hop_length``, ``center=True`` with zero padding, so
frame ``t`` is centred on sample ``t * hop_length`` and ``T = 1 + N // hop_length``):

* :func:`spectral`: per frame, on the magnitude spectrum ``|X|``,

  - ``centroid_hz``: ``sum(f * |X|) / sum(|X|)`` (``librosa.feature.spectral_centroid``);
  - ``flux``: ``sqrt(sum(max(|X_t| - |X_{t-1}|, 0) ** 2))``, the L2 norm of the half-wave
    rectified magnitude increase (linear in the signal's amplitude, so it also follows loudness);
    frame 0 has no predecessor and gets 0;
  - ``rolloff_hz``: the lowest bin frequency below which (inclusive) 85 % of ``sum(|X|)`` lies
    (``librosa.feature.spectral_rolloff(roll_percent=0.85)``).

  An all-zero frame (digital silence) has centroid and roll-off 0 Hz (librosa gives the same),
  never NaN.
* :func:`spectrogram`: the linear-frequency magnitude in dB, ``20 * log10(max(|X|, 1e-5))``
  (``librosa.amplitude_to_db(|X|, ref=1.0, amin=1e-5, top_db=None)``, the same numbers as
  ``power_to_db(|X|**2, amin=1e-10)``): silence is -100 dB, the floor of the log-mel.
* :func:`onset_strength`: ``librosa.onset.onset_strength`` semantics on emofeat's log-mel (the
  ``n_mels`` Slaney bands of :func:`emofeat.audio.logmel`): the log-mel in dB is floored at
  80 dB below the clip's loudest bin (librosa's ``power_to_db(top_db=80)``, the one per-clip
  dependency: log-mel differences do not depend on level, so without a floor the fluctuations
  of near-silence would read as onsets as strong as speech), the half-wave rectified
  frame-to-frame increase is averaged over the bands, and the result is delayed by
  ``1 + n_fft // (2 * hop_length)`` frames (zeros first), as librosa does for ``center=True``:
  a rise is first seen half a window before the event reaches the frame centre, and the delay
  brings the peak to within two hops of the event (measured on clicks: -1 to +8 ms at the
  10 ms hop).

Rhythm: an onset-strength envelope per frame plus a fixed-length per-signal periodicity summary
(:func:`tempo_histogram`), rather than a beat histogram. For emotion the rhythm that matters is
the speaking rate (syllables, about 2-8 Hz) and the slower stress/phrase rhythm (0.5-2 Hz), not a
musical beat: beat trackers assume a steady pulse at 40-200 BPM that speech does not have. The
summary reads the smoothed envelope's periodicity at :data:`TEMPO_RATES_HZ` (0.5-8 Hz, 4 bins
per octave, 17 values) as the geometric mean of its autocorrelation and its modulation power
(an autocorrelation alone also peaks at every multiple of the period, so it often names a
sub-harmonic: combining it with the spectrum, which peaks at harmonics instead, leaves the rate,
as in Peeters' DFT x ACF tempo estimation). Its size is fixed whatever the clip length (a full
autocorrelation tempogram would be ``T x 384`` per clip), and applying it to a slice of the
envelope gives the same summary per window.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft
import scipy.signal

from emofeat.audio.series import (
    FRAME_BLOCK,
    Series,
    as_signal,
    frame_times,
    n_frames,
    padded_window,
    per_frame,
)
from emofeat.audio.spectral import _logmel_static
from emofeat.config import AudioConfig
from emofeat.errors import FeatureError

#: Column names of :func:`spectral`, in order.
SPECTRAL_NAMES: tuple[str, ...] = ("centroid_hz", "flux", "rolloff_hz")
#: Fraction of the spectral magnitude below the roll-off frequency.
ROLL_PERCENT = 0.85
#: Magnitude floor of :func:`spectrogram` (-100 dB).
_AMIN = 1e-5
#: Dynamic range kept by :func:`onset_strength` below the clip's loudest log-mel bin.
ONSET_TOP_DB = 80.0
#: Centre rates of :func:`tempo_histogram`: 0.5 Hz to 8 Hz, 4 bins per octave.
TEMPO_RATES_HZ: tuple[float, ...] = tuple(0.5 * 2.0 ** (k / 4) for k in range(17))
#: Names of the :func:`tempo_histogram` values, in order.
TEMPO_HISTOGRAM_NAMES: tuple[str, ...] = tuple(f"rhythm_{rate:.2f}hz" for rate in TEMPO_RATES_HZ)
_SUB_RATES = 16  # rates evaluated per band of tempo_histogram
_SMOOTH_S = 0.050  # Hann smoothing of the onset envelope before tempo_histogram


def spectral_features(samples: np.ndarray, config: AudioConfig) -> Series:
    """Spectral centroid, flux and roll-off of each centred frame.

    Parameters
    ----------
    samples : np.ndarray
        Shape ``(N,)``, mono float at ``config.sample_rate``.
    config : AudioConfig
        Frame parameters.

    Returns
    -------
    Series
        ``values`` shape ``(T, 3)`` float32, columns :data:`SPECTRAL_NAMES` (centroid in Hz,
        flux in linear magnitude units, roll-off in Hz, a bin frequency); ``times`` the frame
        centres ``t * hop_length / sample_rate``. ``T = 1 + N // hop_length``, 0 for empty
        input. Digital silence gives 0 in every column.

    Raises
    ------
    FeatureError
        When the samples are not 1-D finite floats.
    """
    signal = as_signal(samples)
    count = n_frames(signal.shape[0], config)
    out = np.zeros((count, 3), dtype=np.float64)
    if count == 0:
        return Series(values=out.astype(np.float32), times=frame_times(0, config))
    window = padded_window("hann", config)
    freqs = np.fft.rfftfreq(config.n_fft, d=1.0 / config.sample_rate)
    half = config.n_fft // 2
    padded = np.pad(signal, (half, half), mode="constant")
    framed = np.lib.stride_tricks.sliding_window_view(padded, config.n_fft)[:: config.hop_length][:count]
    # Flux needs the previous frame, which per_frame's one-frame-per-row transform cannot see:
    # the same blocks of FRAME_BLOCK frames, carrying the last magnitude row to the next block.
    previous: np.ndarray | None = None
    for start in range(0, count, FRAME_BLOCK):
        stop = min(start + FRAME_BLOCK, count)
        mag = np.abs(scipy.fft.rfft(framed[start:stop].astype(np.float64) * window, axis=1))
        total = mag.sum(axis=1)
        np.divide(mag @ freqs, total, out=out[start:stop, 0], where=total > 0)
        before = np.concatenate([mag[:1] if previous is None else previous, mag[:-1]])
        out[start:stop, 1] = np.sqrt((np.maximum(mag - before, 0.0) ** 2).sum(axis=1))
        cumulative = np.cumsum(mag, axis=1)
        first = np.argmax(cumulative >= ROLL_PERCENT * cumulative[:, -1:], axis=1)  # 0 for silence
        out[start:stop, 2] = freqs[first]
        previous = mag[-1:]
    return Series(values=out.astype(np.float32), times=frame_times(count, config))


def spectrogram(samples: np.ndarray, config: AudioConfig) -> Series:
    """Linear-frequency STFT magnitude in dB, ``20 * log10(max(|X|, 1e-5))``.

    Parameters
    ----------
    samples : np.ndarray
        Shape ``(N,)``, mono float at ``config.sample_rate``.
    config : AudioConfig
        Frame parameters.

    Returns
    -------
    Series
        ``values`` shape ``(T, n_fft // 2 + 1)`` float32 dB (bin ``k`` at ``k * sample_rate / n_fft``
        Hz), floored at -100 dB (digital silence); ``times`` and ``T`` as in :func:`spectral`.

    Raises
    ------
    FeatureError
        When the samples are not 1-D finite floats.
    """
    signal = as_signal(samples)
    window = padded_window("hann", config)

    def transform(framed: np.ndarray) -> np.ndarray:
        return 20.0 * np.log10(np.maximum(np.abs(scipy.fft.rfft(framed * window, axis=1)), _AMIN))

    db = per_frame(signal, config, transform, (config.n_fft // 2 + 1,))
    return Series(values=db.astype(np.float32), times=frame_times(db.shape[0], config))


def onset_strength(samples: np.ndarray, config: AudioConfig) -> Series:
    """Onset-strength envelope: mean rectified log-mel increase, librosa-aligned.

    Parameters
    ----------
    samples : np.ndarray
        Shape ``(N,)``, mono float at ``config.sample_rate``.
    config : AudioConfig
        Frame and mel filterbank parameters.

    Returns
    -------
    Series
        ``values`` shape ``(T,)`` float32, >= 0, in dB per frame: frame ``t`` holds
        ``mean_b(max(S[t-d, b] - S[t-d-1, b], 0))`` with ``S`` the log-mel floored at 80 dB below
        its maximum and ``d = n_fft // (2 * hop_length)``; the first ``d + 1`` frames are 0.
        ``times`` and ``T`` as in :func:`spectral`. Digital silence is all 0.

    Raises
    ------
    FeatureError
        When the samples are not 1-D finite floats, or fmin/fmax are invalid.
    """
    signal = as_signal(samples)
    static = _logmel_static(signal, config)
    count = static.shape[0]
    envelope = np.zeros(count, dtype=np.float64)
    delay = 1 + config.n_fft // (2 * config.hop_length)
    if count > delay:
        np.maximum(static, static.max() - ONSET_TOP_DB, out=static)
        rise = np.maximum(np.diff(static, axis=0), 0.0).mean(axis=1)  # rise[j]: frame j to j + 1
        envelope[delay:] = rise[: count - delay]
    return Series(values=envelope.astype(np.float32), times=frame_times(count, config))


def tempo_histogram(onset: Series) -> np.ndarray:
    """Rhythm strength of an onset envelope at 0.5-8 Hz: a fixed-length per-signal summary.

    The envelope is smoothed with a 50 ms Hann kernel (speech rhythm is quasi-periodic: the
    smoothing makes onsets a few tens of ms early or late still line up) and its mean removed,
    giving ``x`` with energy ``E = sum(x ** 2)``. At each rate ``f`` (lag ``L = frame_rate / f``
    frames) two normalised periodicity measures:

    * the autocorrelation ``r(L) = sum_t x[t] x[t + L] / E`` in [-1, 1] (biased estimate, linear
      interpolation between integer lags, 0 beyond the envelope's length), which peaks at the
      period and at its multiples (the sub-harmonic rates ``f / 2, f / 3, ...``);
    * the modulation power ``p(f) = |sum_t x[t] exp(-2 pi i f t / frame_rate)| ** 2 / (T E)`` in
      [0, 1] (0.5 for a sinusoidal envelope), which peaks at the rate and at its harmonics
      ``2f, 3f, ...``;

    are combined as ``sqrt(max(r, 0) * p)``, which peaks at the rate only (measured: the
    autocorrelation alone puts a 3 Hz click train at 1 Hz, where three periods span a whole number
    of frames, and even smoothed it names a sub-harmonic for an 8 Hz click train and for several 3-7 Hz
    trains with +-20 ms jitter; the product names the rate, within a bin, for all of them).
    Bin ``k`` is the largest value over its rate band ``[rate_k / 2**(1/8), rate_k * 2**(1/8))``
    (16 rates per band).

    Parameters
    ----------
    onset : Series
        An onset envelope, ``values`` shape ``(T,)`` on a uniform time grid (from
        :func:`onset_strength`, or a slice of it for one window).

    Returns
    -------
    np.ndarray
        Shape ``(17,)`` float32 in [0, 1], one value per rate of :data:`TEMPO_RATES_HZ`
        (names :data:`TEMPO_HISTOGRAM_NAMES`). Rates whose period does not fit in the envelope
        (below ``1 / duration``), an envelope of fewer than 2 frames and a constant envelope
        (silence) give 0.

    Raises
    ------
    FeatureError
        When the values are not 1-D and finite, or the times are not uniform and increasing.
    """
    values = np.asarray(onset.values, dtype=np.float64)
    if values.ndim != 1 or not np.isfinite(values).all():
        raise FeatureError(f"tempo_histogram needs a finite (T,) onset envelope, got shape {values.shape}")
    out = np.zeros(len(TEMPO_RATES_HZ), dtype=np.float32)
    count = values.shape[0]
    if count < 2:
        return out
    steps = np.diff(onset.times)
    if not (steps[0] > 0 and np.allclose(steps, steps[0], rtol=1e-6, atol=1e-9)):
        raise FeatureError("tempo_histogram needs an onset envelope on a uniform, increasing time grid")
    frame_rate = 1.0 / float(steps[0])
    span = max(1, round(_SMOOTH_S * frame_rate))
    if span > 1:
        kernel = scipy.signal.get_window("hann", span + 2, fftbins=False)[1:-1]
        values = scipy.signal.convolve(values, kernel / kernel.sum(), mode="same")
    centred = values - values.mean()
    energy = float(centred @ centred)
    if energy <= count * (1e-9 * float(np.abs(values).max())) ** 2:  # constant up to rounding
        return out
    # One zero-padded FFT gives both: the padding (>= 2T, and <= 0.01 Hz resolution) makes the
    # inverse transform of the power a linear (not circular) autocorrelation.
    n_fft = scipy.fft.next_fast_len(max(2 * count, math.ceil(frame_rate / 0.01)))
    power = np.abs(scipy.fft.rfft(centred, n_fft)) ** 2
    acf = scipy.fft.irfft(power, n_fft)[:count] / energy
    modulation = power / (count * energy)
    rates = _fine_rates()
    r = np.interp(frame_rate / rates, np.arange(count), acf, right=0.0)
    p = np.interp(rates, np.arange(power.size) * frame_rate / n_fft, modulation)
    strength = np.sqrt(np.clip(r, 0.0, 1.0) * np.clip(p, 0.0, 1.0))  # the upper bound: rounding
    return strength.reshape(len(TEMPO_RATES_HZ), _SUB_RATES).max(axis=1).astype(np.float32)


def _fine_rates() -> np.ndarray:
    """The :data:`_SUB_RATES` rates per band of :func:`tempo_histogram`, band by band."""
    offsets = (np.arange(_SUB_RATES) + 0.5) / _SUB_RATES - 0.5  # in quarter octaves
    return np.array([rate * 2.0 ** (offsets / 4) for rate in TEMPO_RATES_HZ]).ravel()
