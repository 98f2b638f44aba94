"""Pause statistics of whole clips and sliding windows, on segments with known pauses."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from emofeat.audio import Series
from emofeat.audio.endpoint import endpoint
from emofeat.audio.pauses import PAUSE_NAMES, pause_stats, window_pauses
from emofeat.config import AudioConfig
from emofeat.errors import FeatureError
from tests.audio.signals import SR, vowel

#: Speech 0.5-1.5, 2.0-2.5, 3.0-4.0 s in a 5 s clip: pauses 0.5 and 0.5 s, 2.5 s of speech.
SEGMENTS = np.array([[0.5, 1.5], [2.0, 2.5], [3.0, 4.0]])


def test_names() -> None:
    assert PAUSE_NAMES == ("pause_count", "pause_total_s", "pause_mean_s", "speech_ratio")


def test_clip_statistics_by_hand() -> None:
    out = pause_stats(SEGMENTS, 5.0)
    assert out.dtype == np.float32
    assert out.shape == (4,)
    # Leading 0.5 s and trailing 1.0 s of silence are not pauses.
    np.testing.assert_allclose(out, [2.0, 1.0, 0.5, 2.5 / 5.0], rtol=1e-6)
    unequal = np.array([[0.0, 1.0], [1.2, 2.0], [2.8, 3.0]])  # pauses 0.2 and 0.8 s
    np.testing.assert_allclose(pause_stats(unequal, 3.0), [2.0, 1.0, 0.5, 2.0 / 3.0], rtol=1e-6)


def test_no_pause_cases() -> None:
    np.testing.assert_array_equal(pause_stats(np.array([[1.0, 3.0]]), 4.0), [0.0, 0.0, 0.0, 0.5])
    np.testing.assert_array_equal(pause_stats(np.zeros((0, 2)), 4.0), [0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(pause_stats(np.zeros((0, 2)), 0.0), [0.0, 0.0, 0.0, 0.0])
    touching = np.array([[0.0, 1.0], [1.0, 2.0]])  # a gap of 0 s is not a pause
    np.testing.assert_allclose(pause_stats(touching, 2.0), [0.0, 0.0, 0.0, 1.0])


def test_segments_are_clipped_to_the_clip() -> None:
    # The second segment runs 0.5 s past the end; the third lies wholly after it.
    segments = np.array([[0.0, 1.0], [1.5, 2.5], [3.0, 3.5]])
    np.testing.assert_allclose(pause_stats(segments, 2.0), [1.0, 0.5, 0.5, 1.5 / 2.0], rtol=1e-6)


def test_inputs_are_not_modified_and_ints_are_accepted() -> None:
    segments = SEGMENTS.copy()
    pause_stats(segments, 5.0)
    window_pauses(segments, 5.0)
    np.testing.assert_array_equal(segments, SEGMENTS)
    np.testing.assert_allclose(pause_stats(np.array([[0, 1], [2, 3]]), 4), [1.0, 1.0, 1.0, 0.5])


def test_windows_by_hand() -> None:
    out = window_pauses(SEGMENTS, 5.0, window_s=3.0, shift_s=1.0)
    assert isinstance(out, Series)
    assert out.values.dtype == np.float32
    assert out.times.dtype == np.float64
    # Windows [0,3) [1,4) [2,5) [3,5) [4,5): the last two clipped to the clip's end.
    np.testing.assert_allclose(out.times, [1.5, 2.5, 3.5, 4.0, 4.5])
    expected = [
        [1, 0.5, 0.5, 1.5 / 3],  # [0.5,1.5] [2.0,2.5]; the segment starting at 3.0 is outside
        [2, 1.0, 0.5, 2.0 / 3],  # [1.0,1.5] [2.0,2.5] [3.0,4.0]
        [1, 0.5, 0.5, 1.5 / 3],  # [2.0,2.5] [3.0,4.0]
        [0, 0.0, 0.0, 1.0 / 2],  # [3.0,4.0] in a 2 s window
        [0, 0.0, 0.0, 0.0],  # [4,5): the segment ending at 4.0 does not reach in
    ]
    np.testing.assert_allclose(out.values, expected, rtol=1e-6, atol=1e-7)


def test_a_pause_seen_from_one_side_only_is_not_counted() -> None:
    # One long pause 1.0-3.5 s: a 2 s window sees both sides only when it holds both segments.
    segments = np.array([[0.2, 1.0], [3.5, 3.9]])
    out = window_pauses(segments, 4.0, window_s=2.0, shift_s=1.0)
    np.testing.assert_allclose(out.values[:, 0], [0, 0, 0, 0])
    whole = window_pauses(segments, 4.0, window_s=4.0, shift_s=4.0)
    np.testing.assert_allclose(whole.values, [pause_stats(segments, 4.0)])
    np.testing.assert_allclose(whole.times, [2.0])


@pytest.mark.parametrize(
    ("duration", "shift", "count"),
    [(5.0, 1.0, 5), (4.5, 1.0, 5), (4.0, 1.0, 4), (0.3, 1.0, 1), (0.3, 0.1, 3), (0.0, 1.0, 0)],
)
def test_window_count(duration: float, shift: float, count: int) -> None:
    out = window_pauses(np.zeros((0, 2)), duration, window_s=3.0, shift_s=shift)
    assert out.values.shape == (count, 4)
    assert out.times.shape == (count,)
    if count:
        assert (np.diff(out.times) > 0).all()
        assert out.times[-1] <= duration
        np.testing.assert_allclose(out.times[0], min(3.0, duration) / 2)


def test_windows_shorter_than_the_shift() -> None:
    out = window_pauses(SEGMENTS, 5.0, window_s=0.5, shift_s=1.0)
    np.testing.assert_allclose(out.times, [0.25, 1.25, 2.25, 3.25, 4.25])
    np.testing.assert_allclose(out.values[:, 3], [0.0, 1.0, 1.0, 1.0, 0.0])
    assert (out.values[:, 0] == 0).all()


def test_deterministic() -> None:
    a = window_pauses(SEGMENTS, 5.0, 2.0, 0.5)
    b = window_pauses(SEGMENTS.copy(), 5.0, 2.0, 0.5)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.times, b.times)


def test_from_detected_endpoints() -> None:
    """Two 0.6 s vowels with a 0.5 s pause: endpoint, then statistics close to the truth."""
    config = AudioConfig(sample_rate=SR)
    silence = np.zeros(round(0.4 * SR))
    pause = np.zeros(round(0.5 * SR))
    x = np.concatenate([silence, 0.5 * vowel(0.6, 150.0, 1), pause, 0.5 * vowel(0.6, 180.0, 2), silence])
    x = x.astype(np.float32)
    ep = endpoint(x, config)
    out = pause_stats(ep.segments, x.size / SR)
    # Abrupt onsets: each edge may move out by half a window plus half a hop (17.5 ms).
    assert out[0] == 1
    np.testing.assert_allclose(out[1:3], 0.5, atol=0.04)
    np.testing.assert_allclose(out[3], 1.2 / 2.5, atol=4 * 0.0175 / 2.5)


@pytest.mark.parametrize(
    "segments",
    [
        np.zeros((3,)),
        np.zeros((2, 3)),
        np.array([[1.0, 0.5]]),
        np.array([[1.0, 1.0]]),
        np.array([[-0.1, 0.5]]),
        np.array([[0.0, 1.0], [0.5, 2.0]]),
        np.array([[2.0, 3.0], [0.0, 1.0]]),
        np.array([[0.0, np.nan]]),
        np.array([["a", "b"]]),
    ],
    ids=["1d", "3cols", "reversed", "empty-length", "negative", "overlap", "unsorted", "nan", "str"],
)
def test_bad_segments_raise(segments: np.ndarray) -> None:
    with pytest.raises(FeatureError):
        pause_stats(segments, 5.0)
    with pytest.raises(FeatureError):
        window_pauses(segments, 5.0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"duration_s": -1.0},
        {"duration_s": float("nan")},
        {"window_s": 0.0},
        {"shift_s": -1.0},
        {"shift_s": float("inf")},
        {"window_s": True},
    ],
)
def test_bad_durations_raise(kwargs: dict[str, Any]) -> None:
    args: dict[str, Any] = {"duration_s": 5.0, "window_s": 3.0, "shift_s": 1.0, **kwargs}
    with pytest.raises(FeatureError):
        window_pauses(SEGMENTS, **args)
    if "duration_s" in kwargs:
        with pytest.raises(FeatureError):
            pause_stats(SEGMENTS, kwargs["duration_s"])
