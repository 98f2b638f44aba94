"""Sampling plans: which frames to keep, chosen by time in one pass (pure logic, no decoding).

A :class:`FrameSelector` is fed the presentation time of every decoded frame, in order, and
answers which frames to keep. It never looks ahead more than one frame, so the decoder only
converts the frames that are kept. The same selector serves video streams and image folders.

Plans (see :class:`emofeat.config.VideoConfig`):

``uniform``
    ``frames`` target times evenly spread over ``[first, last]`` (``numpy.linspace``) where
    ``first`` and ``last`` are the first and last presentation times (the ``span``); each
    target takes the nearest real frame. Always exactly ``frames`` frames: a clip with fewer
    frames repeats the nearest ones (a fixed T such as the AMCM paper's 16).
``fps``
    Targets ``t0 + k / fps`` for ``k = 0, 1, ...`` up to the last frame's time, ``t0`` being the
    first frame's time; each takes the nearest frame and a frame is kept at most once.
``all``
    Every frame.

Ties between two equally near frames go to the earlier one.
"""

from __future__ import annotations

import numpy as np

from emofeat.config import VideoConfig


class FrameSelector:
    """Online nearest-frame selection for one sampling plan.

    Parameters
    ----------
    config : VideoConfig
        The sampling plan.
    span : tuple of float, optional
        ``(first, last)`` presentation times in seconds; required by the ``uniform`` plan.

    Raises
    ------
    ValueError
        When the ``uniform`` plan is given no span, or a span that ends before it starts.
    """

    def __init__(self, config: VideoConfig, span: tuple[float, float] | None = None) -> None:
        self._mode = config.sampling
        self._period = 1.0 / config.fps
        self._targets: np.ndarray | None = None
        if self._mode == "uniform":
            if span is None or not span[1] >= span[0]:
                raise ValueError(f"the uniform plan needs a span (first <= last), got {span}")
            self._targets = np.linspace(span[0], span[1], config.frames, dtype=np.float64)
        self._next = 0  # index of the next unresolved target
        self._t0: float | None = None
        self._prev_time: float | None = None
        self._count = 0  # frames pushed so far
        self._last_pick = -1

    def _target(self, k: int) -> float | None:
        if self._targets is not None:
            return float(self._targets[k]) if k < self._targets.shape[0] else None
        if self._t0 is None:
            return None
        return self._t0 + k * self._period

    def push(self, t: float) -> list[int]:
        """Feed the next frame's time; return the indices of frames to keep now, in order.

        Every returned index is the index of this frame or of the one before it (the only
        frames the caller must still hold). An index may repeat (``uniform`` plan only).

        Raises
        ------
        Nothing.
        """
        index = self._count
        self._count += 1
        if self._mode == "all":
            return [index]
        if self._t0 is None:
            self._t0 = t
        picks: list[int] = []
        while (target := self._target(self._next)) is not None and target <= t:
            prev = self._prev_time
            pick = index - 1 if prev is not None and target - prev <= t - target else index
            self._next += 1
            if self._mode == "fps" and pick == self._last_pick:
                continue
            picks.append(pick)
            self._last_pick = pick
        self._prev_time = t
        return picks

    def finish(self) -> list[int]:
        """Resolve the targets after the last frame (``uniform`` only) to the last frame.

        Raises
        ------
        Nothing.
        """
        if self._targets is None or self._count == 0:
            return []
        rest = self._targets.shape[0] - self._next
        self._next = self._targets.shape[0]
        return [self._count - 1] * rest


def select_indices(times: np.ndarray, config: VideoConfig) -> np.ndarray:
    """The frames a plan keeps from frames with known, sorted times.

    Parameters
    ----------
    times : numpy.ndarray
        Shape ``(N,)``: presentation times in seconds, non-decreasing, N >= 1.
    config : VideoConfig
        The sampling plan.

    Returns
    -------
    numpy.ndarray
        Shape ``(T,)``, dtype int64: indices into ``times``, non-decreasing.

    Raises
    ------
    ValueError
        When ``times`` is empty or not one-dimensional.
    """
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 1 or times.shape[0] == 0:
        raise ValueError(f"times must be a non-empty 1-D array, got shape {times.shape}")
    selector = FrameSelector(config, (float(times[0]), float(times[-1])))
    picks: list[int] = []
    for t in times:
        picks.extend(selector.push(float(t)))
    picks.extend(selector.finish())
    return np.asarray(picks, dtype=np.int64)
