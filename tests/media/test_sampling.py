"""The sampling plans as pure logic (no decoding): expected picks worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from emofeat.config import VideoConfig
from emofeat.media import FrameSelector, select_indices


def test_uniform_picks_nearest_frame_to_evenly_spread_targets() -> None:
    times = np.array([0.0, 0.1, 0.5, 0.55, 1.0])
    # targets 0, 0.25, 0.5, 0.75, 1.0 -> nearest frames 0, 0.1 (0.15 vs 0.25), 0.5, 0.55 (0.2 vs 0.25), 1.0
    picks = select_indices(times, VideoConfig(sampling="uniform", frames=5))
    assert picks.tolist() == [0, 1, 2, 3, 4]


def test_uniform_ties_go_to_the_earlier_frame() -> None:
    times = np.array([0.0, 1.0, 2.0, 3.0])
    # targets 0, 1.5, 3 -> 1.5 is equidistant from frames 1 and 2
    assert select_indices(times, VideoConfig(sampling="uniform", frames=3)).tolist() == [0, 1, 3]


def test_uniform_repeats_frames_of_a_short_clip_to_reach_t() -> None:
    times = np.array([0.0, 0.04, 0.08])
    picks = select_indices(times, VideoConfig(sampling="uniform", frames=7))
    # targets 0, 0.0133, 0.0267, 0.04, 0.0533, 0.0667, 0.08
    assert picks.tolist() == [0, 0, 1, 1, 1, 2, 2]


def test_uniform_on_one_frame_gives_t_copies() -> None:
    assert select_indices(np.zeros(1), VideoConfig(frames=16)).tolist() == [0] * 16


def test_fps_plan_keeps_one_frame_per_period_without_duplicates() -> None:
    times = np.arange(20) / 10.0  # 10 fps for 2 s
    assert select_indices(times, VideoConfig(sampling="fps", fps=2.0)).tolist() == [0, 5, 10, 15]
    # asking for more than the clip has: every frame once, never twice
    assert select_indices(times, VideoConfig(sampling="fps", fps=25.0)).tolist() == list(range(20))


def test_fps_plan_on_variable_frame_rate_uses_time_not_index() -> None:
    times = np.array([0.0, 0.0625, 0.125, 0.875, 1.0, 1.0625, 2.0])  # exact in binary
    # targets 0, 0.5, 1.0, 1.5, 2.0:
    # 0.5 is 0.375 from both 0.125 (index 2) and 0.875 (index 3): tie, the earlier wins
    # 1.5 is 0.4375 from 1.0625 (index 5) and 0.5 from 2.0 (index 6)
    assert select_indices(times, VideoConfig(sampling="fps", fps=2.0)).tolist() == [0, 2, 4, 5, 6]


def test_all_plan_keeps_everything() -> None:
    times = np.array([0.0, 0.3, 0.31, 2.0])
    assert select_indices(times, VideoConfig(sampling="all")).tolist() == [0, 1, 2, 3]


def test_selector_only_ever_picks_the_current_or_previous_frame() -> None:
    rng = np.random.default_rng(7)
    times = np.cumsum(rng.uniform(0.01, 0.2, 200))
    for config in (VideoConfig(frames=40), VideoConfig(sampling="fps", fps=7.0)):
        selector = FrameSelector(config, (float(times[0]), float(times[-1])))
        for i, t in enumerate(times):
            assert all(p in (i - 1, i) for p in selector.push(float(t)))
        selector.finish()


def test_uniform_needs_a_span_and_times_must_be_1d() -> None:
    with pytest.raises(ValueError, match="span"):
        FrameSelector(VideoConfig(sampling="uniform"))
    with pytest.raises(ValueError, match="non-empty"):
        select_indices(np.zeros(0), VideoConfig())
