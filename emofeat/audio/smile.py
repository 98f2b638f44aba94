"""The one openSMILE path behind :mod:`emofeat.audio.egemaps` and :mod:`emofeat.audio.compare`.

A :class:`SmileSet` names an openSMILE feature set and its expected columns; :func:`features`
runs it with the conventions both modules document (clipping before the 16-bit conversion,
padding to :data:`MIN_DURATION_S`, LLD frames kept where they start inside the real signal,
times at start + half the 20 ms window, non-finite output refused). ``opensmile.Smile``
objects are built lazily, once per set and level, and cached for the life of the process.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from emofeat.audio.series import Series, as_signal
from emofeat.config import AudioConfig
from emofeat.errors import FeatureError

#: Shortest signal openSMILE gives features for (its 60 ms pitch window; below it, NaN).
MIN_DURATION_S = 0.060
#: LLD frame step.
LLD_STEP_S = 0.010
_INT16_MAX = 32767.0 / 32768.0


@dataclass(frozen=True)
class SmileSet:
    """An openSMILE feature set: its ``opensmile.FeatureSet`` member, a short label for
    messages, its expected columns and the module that lists them. ``regrid``: rebuild the
    LLD starts from the row index (ComParE's flushed last row repeats the previous start)."""

    feature_set: str
    label: str
    lld_names: tuple[str, ...]
    functional_names: tuple[str, ...]
    names_module: str
    regrid: bool = False


@functools.lru_cache(maxsize=4)
def _smile(feature_set: SmileSet, level: str) -> Any:
    """The cached ``opensmile.Smile`` of ``feature_set`` for ``level`` ("lld" or "functionals").

    Raises
    ------
    FeatureError
        When the ``opensmile`` package is not installed or its feature names have changed.
    """
    try:
        import opensmile  # heavy (pandas, audformat): imported on first use only
    except ImportError as exc:
        raise FeatureError(
            f"{feature_set.label} features need the 'opensmile' package (pip install 'opensmile>=2.6,<3')"
        ) from exc
    feature_level = (
        opensmile.FeatureLevel.LowLevelDescriptors if level == "lld" else opensmile.FeatureLevel.Functionals
    )
    smile = opensmile.Smile(
        feature_set=getattr(opensmile.FeatureSet, feature_set.feature_set), feature_level=feature_level
    )
    expected = feature_set.lld_names if level == "lld" else feature_set.functional_names
    if tuple(smile.feature_names) != expected:
        raise FeatureError(
            f"this opensmile version emits different {feature_set.feature_set} {level} columns than "
            f"emofeat expects; install opensmile 2.6 or update {feature_set.names_module}"
        )
    return smile


def _run(
    feature_set: SmileSet, level: str, signal: np.ndarray, sample_rate: int
) -> tuple[np.ndarray, np.ndarray]:
    """Run openSMILE; returns (frame start seconds (T,) float64, values (T, F) float64)."""
    with warnings.catch_warnings():
        # Raised by opensmile only for too-short input, which the caller pads away.
        warnings.filterwarnings("ignore", message="Segment too short", category=UserWarning)
        table = _smile(feature_set, level).process_signal(signal, sample_rate)
    starts = np.asarray(table.index.get_level_values("start").total_seconds(), dtype=np.float64)
    return starts, np.asarray(table.to_numpy(), dtype=np.float64)


def _on_grid(stamped: np.ndarray, label: str) -> np.ndarray:
    """The LLD starts rebuilt from the row index, after checking openSMILE's stamps agree
    (the flushed final row may carry the previous row's start).

    Raises
    ------
    FeatureError
        When a row is off the 10 ms grid.
    """
    starts = np.arange(stamped.shape[0], dtype=np.float64) * LLD_STEP_S
    on_grid = np.abs(stamped - starts) < 1e-6
    if on_grid.size:
        on_grid[-1] |= abs(stamped[-1] - (starts[-1] - LLD_STEP_S)) < 1e-6
    if not on_grid.all():
        raise FeatureError(f"openSMILE returned {label} LLD frames off the 10 ms grid")
    return starts


def features(
    samples: np.ndarray, config: AudioConfig, feature_set: SmileSet, half_window_s: float
) -> tuple[Series, np.ndarray]:
    """LLDs (timed at frame start + ``half_window_s``) and functionals of one signal.

    Raises
    ------
    FeatureError
        When the samples are not 1-D finite floats, opensmile is missing or has different
        columns, or openSMILE returns non-finite values (or, with ``regrid``, LLD frames off
        the 10 ms grid).
    """
    signal = as_signal(samples)
    n_real = signal.shape[0]
    sr = config.sample_rate
    min_len = math.ceil(MIN_DURATION_S * sr)
    signal = np.clip(signal, -1.0, _INT16_MAX)
    if n_real < min_len:
        signal = np.pad(signal, (0, min_len - n_real))
    starts, lld = _run(feature_set, "lld", signal, sr)
    _, functionals = _run(feature_set, "functionals", signal, sr)
    if feature_set.regrid:
        starts = _on_grid(starts, feature_set.label)
    keep = starts < n_real / sr
    starts, lld = starts[keep], lld[keep]
    lld_count, functional_count = len(feature_set.lld_names), len(feature_set.functional_names)
    if lld.shape[1] != lld_count or functionals.shape != (1, functional_count):
        raise FeatureError(f"openSMILE returned LLDs {lld.shape} and functionals {functionals.shape}")
    if not (np.isfinite(lld).all() and np.isfinite(functionals).all()):
        raise FeatureError(f"openSMILE returned NaN or infinite {feature_set.label} values for this signal")
    lld_series = Series(values=lld.astype(np.float32), times=starts + half_window_s)
    return lld_series, functionals[0].astype(np.float32)
