"""Time-varying labels: per-frame categories and continuous values with their own timebase.

A :class:`LabelTrack` comes from an annotation file beside the media (Aff-Wild2's per-frame
expression files, RECOLA's 40 ms arousal/valence ratings). Its positions are either times in
seconds on the clip's clock (``times``) or video frame indices (``frames``), whichever the
annotation uses; the ingestion stage turns frame indices into seconds with the clip's real
frame timestamps, so a loader can align labels with any feature series.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

#: Value of a categorical track at a position that is not annotated.
UNANNOTATED = -1


@dataclass(frozen=True, eq=False)
class LabelTrack:
    """One annotation series of a clip.

    Attributes
    ----------
    name : str
        ``expression``, ``valence``, ``arousal``, ...
    kind : {"categorical", "continuous"}
        Categorical values are class indices into ``classes`` (``-1`` = not annotated);
        continuous values are floats.
    values : numpy.ndarray
        ``(N,)`` int16 (categorical) or float32 (continuous).
    times : numpy.ndarray or None
        ``(N,)`` float64 seconds, when the annotation is timed.
    frames : numpy.ndarray or None
        ``(N,)`` int64 video frame indices (0-based), when the annotation is per frame.
    classes : tuple of str
        The category names of a categorical track, in code order.
    """

    name: str
    kind: Literal["categorical", "continuous"]
    values: np.ndarray
    times: np.ndarray | None = None
    frames: np.ndarray | None = None
    classes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if (self.times is None) == (self.frames is None):
            raise ValueError(f"track {self.name!r}: give exactly one of times or frames")
        position = self.times if self.times is not None else self.frames
        if position is None or len(position) != len(self.values):
            raise ValueError(f"track {self.name!r}: positions and values differ in length")
        if self.kind == "categorical" and not self.classes:
            raise ValueError(f"track {self.name!r}: a categorical track needs its classes")


@dataclass(frozen=True)
class Problem:
    """Why an annotation file cannot be read: its 1-based line (0 = the whole file) and what."""

    line: int
    text: str

    def where(self, source: str) -> str:
        return f"{source}: {self.text}" if self.line == 0 else f"{source} line {self.line}: {self.text}"


def tracks_digest(tracks: Iterable[LabelTrack]) -> str:
    """sha256 over a clip's tracks (names, kinds, classes, values, positions); ``""`` if none.

    Annotation files change independently of the media; this digest tells a re-run that a
    clip's stored label arrays are stale.
    """
    h = hashlib.sha256()
    empty = True
    for t in sorted(tracks, key=lambda t: t.name):
        empty = False
        position = t.times if t.times is not None else t.frames
        h.update(
            f"{t.name}\0{t.kind}\0{'/'.join(t.classes)}\0{'t' if t.times is not None else 'f'}\0".encode()
        )
        h.update(np.ascontiguousarray(t.values, dtype=np.float64).tobytes())
        h.update(np.ascontiguousarray(position, dtype=np.float64).tobytes())
    return "" if empty else h.hexdigest()
