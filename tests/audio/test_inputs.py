"""Input validation shared by every audio function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from emofeat.audio import Series, egemaps, energy, logmel, mfcc
from emofeat.config import AudioConfig
from emofeat.errors import FeatureError
from tests.audio.signals import SR, speech_like

CONFIG = AudioConfig(sample_rate=SR)
FUNCTIONS: list[Callable[..., Any]] = [mfcc, logmel, energy, egemaps]


@pytest.mark.parametrize("fn", FUNCTIONS)
@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((2, 1000), dtype=np.float32),
        np.zeros(1000, dtype=np.int16),
        np.array([0.0, np.nan, 0.0], dtype=np.float32),
        np.array([0.0, np.inf], dtype=np.float64),
    ],
    ids=["stereo", "int16", "nan", "inf"],
)
def test_bad_samples_raise_feature_error(fn: Callable[..., Any], bad: np.ndarray) -> None:
    with pytest.raises(FeatureError) as info:
        fn(bad, CONFIG)
    assert info.value.kind == "feature_error"


@pytest.mark.parametrize("fn", [mfcc, logmel, energy])
def test_float64_input_gives_the_same_float32_output(fn: Callable[..., Series]) -> None:
    samples = speech_like(seed=31).samples
    np.testing.assert_array_equal(fn(samples, CONFIG).values, fn(samples.astype(np.float64), CONFIG).values)


def test_bad_mel_config_raises() -> None:
    samples = np.zeros(1000, dtype=np.float32)
    with pytest.raises(FeatureError):
        mfcc(samples, AudioConfig(sample_rate=SR, n_mfcc=80, n_mels=64))
    with pytest.raises(FeatureError):
        logmel(samples, AudioConfig(sample_rate=SR, fmax=9000.0))
    with pytest.raises(FeatureError):
        logmel(samples, AudioConfig(sample_rate=SR, fmin=4000.0, fmax=3000.0))


def test_series_rejects_mismatched_lengths() -> None:
    with pytest.raises(FeatureError):
        Series(values=np.zeros((3, 2), dtype=np.float32), times=np.zeros(4))
