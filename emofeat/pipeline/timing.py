"""Per-stage timings of an ingestion run: where its seconds went.

Every batch measures the seconds each stage of its clips took (:class:`StageTimes`, one per
batch, safe to share between a clip's decode, face and audio threads); the driver adds the
batches' figures and its own (planning, commits) and records the run's totals so far in
each checkpoint's commit metadata (``emofeat.timings``), which ``emofeat history`` shows.

The stages overlap in time: within a clip, decoding, the face work and the audio features
run on three threads, and batches run on several workers at once. So the figures are busy
seconds, summed over threads and workers, not slices of the wall clock: divided by the
clips they cover they give each stage's cost per clip, the measure to compare with the
stage run alone (``bench/ingest.py`` does).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

#: The stages, in pipeline order. ``plan`` is the driver's scan of the corpus and hashing of
#: its sources; ``decode`` covers video frames and audio; ``detect`` is the face detector
#: alone and ``align`` the rest of the face work (choosing the primary face, the similarity
#: warp to the crop); ``write`` puts the parts' arrays into the fork sessions; ``commit``
#: records catalog and ledger rows and commits the checkpoints.
STAGES = ("plan", "probe", "decode", "detect", "align", "audio_features", "validate", "write", "commit")


class StageTimes:
    """Seconds per stage, added to from any thread."""

    def __init__(self, seconds: Mapping[str, float] | None = None) -> None:
        self._lock = threading.Lock()
        self._seconds: dict[str, float] = dict(seconds or {})

    def add(self, stage: str, seconds: float) -> None:
        """Count ``seconds`` more for ``stage``."""
        with self._lock:
            self._seconds[stage] = self._seconds.get(stage, 0.0) + seconds

    def merge(self, other: Mapping[str, float]) -> None:
        """Add every stage of ``other``."""
        for stage, seconds in other.items():
            self.add(stage, seconds)

    def get(self, stage: str) -> float:
        """The seconds counted for ``stage`` so far."""
        with self._lock:
            return self._seconds.get(stage, 0.0)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Count the time the block takes (also when it raises) for ``stage``."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - started)

    def call(self, stage: str, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """``fn(*args, **kwargs)``, its time counted for ``stage``."""
        with self.timed(stage):
            return fn(*args, **kwargs)

    def as_dict(self) -> dict[str, float]:
        """Seconds per stage (millisecond precision), the known stages first, in order."""
        with self._lock:
            seconds = dict(self._seconds)
        order = [s for s in STAGES if s in seconds] + sorted(set(seconds) - set(STAGES))
        return {stage: round(seconds[stage], 3) for stage in order}


def summary(seconds: Mapping[str, float], clips: int, wall: float) -> dict[str, object]:
    """What a commit records: the stages' seconds, the clips they cover and the run's wall time."""
    return {"stage_seconds": dict(seconds), "clips": clips, "wall_seconds": round(wall, 3)}
