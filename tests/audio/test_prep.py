"""Pre-emphasis: the difference equation by hand, against scipy, and input handling."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from emofeat.audio.prep import preemphasis
from emofeat.errors import FeatureError
from tests.audio.signals import speech_like, white_noise


def test_matches_a_hand_computation() -> None:
    x = np.array([0.5, 0.25, -0.5, 0.0, 1.0], dtype=np.float32)
    # y[0] = x[0]; y[n] = x[n] - 0.5 * x[n - 1]
    expected = np.array([0.5, 0.25 - 0.25, -0.5 - 0.125, 0.0 + 0.25, 1.0 - 0.0], dtype=np.float32)
    np.testing.assert_array_equal(preemphasis(x, 0.5), expected)
    # a = 0.97: [0.5, 0.25 - 0.485, -0.5 - 0.2425, 0 + 0.485, 1 - 0]
    np.testing.assert_allclose(preemphasis(x, 0.97), [0.5, -0.235, -0.7425, 0.485, 1.0], rtol=0, atol=1e-7)


@pytest.mark.parametrize("coefficient", [0.5, 0.95, 0.97, 0.999])
def test_matches_scipy_lfilter(coefficient: float) -> None:
    x = speech_like(seed=41).samples
    expected = scipy.signal.lfilter([1.0, -coefficient], [1.0], x.astype(np.float64))
    out = preemphasis(x, coefficient)
    assert out.dtype == np.float32
    assert out.shape == x.shape
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-6)


def test_zero_coefficient_returns_the_signal_as_a_float32_copy() -> None:
    x = white_noise(0.1, rms=0.1, seed=42).astype(np.float64)
    out = preemphasis(x, 0.0)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, x.astype(np.float32))
    x32 = x.astype(np.float32)
    out32 = preemphasis(x32, 0)
    assert out32 is not x32
    np.testing.assert_array_equal(out32, x32)


def test_input_is_never_modified_and_edges() -> None:
    x = speech_like(seed=43).samples
    before = x.copy()
    preemphasis(x, 0.97)
    np.testing.assert_array_equal(x, before)
    assert preemphasis(np.zeros(0, dtype=np.float32), 0.97).shape == (0,)
    np.testing.assert_array_equal(preemphasis(np.array([0.25], dtype=np.float32), 0.97), [0.25])


def test_is_deterministic() -> None:
    x = speech_like(seed=44).samples
    np.testing.assert_array_equal(preemphasis(x, 0.97), preemphasis(x.copy(), 0.97))


@pytest.mark.parametrize("coefficient", [-0.1, 1.0, 1.5, float("nan"), float("inf"), True, "0.97", None])
def test_bad_coefficient_raises(coefficient: object) -> None:
    with pytest.raises(FeatureError):
        preemphasis(np.zeros(10, dtype=np.float32), coefficient)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((2, 100), dtype=np.float32),
        np.zeros(100, dtype=np.int16),
        np.array([0.0, np.nan], dtype=np.float32),
    ],
    ids=["stereo", "int16", "nan"],
)
def test_bad_samples_raise(bad: np.ndarray) -> None:
    with pytest.raises(FeatureError):
        preemphasis(bad, 0.97)
