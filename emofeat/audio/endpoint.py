"""Speech endpoint detection: the double-threshold scheme on short-term energy and zero-crossing rate.

The classic method of Rabiner & Sambur (1975, "An algorithm for determining the endpoints of
isolated utterances", Bell System Technical Journal 54(2):297-315), in the form most speech
processing textbooks teach it (the "double-threshold" endpoint detector, 双门限端点检测).

Frames
    The centred grid of :func:`emofeat.audio.mfcc` (frame ``t`` centred on sample
    ``t * hop_length``, ``T = 1 + N // hop_length``), so the mask lines up with MFCC, log-mel and
    the energy tag. Energy is :func:`emofeat.audio.frame_energy_db` (periodic Hamming window of
    ``win_length``, dB re full scale); the zero-crossing rate (:func:`zero_crossing_rate`) counts
    sign changes over the ``win_length`` samples centred on the frame (rectangular window).

Thresholds (dBFS), from the clip itself
    ``ref`` is the loudest frame and ``noise`` the clip's background level, estimated as the 10th
    percentile of its frame energies (Rabiner & Sambur measure it on a leading silence, which
    corpora do not promise) but taken to be at least :data:`NOISE_RANGE_DB` (20 dB) below
    ``ref``. A frame is *sound* only above ``sound = max(noise + noise_margin_db, floor_db)``;
    then ``low = max(ref + low_db, sound)`` and ``high = max(ref + high_db, low)``.

    Relative to the loudest frame, because corpora are recorded at very different gains: any
    gain gives the same segments, as long as the absolute floor does not bind. The floor (an
    absolute dBFS level) keeps digital silence, dither and faint hiss from ever counting as
    speech, and the noise term keeps the low threshold above the background of noisy
    recordings (with a 30 dB SNR, ``ref - 45`` would lie in the noise and bridge every pause).
    The 20 dB cap is for clips without a silence to measure: when a tenth of the frames lie
    within 20 dB of the loudest, the percentile is the signal itself, not its background. So a
    clip that is one steady sound above the floor (a held vowel, a tone, steady noise) is one
    segment: energy cannot tell a steady sound from steady noise.

Segments
    1. A frame is *voiced* when its energy exceeds ``low``; it is *unvoiced* when it is not voiced
       but is sound and its zero-crossing rate exceeds ``zcr`` (fricatives and aspiration: weak
       but noise-like, many crossings).
    2. Along a run of unvoiced frames, only the ``max_unvoiced_s`` next to voiced frames are kept
       (Rabiner & Sambur search 25 frames, 250 ms, beyond the energy endpoint), so a long
       hiss beside speech is not taken for speech.
    3. Each maximal run of voiced and kept unvoiced frames that holds at least one frame above
       ``high`` is a segment: it started where energy rose above ``high`` and was extended
       backwards and forwards while the energy stayed above ``low`` or the ZCR rule held.
       Runs that never reach ``high`` (breaths, clicks below it, noise) are dropped.
    4. Gaps shorter than ``min_silence_s`` are merged first, then segments shorter than
       ``min_speech_s`` are dropped (a word split by a short dip stays whole; an isolated click
       goes).

    Frame ``t`` stands for the hop around its centre, so the run of frames ``i..j`` is the
    segment ``[(i - 1/2) * hop, (j + 1/2) * hop]`` seconds, clipped to ``[0, N / sample_rate]``;
    frame ``t`` is in the mask exactly when its centre lies in a segment (ends included).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from emofeat.audio.energy import frame_energy_db
from emofeat.audio.series import Series, as_signal, frame_times, per_frame
from emofeat.config import AudioConfig
from emofeat.errors import FeatureError

#: Percentile of the frame energies taken as the clip's background level.
NOISE_PERCENTILE = 10.0

#: The background is taken to lie at least this far (dB) below the clip's loudest frame.
NOISE_RANGE_DB = 20.0

#: Tolerance of the duration comparisons (seconds), so a gap of exactly ``min_silence_s`` is kept.
_EPS = 1e-9


@dataclass(frozen=True)
class Endpoints:
    """Speech segments of a clip and the matching frame mask.

    Attributes
    ----------
    segments : np.ndarray
        Shape ``(K, 2)``, float64: start and end of each speech segment in seconds from sample 0,
        sorted, separated by at least ``min_silence_s``; ``(0, 2)`` when there is no speech.
    mask : np.ndarray
        Shape ``(T,)``, uint8 on the MFCC frame grid: 1 where the frame centre lies in a segment.
    times : np.ndarray
        Shape ``(T,)``, float64: the frame centres ``t * hop_length / sample_rate``.
    span : np.ndarray
        Shape ``(2,)``, float64: the first start and the last end, ``(nan, nan)`` without speech.
    """

    segments: np.ndarray
    mask: np.ndarray
    times: np.ndarray
    span: np.ndarray


def zero_crossing_rate(samples: np.ndarray, config: AudioConfig) -> Series:
    """Zero-crossing rate of each centred frame.

    The fraction of the ``win_length - 1`` pairs of neighbouring samples, in the ``win_length``
    samples centred on the frame (rectangular window, zeros outside the signal), whose signs
    differ; a sample counts as positive when it is ``>= 0``, so digital silence has rate 0.
    White noise is about 0.5, a sine of frequency *f* about ``2 f / sample_rate``.

    Parameters
    ----------
    samples : np.ndarray
        Shape ``(N,)``, mono float at ``config.sample_rate``.
    config : AudioConfig
        Frame parameters.

    Returns
    -------
    Series
        ``values`` shape ``(T,)`` float32 in [0, 1]; times and ``T`` as in
        :func:`emofeat.audio.mfcc` (``T = 1 + N // hop_length``, 0 for empty input).

    Raises
    ------
    FeatureError
        When the samples are not 1-D finite floats, or ``win_length`` is below 2 samples.
    """
    win = config.win_length
    if win < 2:
        raise FeatureError(f"the zero-crossing rate needs a window of >= 2 samples, not {win}")
    signal = as_signal(samples)
    left = (config.n_fft - win) // 2

    def transform(framed: np.ndarray) -> np.ndarray:
        positive = framed[:, left : left + win] >= 0.0
        return np.count_nonzero(positive[:, 1:] != positive[:, :-1], axis=1) / (win - 1)

    rates = per_frame(signal, config, transform, ())
    return Series(values=rates.astype(np.float32), times=frame_times(rates.shape[0], config))


def _number(name: str, value: float) -> float:
    """``value`` as a finite float, or a :class:`FeatureError` naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise FeatureError(f"endpoint {name} must be a number, not {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise FeatureError(f"endpoint {name} must be finite, not {out}")
    return out


def _runs(flags: np.ndarray) -> np.ndarray:
    """Maximal runs of True in a 1-D bool array, shape ``(R, 2)`` int64 ``[start, stop)``."""
    edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    return np.stack([np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)], axis=1).astype(np.int64)


def _kept_unvoiced(unvoiced: np.ndarray, voiced: np.ndarray, limit: int) -> np.ndarray:
    """The unvoiced frames within ``limit`` frames of a voiced neighbour along their run."""
    kept = np.zeros(unvoiced.shape, dtype=bool)
    count = unvoiced.shape[0]
    for start, stop in _runs(unvoiced):
        if start > 0 and voiced[start - 1]:
            kept[start : min(stop, start + limit)] = True
        if stop < count and voiced[stop]:
            kept[max(start, stop - limit) : stop] = True
    return kept


def endpoint(
    samples: np.ndarray,
    config: AudioConfig,
    *,
    high_db: float = -30.0,
    low_db: float = -45.0,
    floor_db: float = -60.0,
    noise_margin_db: float = 6.0,
    zcr: float = 0.25,
    max_unvoiced_s: float = 0.25,
    min_speech_s: float = 0.1,
    min_silence_s: float = 0.2,
) -> Endpoints:
    """Find the speech segments of a clip with the double-threshold energy/ZCR scheme.

    See the module docstring for the algorithm.

    Parameters
    ----------
    samples : np.ndarray
        Shape ``(N,)``, mono float at ``config.sample_rate``.
    config : AudioConfig
        Frame parameters (``n_fft``, ``win_ms``, ``hop_ms``, ``sample_rate``).
    high_db : float
        Start threshold in dB re the loudest frame of the clip, ``low_db <= high_db <= 0``.
    low_db : float
        Extension threshold in dB re the loudest frame.
    floor_db : float
        Absolute dBFS level, in (-200, 0), at or below which a frame is never speech.
    noise_margin_db : float
        How far above the estimated background (the 10th percentile frame energy, at most 20 dB
        below the loudest frame) a frame must be to count as sound at all, >= 0.
    zcr : float
        Zero-crossing-rate threshold in [0, 1] of the unvoiced rule; 1 disables the rule.
    max_unvoiced_s : float
        Longest stretch of unvoiced frames added at a segment edge, >= 0 seconds.
    min_speech_s : float
        Segments shorter than this (after merging) are dropped, >= 0 seconds.
    min_silence_s : float
        Gaps shorter than this are merged, >= 0 seconds.

    Returns
    -------
    Endpoints
        Segments, mask and frame times; empty input gives ``T = 0`` and ``K = 0``, digital silence
        ``K = 0`` and an all-zero mask, both without warnings.

    Raises
    ------
    FeatureError
        When the samples are not 1-D finite floats, ``win_length`` is below 2 samples, or a
        parameter is not a finite number in its range.
    """
    high = _number("high_db", high_db)
    low = _number("low_db", low_db)
    floor = _number("floor_db", floor_db)
    margin = _number("noise_margin_db", noise_margin_db)
    zcr_threshold = _number("zcr", zcr)
    max_unvoiced = _number("max_unvoiced_s", max_unvoiced_s)
    min_speech = _number("min_speech_s", min_speech_s)
    min_silence = _number("min_silence_s", min_silence_s)
    if not low <= high <= 0.0:
        raise FeatureError(f"endpoint thresholds must satisfy low_db <= high_db <= 0, got {low}/{high}")
    if not -200.0 < floor < 0.0:
        raise FeatureError(f"endpoint floor_db must be in (-200, 0) dBFS, not {floor}")
    if not 0.0 <= zcr_threshold <= 1.0:
        raise FeatureError(f"endpoint zcr must be in [0, 1], not {zcr_threshold}")
    for name, value in (
        ("noise_margin_db", margin),
        ("max_unvoiced_s", max_unvoiced),
        ("min_speech_s", min_speech),
        ("min_silence_s", min_silence),
    ):
        if value < 0.0:
            raise FeatureError(f"endpoint {name} must be >= 0, not {value}")

    signal = as_signal(samples)
    rates = zero_crossing_rate(signal, config).values
    db = frame_energy_db(signal, config).values.astype(np.float64)
    count = db.shape[0]
    times = frame_times(count, config)
    if count == 0:
        return Endpoints(
            segments=np.zeros((0, 2), dtype=np.float64),
            mask=np.zeros(0, dtype=np.uint8),
            times=times,
            span=np.full(2, np.nan),
        )

    ref_db = float(db.max())
    noise_db = min(float(np.percentile(db, NOISE_PERCENTILE)), ref_db - NOISE_RANGE_DB)
    sound_db = max(noise_db + margin, floor)
    low_threshold = max(ref_db + low, sound_db)
    high_threshold = max(ref_db + high, low_threshold)
    voiced = db > low_threshold
    unvoiced = (rates > zcr_threshold) & (db > sound_db) & ~voiced
    hop_s = config.hop_length / config.sample_rate
    limit = math.floor(max_unvoiced / hop_s + _EPS)
    support = voiced | _kept_unvoiced(unvoiced, voiced, limit)

    runs = _runs(support)
    loud = np.concatenate(([0], np.cumsum(db > high_threshold)))
    runs = runs[loud[runs[:, 1]] > loud[runs[:, 0]]]

    duration = signal.shape[0] / config.sample_rate
    merged: list[list[int]] = []
    for start, stop in runs.tolist():
        if merged and (start - merged[-1][1]) * hop_s < min_silence - _EPS:
            merged[-1][1] = stop
        else:
            merged.append([start, stop])
    frames_ = np.array(merged, dtype=np.int64).reshape(-1, 2)
    bounds = np.stack(
        [np.maximum((frames_[:, 0] - 0.5) * hop_s, 0.0), np.minimum((frames_[:, 1] - 0.5) * hop_s, duration)],
        axis=1,
    )
    keep = bounds[:, 1] - bounds[:, 0] >= min_speech - _EPS
    frames_, segments = frames_[keep], bounds[keep].astype(np.float64)

    mask = np.zeros(count, dtype=np.uint8)
    for start, stop in frames_.tolist():
        mask[start:stop] = 1
    span = np.array([segments[0, 0], segments[-1, 1]]) if segments.shape[0] else np.full(2, np.nan)
    return Endpoints(segments=segments, mask=mask, times=times, span=span)
