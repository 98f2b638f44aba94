"""Every audio array of one clip, as its config asks, from the decoded samples.

The pure functions of :mod:`emofeat.audio` composed for the store:

* Pre-emphasis (``audio.preemphasis``, 0 = off) filters the signal the spectral descriptors
  see (MFCC, log-mel, spectral, spectrogram, onset, eGeMAPS, ComParE); the energy tag and
  endpoint detection read the unfiltered signal, whose level they judge.
* Series (time first, each with ``<key>_times`` on the clip's clock): ``mfcc``, ``logmel``,
  ``energy``, ``egemaps_lld``, ``spectral`` (centroid, flux, roll-off), ``onset`` (the onset
  envelope), ``windows`` (functionals of MFCC, spectral and energy over ``window_s`` windows
  every ``shift_s``, timed by window centre), and with ``audio.endpoint`` ``speech_mask`` (on
  the MFCC frames) and ``pause_windows``; with ``audio.compare`` ``compare_lld``; with
  ``audio.spectrogram`` ``spectrogram``.
* Per clip (:data:`PER_CLIP`): ``egemaps`` (88), ``rhythm`` (17), with ``audio.compare``
  ``compare`` (6373), with ``audio.endpoint`` ``pauses`` (4); NaN where the clip has no audio.
* ``speech_segments`` (K, 2): start and end seconds on the clip's clock.

Nothing is cut: every series keeps its frames over the whole clip, and the speech mask and
segments sit beside them. :func:`feature_names` names every column, as stored in the
feature version's attributes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ParamSpec, Protocol, TypeVar

import numpy as np

from emofeat.audio import (
    COMPARE_FUNCTIONAL_NAMES,
    COMPARE_LLD_NAMES,
    EGEMAPS_FUNCTIONAL_NAMES,
    EGEMAPS_LLD_NAMES,
    PAUSE_NAMES,
    SPECTRAL_NAMES,
    TEMPO_HISTOGRAM_NAMES,
    Series,
    compare,
    egemaps,
    endpoint,
    energy,
    logmel,
    mfcc,
    onset_strength,
    pause_stats,
    preemphasis,
    spectral_features,
    spectrogram,
    tempo_histogram,
    window_names,
    window_pauses,
    windowed,
)
from emofeat.config import AudioConfig

P = ParamSpec("P")
R = TypeVar("R")


class Runner(Protocol):
    """Runs one computation (the pipeline's wraps it to tag errors with their stage)."""

    def __call__(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R: ...


#: Audio arrays stored once per clip (all others are time series, or the segments).
PER_CLIP = frozenset({"egemaps", "compare", "pauses", "rhythm"})


def window_inputs(config: AudioConfig) -> list[str]:
    """The frame-level columns the windowed functionals summarise: MFCC, spectral, energy."""
    return [*(f"mfcc_{i}" for i in range(config.n_mfcc)), *SPECTRAL_NAMES, "energy"]


def feature_names(config: AudioConfig) -> dict[str, list[str]]:
    """The column names of every named audio array this config stores."""
    names: dict[str, list[str]] = {
        "egemaps_lld": list(EGEMAPS_LLD_NAMES),
        "egemaps": list(EGEMAPS_FUNCTIONAL_NAMES),
        "spectral": list(SPECTRAL_NAMES),
        "rhythm": list(TEMPO_HISTOGRAM_NAMES),
        "windows": list(window_names(window_inputs(config))),
    }
    if config.endpoint:
        names |= {"pauses": list(PAUSE_NAMES), "pause_windows": list(PAUSE_NAMES)}
    if config.compare:
        names |= {"compare_lld": list(COMPARE_LLD_NAMES), "compare": list(COMPARE_FUNCTIONAL_NAMES)}
    return names


def audio_arrays(
    samples: np.ndarray | None,
    start: float,
    config: AudioConfig,
    stage: Runner | None = None,
) -> dict[str, np.ndarray]:
    """Every audio array of a clip whose sample 0 lies at ``start`` seconds on its clock.

    ``samples`` None (no audio stream) gives empty series, no segments and NaN per-clip
    vectors. ``stage`` wraps each computation (the pipeline tags its errors with the stage).

    Raises
    ------
    FeatureError
        When a descriptor cannot be computed (non-finite input, openSMILE failure, ...).
    """
    run: Runner = stage or _call
    if samples is None:
        return _empty(config)
    cfg = config
    prepared = run(preemphasis, samples, cfg.preemphasis) if cfg.preemphasis else samples
    series: dict[str, Series] = {
        "mfcc": run(mfcc, prepared, cfg),
        "logmel": run(logmel, prepared, cfg),
        "energy": run(energy, samples, cfg),
        "spectral": run(spectral_features, prepared, cfg),
        "onset": run(onset_strength, prepared, cfg),
    }
    per_clip: dict[str, np.ndarray] = {"rhythm": run(tempo_histogram, series["onset"])}
    if cfg.egemaps:
        series["egemaps_lld"], per_clip["egemaps"] = run(egemaps, prepared, cfg)
    else:
        series["egemaps_lld"] = _series(len(EGEMAPS_LLD_NAMES))
        per_clip["egemaps"] = np.full(len(EGEMAPS_FUNCTIONAL_NAMES), np.nan, np.float32)
    if cfg.compare:
        series["compare_lld"], per_clip["compare"] = run(compare, prepared, cfg)
    if cfg.spectrogram:
        series["spectrogram"] = run(spectrogram, prepared, cfg)
    lld = Series(
        np.concatenate(
            [series["mfcc"].values, series["spectral"].values, series["energy"].values[:, None]], axis=1
        ),
        series["mfcc"].times,
    )
    series["windows"], _ = run(windowed, lld, window_inputs(cfg), cfg.window_s, cfg.shift_s, cfg.window)
    out: dict[str, np.ndarray] = {}
    if cfg.endpoint:
        found = run(
            endpoint,
            samples,
            cfg,
            high_db=cfg.endpoint_high_db,
            low_db=cfg.endpoint_low_db,
            zcr=cfg.endpoint_zcr,
            min_speech_s=cfg.endpoint_min_speech_s,
            min_silence_s=cfg.endpoint_min_silence_s,
        )
        duration = samples.size / cfg.sample_rate
        series["speech_mask"] = Series(found.mask, found.times)
        series["pause_windows"] = run(window_pauses, found.segments, duration, cfg.window_s, cfg.shift_s)
        per_clip["pauses"] = run(pause_stats, found.segments, duration)
        out["speech_segments"] = (found.segments + start).astype(np.float64)
    for key, s in series.items():  # timed from sample 0: put them on the clip's clock
        out[key] = s.values
        out[f"{key}_times"] = (s.times + start).astype(np.float64)
    return out | per_clip


def audio_cost(config: AudioConfig, seconds: float = 3.0) -> dict[str, float]:
    """What this config's audio arrays cost here: milliseconds per second of audio, measured
    now on ``seconds`` of generated speech-like audio (after one warm-up call), for all of
    them (``"all"``) and for the openSMILE sets it turns on (``"egemaps"``, ``"compare"``)."""
    from emofeat.media.synth import speech_like  # generated audio: only for this estimate

    y = speech_like(seconds, config.sample_rate, seed=11)
    audio_arrays(y[: config.sample_rate // 2], 0.0, config)  # imports, openSMILE objects

    def per_second(fn: Callable[[], object]) -> float:
        start = time.perf_counter()
        fn()
        return round(1000 * (time.perf_counter() - start) / seconds, 1)

    cost = {"all": per_second(lambda: audio_arrays(y, 0.0, config))}
    if config.egemaps:
        cost["egemaps"] = per_second(lambda: egemaps(y, config))
    if config.compare:
        cost["compare"] = per_second(lambda: compare(y, config))
    return cost


def _call(fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    return fn(*args, **kwargs)


def _series(*trailing: int, dtype: type = np.float32) -> Series:
    return Series(np.zeros((0, *trailing), dtype), np.zeros(0, np.float64))


def _empty(config: AudioConfig) -> dict[str, np.ndarray]:
    """The arrays of a clip without audio: empty series, NaN per-clip vectors."""
    names = feature_names(config)
    series = {
        "mfcc": _series(config.n_mfcc),
        "logmel": _series(config.n_mels, 3),
        "energy": _series(),
        "egemaps_lld": _series(len(EGEMAPS_LLD_NAMES)),
        "spectral": _series(len(SPECTRAL_NAMES)),
        "onset": _series(),
        "windows": _series(len(names["windows"])),
    }
    per_clip = {
        "egemaps": len(EGEMAPS_FUNCTIONAL_NAMES),
        "rhythm": len(TEMPO_HISTOGRAM_NAMES),
    }
    out: dict[str, np.ndarray] = {}
    if config.endpoint:
        series |= {"speech_mask": _series(dtype=np.uint8), "pause_windows": _series(len(PAUSE_NAMES))}
        per_clip["pauses"] = len(PAUSE_NAMES)
        out["speech_segments"] = np.zeros((0, 2), np.float64)
    if config.compare:
        series["compare_lld"] = _series(len(COMPARE_LLD_NAMES))
        per_clip["compare"] = len(COMPARE_FUNCTIONAL_NAMES)
    if config.spectrogram:
        series["spectrogram"] = _series(config.n_fft // 2 + 1)
    for key, s in series.items():
        out[key] = s.values
        out[f"{key}_times"] = s.times
    return out | {key: np.full(n, np.nan, np.float32) for key, n in per_clip.items()}
