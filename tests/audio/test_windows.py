"""Windowed functionals: hand-computed values, window grid and timing, boxcar = numpy, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from emofeat.audio import Series, mfcc
from emofeat.audio.windows import FUNCTIONALS, window_names, windowed
from emofeat.config import AudioConfig
from emofeat.errors import FeatureError
from tests.audio.signals import SR, speech_like

NAMES = ("a", "b")


def _small() -> Series:
    """10 frames every 0.1 s (``np.arange(10) * 0.1``: 0.30000000000000004 and the like)."""
    a = np.arange(1.0, 11.0)
    b = np.zeros(10)
    b[3] = 1.0
    return Series(values=np.stack([a, b], axis=1).astype(np.float32), times=np.arange(10) * 0.1)


def test_hand_computed_hamming_functionals() -> None:
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        out, names = windowed(_small(), NAMES, window_s=0.4, shift_s=0.2, window="hamming")
    assert names == ("a_mean", "a_std", "a_min", "a_max", "b_mean", "b_std", "b_min", "b_max")
    assert out.values.dtype == np.float32
    assert out.times.dtype == np.float64
    # Starts 0, 0.2, ..., 0.8 (each before the last frame at 0.9); windows hold 4, 4, 4, 4, 2 frames.
    assert out.values.shape == (5, 8)
    np.testing.assert_allclose(out.times, [0.2, 0.4, 0.6, 0.8, 1.0], atol=1e-12)
    # Symmetric 4-point Hamming: 0.08, 0.77, 0.77, 0.08 (sum 1.7).
    # Window 0 = frames 0-3: a = 1, 2, 3, 4 and b = 0, 0, 0, 1.
    a_std = np.sqrt((2 * 0.08 * 1.5**2 + 2 * 0.77 * 0.5**2) / 1.7)
    b_mean = 0.08 / 1.7  # = 4/85; a weighted 0/1 column has std sqrt(m (1 - m)) = 18/85
    np.testing.assert_allclose(out.values[0], [2.5, a_std, 1, 4, b_mean, 18 / 85, 0, 1], rtol=1e-6)
    # Window 1 = frames 2-5 (the frame at 0.6000000000000001 s belongs to window 2, not 1): b = 0, 1, 0, 0.
    b_mean = 0.77 / 1.7
    np.testing.assert_allclose(
        out.values[1], [4.5, a_std, 3, 6, b_mean, np.sqrt(b_mean * (1 - b_mean)), 0, 1], rtol=1e-6
    )
    # The partial final window [0.8, 1.2) holds frames 8 and 9: a 2-point symmetric window is uniform.
    np.testing.assert_allclose(out.values[4], [9.5, 0.5, 9, 10, 0, 0, 0, 0], rtol=1e-6)


def test_boxcar_is_numpy_mean_and_std() -> None:
    rng = np.random.default_rng(0)
    values = rng.standard_normal((1000, 3)).astype(np.float32)
    lld = Series(values=values, times=np.arange(1000) / 100.0)  # 10 s at 100 frames/s
    out, _ = windowed(lld, ("x", "y", "z"), window_s=0.5, shift_s=0.25, window="boxcar")
    assert out.values.shape == (40, 12)  # starts 0 .. 9.75 s, all before the last frame at 9.99 s
    for k in range(40):
        block = values[25 * k : 25 * k + 50].astype(np.float64)
        row = out.values[k].reshape(3, 4)
        np.testing.assert_allclose(row[:, 0], block.mean(axis=0), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(row[:, 1], block.std(axis=0), rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(row[:, 2], block.min(axis=0))
        np.testing.assert_array_equal(row[:, 3], block.max(axis=0))
    np.testing.assert_allclose(out.times, np.arange(40) * 0.25 + 0.25, atol=1e-12)


@pytest.mark.parametrize(
    ("last", "expected"),
    [(0.0, 1), (0.5, 1), (1.0, 1), (1.01, 2), (2.0, 2), (2.4, 3), (2.9999999999999996, 3)],
)
def test_window_count(last: float, expected: int) -> None:
    times = np.array([0.0, last]) if last > 0 else np.array([0.0])
    lld = Series(values=np.ones((times.size, 1), dtype=np.float32), times=times)
    out, _ = windowed(lld, ("x",), window_s=3.0, shift_s=1.0)
    assert out.values.shape == (expected, 4)
    np.testing.assert_allclose(out.times, np.arange(expected) + 1.5)


def test_boundary_rounding_does_not_move_frames() -> None:
    """A frame a hair below a window start belongs to that window."""
    times = np.array([0.5, 2.9999999999999996, 3.5])
    lld = Series(values=np.array([[1.0], [2.0], [3.0]], dtype=np.float32), times=times)
    out, _ = windowed(lld, ("x",), window_s=3.0, shift_s=3.0, window="boxcar")
    np.testing.assert_allclose(out.values[:, 0], [1.0, 2.5])


def test_empty_input_gives_no_windows() -> None:
    lld = Series(values=np.zeros((0, 2), dtype=np.float32), times=np.zeros(0))
    out, names = windowed(lld, NAMES)
    assert out.values.shape == (0, 8)
    assert out.values.dtype == np.float32
    assert out.times.shape == (0,)
    assert names == window_names(NAMES)
    assert len(FUNCTIONALS) == 4


def test_mfcc_windows() -> None:
    config = AudioConfig(sample_rate=SR)
    lld = mfcc(speech_like(seed=41).samples, config)  # 2.4 s, last frame at 2.4 s
    before = lld.values.copy()
    names = [f"mfcc{i}" for i in range(config.n_mfcc)]
    out, out_names = windowed(lld, names)
    assert out.values.shape == (3, 4 * config.n_mfcc)
    assert len(out_names) == len(set(out_names)) == 4 * config.n_mfcc
    assert np.isfinite(out.values).all()
    np.testing.assert_allclose(out.times, [1.5, 2.5, 3.5])
    np.testing.assert_array_equal(lld.values, before)
    stats = out.values.reshape(3, config.n_mfcc, 4)
    assert (stats[..., 2] <= stats[..., 0]).all()
    assert (stats[..., 0] <= stats[..., 3]).all()
    assert (stats[..., 1] >= 0).all()
    again, _ = windowed(lld, names)
    np.testing.assert_array_equal(again.values, out.values)


def test_hann_two_frame_window_is_uniform() -> None:
    lld = Series(values=np.array([[1.0], [3.0]], dtype=np.float32), times=np.array([0.0, 0.1]))
    out, _ = windowed(lld, ("x",), window_s=1.0, shift_s=1.0, window="hann")
    np.testing.assert_allclose(out.values[0], [2.0, 1.0, 1.0, 3.0])


@pytest.mark.parametrize(
    ("lld", "names", "kwargs"),
    [
        (Series(np.zeros((3, 2), np.float32), np.arange(3) * 0.01), ("a",), {}),
        (Series(np.zeros(3, np.float32), np.arange(3) * 0.01), ("a",), {}),
        (Series(np.array([[0.0], [np.nan]], np.float32), np.arange(2) * 0.01), ("a",), {}),
        (Series(np.zeros((3, 1), np.float32), np.array([0.0, 0.02, 0.01])), ("a",), {}),
        (Series(np.zeros((3, 1), np.float32), np.arange(3) * 0.01), ("a",), {"window_s": 0.0}),
        (Series(np.zeros((3, 1), np.float32), np.arange(3) * 0.01), ("a",), {"shift_s": -1.0}),
        (Series(np.zeros((3, 1), np.float32), np.arange(3) * 0.01), ("a",), {"window": "nope"}),
        (Series(np.zeros((2, 1), np.float32), np.array([0.0, 5.0])), ("a",), {"window_s": 1.0}),
    ],
    ids=["names", "1-D", "nan", "times", "window_s", "shift_s", "window", "empty-window"],
)
def test_bad_arguments_raise_feature_error(lld: Series, names: tuple[str, ...], kwargs: dict) -> None:
    with pytest.raises(FeatureError):
        windowed(lld, names, **kwargs)
