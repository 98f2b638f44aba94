"""What each paper's model reads, cut from a clip's stored arrays by their times.

A view is a small frozen dataclass of options with three methods: :meth:`View.keys` (the
stored arrays it reads), :meth:`View.count` (how many items a clip gives) and
:meth:`View.item` (one item as NumPy arrays, keyed as the models expect). Every alignment
goes through the stored ``*_times`` of each array (:mod:`emofeat.data.align`): a window's
face frames and audio frames are chosen by time, on the clip's one clock.

========  ======================================================================  =========
view      one item                                                                paper
========  ======================================================================  =========
clip      ``frames`` faces spread over the clip (padded, masked) + its MFCC        AMCM
segment   a 64-frame log-mel segment (static, delta, delta-delta as channels)      JDCDTL
          and the 64x64 face nearest its centre
image     one face of a clip (best-scored, middle or every face frame)             RALD
window    ``frames`` faces at equal intervals of a window and the audio frames     GCSA
          of the same seconds (spectrogram by default)
step      ``steps`` steps of 40 ms: face, face tag n_t, energy tag m_t, the         AlexAtt
          windowed descriptors and the continuous labels at each step
========  ======================================================================  =========
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import cv2
import numpy as np

from emofeat.data.align import nearest, period, within
from emofeat.errors import ConfigError

LABEL_PREFIX = "label."
#: What to turn on when a view needs a key the feature version lacks.
_HOW = {
    "spectrogram": "audio.spectrogram = true in the feature config",
    "compare_lld": "audio.compare = true in the feature config",
    "face": "a feature version of clips with video",
}


class Clip(Protocol):
    """What a view sees of one clip (see :class:`emofeat.data.dataset.ClipAccess`)."""

    clip_id: str
    duration: float
    audio: dict[str, Any]  # the feature version's [audio] config

    def has(self, key: str) -> bool: ...
    def rows(self, key: str) -> int: ...
    def all(self, key: str) -> np.ndarray: ...
    def slice(self, key: str, lo: int, hi: int) -> np.ndarray: ...
    def take(self, key: str, rows: np.ndarray) -> np.ndarray: ...
    def tracks(self) -> list[str]: ...


@dataclass(frozen=True)
class View:
    """Base of the views: options are the dataclass fields."""

    name: ClassVar[str] = ""

    def keys(self) -> tuple[str, ...]:
        """The stored keys this view reads (label tracks come on top, when a clip has them)."""
        raise NotImplementedError

    def count(self, clip: Clip) -> int:
        """How many items ``clip`` gives (1 for one item per clip)."""
        return 1

    def item(self, clip: Clip, index: int) -> dict[str, Any]:
        """Item ``index`` of ``clip`` as NumPy arrays and numbers."""
        raise NotImplementedError

    def options(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _chw(faces: np.ndarray) -> np.ndarray:
    """(..., H, W, 3) -> (..., 3, H, W), contiguous."""
    return np.ascontiguousarray(np.moveaxis(faces, -1, -3))


def _resize(faces: np.ndarray, size: int) -> np.ndarray:
    """(N, H, W, 3) uint8 faces to (N, size, size, 3) (area interpolation)."""
    if faces.shape[1:3] == (size, size):
        return faces
    out = np.zeros((len(faces), size, size, 3), faces.dtype)
    for i, face in enumerate(faces):
        out[i] = cv2.resize(face, (size, size), interpolation=cv2.INTER_AREA)
    return out


def _faces(clip: Clip, picks: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Faces at stored rows ``picks`` (-1 = none): (N, 3, size, size) uint8, the mask (a face
    was detected there) and their times (NaN where none)."""
    faces = _resize(clip.take("face", picks), size)
    present = clip.take("face_present", picks).astype(bool) & (picks >= 0)
    times = np.where(picks >= 0, clip.take("face_times", picks), np.nan)
    faces[~present] = 0
    return _chw(faces), present, times


def _hop_s(clip: Clip) -> float:
    """The audio frames' hop in seconds, from the feature version's config."""
    return float(clip.audio.get("hop_ms", 10.0)) / 1000


def _pad(x: np.ndarray, n: int, fill: float = 0) -> np.ndarray:
    """``x`` cut or padded (with ``fill``) to ``n`` rows."""
    if len(x) >= n:
        return x[:n]
    out = np.full((n, *x.shape[1:]), fill, x.dtype)
    out[: len(x)] = x
    return out


def _tracks_at(clip: Clip, at: np.ndarray, tolerance: float) -> dict[str, np.ndarray]:
    """Each label track of the clip sampled at times ``at`` (nearest annotation within
    ``tolerance``; -1 or NaN where none), keyed ``label.<name>``."""
    out: dict[str, np.ndarray] = {}
    for key in clip.tracks():
        values = clip.all(key)
        picks = nearest(clip.all(key + "_times"), at, tolerance)
        missing = -1 if values.dtype.kind in "iu" else np.nan
        out[key] = np.where(
            picks >= 0, values[np.maximum(picks, 0)] if len(values) else missing, missing
        ).astype(values.dtype)
    return out


@dataclass(frozen=True)
class ClipView(View):
    """AMCM: ``frames`` face frames spread evenly over the stored ones (all of them, padded
    and masked, when the clip has fewer) and the clip's MFCC image (``mfcc_frames`` rows, cut
    or zero-padded, or the whole clip when None) with ``mfcc_mask`` (False on padding)."""

    name: ClassVar[str] = "clip"
    frames: int = 16
    mfcc_frames: int | None = None
    size: int = 112

    def __post_init__(self) -> None:
        if self.frames < 1 or (self.mfcc_frames is not None and self.mfcc_frames < 1):
            raise ConfigError("the clip view needs frames >= 1 and mfcc_frames >= 1 (or None)")

    def keys(self) -> tuple[str, ...]:
        return ("face", "face_present", "face_times", "mfcc", "mfcc_times")

    def item(self, clip: Clip, index: int) -> dict[str, Any]:
        n = clip.rows("face_times")
        picks = (
            np.linspace(0, n - 1, self.frames).round().astype(np.int64) if n >= self.frames else np.arange(n)
        )
        picks = _pad(picks, self.frames, -1)
        face, mask, times = _faces(clip, picks, self.size)
        mfcc, mfcc_times = clip.all("mfcc"), clip.all("mfcc_times")
        mfcc_mask = np.ones(len(mfcc), bool)
        if self.mfcc_frames is not None:
            mfcc, mfcc_times = _pad(mfcc, self.mfcc_frames), _pad(mfcc_times, self.mfcc_frames, np.nan)
            mfcc_mask = _pad(mfcc_mask, self.mfcc_frames, False)
        return {
            "face": face,
            "face_mask": mask,
            "face_times": times,
            "mfcc": mfcc,
            "mfcc_mask": mfcc_mask,
            "mfcc_times": mfcc_times,
        }


@dataclass(frozen=True)
class SegmentView(View):
    """JDCDTL: log-mel segments of ``frames`` frames every ``hop`` frames (default: not
    overlapping) as (3, n_mels, frames) (static, delta, delta-delta), with the face nearest
    the segment's centre (within half a segment), resized to ``face_size``."""

    name: ClassVar[str] = "segment"
    frames: int = 64
    hop: int | None = None
    face_size: int = 64

    def __post_init__(self) -> None:
        if self.frames < 1 or (self.hop is not None and self.hop < 1):
            raise ConfigError("the segment view needs frames >= 1 and hop >= 1")

    def keys(self) -> tuple[str, ...]:
        return ("logmel", "logmel_times", "face", "face_present", "face_times")

    def count(self, clip: Clip) -> int:
        hop = self.hop or self.frames
        return max(1, -(-(clip.rows("logmel") - self.frames) // hop) + 1)

    def item(self, clip: Clip, index: int) -> dict[str, Any]:
        lo = index * (self.hop or self.frames)
        seg = clip.slice("logmel", lo, lo + self.frames)
        times = clip.slice("logmel_times", lo, lo + self.frames)
        mask = _pad(np.ones(len(seg), bool), self.frames, False)
        logmel = np.ascontiguousarray(np.moveaxis(_pad(seg, self.frames), -1, 0).swapaxes(1, 2))
        hop_s = period(times, _hop_s(clip))
        centre = (times[0] + times[-1]) / 2 if len(times) else lo * hop_s
        pick = nearest(clip.all("face_times"), np.array([centre]), self.frames * hop_s / 2)
        face, face_mask, face_times = _faces(clip, pick, self.face_size)
        return {
            "logmel": logmel,
            "logmel_mask": mask,
            "logmel_times": _pad(times, self.frames, np.nan),
            "face": face[0],
            "face_mask": face_mask[0],
            "face_times": face_times,
        }


@dataclass(frozen=True)
class ImageView(View):
    """RALD: one face per item: the best-scored face of each clip (``frame="best"``), its
    middle sampled frame (``"middle"``), or one item per detected face frame (``"all"``)."""

    name: ClassVar[str] = "image"
    frame: str = "best"
    size: int = 112

    def __post_init__(self) -> None:
        if self.frame not in ("best", "middle", "all"):
            raise ConfigError(f"the image view's frame must be best, middle or all, not {self.frame!r}")

    def keys(self) -> tuple[str, ...]:
        return ("face", "face_present", "face_times", "face_score")

    def count(self, clip: Clip) -> int:
        return max(1, int(clip.all("face_present").sum())) if self.frame == "all" else 1

    def item(self, clip: Clip, index: int) -> dict[str, Any]:
        present = clip.all("face_present").astype(bool)
        if self.frame == "all":
            rows = np.flatnonzero(present)
            pick = rows[index] if len(rows) else -1
        elif self.frame == "middle":
            pick = len(present) // 2 if len(present) else -1
        else:
            scores = np.where(present, clip.all("face_score"), -np.inf)
            pick = int(np.argmax(scores)) if present.any() else -1
        face, mask, times = _faces(clip, np.array([pick], np.int64), self.size)
        return {"face": face[0], "face_mask": mask[0], "face_times": times}


@dataclass(frozen=True)
class WindowView(View):
    """GCSA: windows of ``seconds`` every ``hop`` seconds (default: not overlapping). In each,
    ``frames`` faces at equal intervals (the stored frame nearest each interval's centre,
    inside that interval) and the ``audio`` frames (``spectrogram``, ``logmel`` or ``mfcc``)
    whose centres lie in the window, padded and masked to a fixed count. Label tracks are
    sampled at the face times (``label.<name>`` (frames,))."""

    name: ClassVar[str] = "window"
    seconds: float = 2.0
    frames: int = 8
    hop: float | None = None
    audio: str = "spectrogram"
    size: int = 112

    def __post_init__(self) -> None:
        if not self.seconds > 0 or self.frames < 1 or (self.hop is not None and not self.hop > 0):
            raise ConfigError("the window view needs seconds > 0, frames >= 1 and hop > 0")
        if self.audio not in ("spectrogram", "logmel", "mfcc"):
            raise ConfigError(
                f"the window view's audio must be spectrogram, logmel or mfcc, not {self.audio!r}"
            )

    def keys(self) -> tuple[str, ...]:
        return ("face", "face_present", "face_times", self.audio, self.audio + "_times")

    def count(self, clip: Clip) -> int:
        hop = self.hop or self.seconds
        return max(1, math.ceil(max(clip.duration - self.seconds, 0.0) / hop - 1e-9) + 1)

    def item(self, clip: Clip, index: int) -> dict[str, Any]:
        start = index * (self.hop or self.seconds)
        cell = self.seconds / self.frames
        at = start + (np.arange(self.frames) + 0.5) * cell
        picks = nearest(clip.all("face_times"), at, cell / 2)
        face, mask, times = _faces(clip, picks, self.size)
        hop_s = _hop_s(clip)
        n_audio = round(self.seconds / hop_s)
        audio_times = clip.all(self.audio + "_times")
        lo, hi = within(audio_times, start, start + self.seconds)
        audio = clip.slice(self.audio, lo, min(hi, lo + n_audio))
        out = {
            "face": face,
            "face_mask": mask,
            "face_times": times,
            self.audio: _pad(audio, n_audio),
            self.audio + "_mask": _pad(np.ones(len(audio), bool), n_audio, False),
            self.audio + "_times": _pad(audio_times[lo : lo + len(audio)], n_audio, np.nan),
            "start": start,
        }
        out.update(_tracks_at(clip, at, cell / 2))
        return out


@dataclass(frozen=True)
class StepView(View):
    """AlexAtt: ``steps`` steps of ``step_s`` seconds (step ``s`` centred at ``s * step_s``
    on the clip's clock, as RECOLA's annotations are), every ``hop`` steps (default: not
    overlapping). Per step: the face of the frame nearest the step (within half a step), the
    face tag n_t (``face_present``), the energy tag m_t (``energy`` at the nearest audio
    frame), ``lld``: the windowed descriptors of the window centred nearest the step (or, with
    ``lld="egemaps_lld"`` / ``"compare_lld"``, the nearest LLD frame), and each continuous
    label track (``arousal``, ``valence``...: NaN where not annotated). Steps past the clip's
    end are masked (``step_mask``)."""

    name: ClassVar[str] = "step"
    steps: int = 100
    step_s: float = 0.04
    hop: int | None = None
    lld: str = "windows"
    size: int = 112

    def __post_init__(self) -> None:
        if self.steps < 1 or not self.step_s > 0 or (self.hop is not None and self.hop < 1):
            raise ConfigError("the step view needs steps >= 1, step_s > 0 and hop >= 1")
        if self.lld not in ("windows", "egemaps_lld", "compare_lld"):
            raise ConfigError(
                f"the step view's lld must be windows, egemaps_lld or compare_lld, not {self.lld!r}"
            )

    def keys(self) -> tuple[str, ...]:
        return (
            "face",
            "face_present",
            "face_times",
            "energy",
            "energy_times",
            self.lld,
            self.lld + "_times",
        )

    def total_steps(self, clip: Clip) -> int:
        return math.floor(clip.duration / self.step_s + 1e-6) + 1

    def count(self, clip: Clip) -> int:
        hop = self.hop or self.steps
        return max(1, -(-(self.total_steps(clip) - self.steps) // hop) + 1)

    def item(self, clip: Clip, index: int) -> dict[str, Any]:
        first = index * (self.hop or self.steps)
        steps = first + np.arange(self.steps)
        times = steps * self.step_s
        half = self.step_s / 2
        face, present, face_times = _faces(clip, nearest(clip.all("face_times"), times, half), self.size)
        energy_pick = nearest(clip.all("energy_times"), times, half)
        energy = np.where(energy_pick >= 0, clip.take("energy", energy_pick), 0.0).astype(np.float32)
        energy_times = np.where(energy_pick >= 0, clip.take("energy_times", energy_pick), np.nan)
        lld_times = clip.all(self.lld + "_times")
        reach = (
            float(clip.audio.get("window_s", 3.0)) / 2
            if self.lld == "windows"
            else period(lld_times, 0.01) / 2
        )
        lld_pick = nearest(lld_times, times, reach)
        lld = clip.take(self.lld, lld_pick)
        out: dict[str, Any] = {
            "times": times,
            "step_mask": steps < self.total_steps(clip),
            "face": face,
            "face_present": present.astype(np.float32),
            "face_times": face_times,
            "energy": energy,
            "energy_mask": energy_pick >= 0,
            "energy_times": energy_times,
            "lld": lld,
            "lld_mask": lld_pick >= 0,
            "lld_times": np.where(
                lld_pick >= 0, lld_times[np.maximum(lld_pick, 0)] if len(lld_times) else 0, np.nan
            ),
        }
        for key, values in _tracks_at(clip, times, half).items():
            name = key[len(LABEL_PREFIX) :]
            if values.dtype.kind == "f":
                out[name] = values
                out[name + "_mask"] = ~np.isnan(values)
            else:
                out[key] = values
        return out


VIEWS: dict[str, type[View]] = {v.name: v for v in (ClipView, SegmentView, ImageView, WindowView, StepView)}


def make_view(name: str, **options: Any) -> View:
    """The view called ``name`` with ``options``.

    Raises
    ------
    ConfigError
        For an unknown view or option, or an invalid value.
    """
    if name not in VIEWS:
        raise ConfigError(f"unknown view {name!r}; the views are: {', '.join(VIEWS)}")
    cls = VIEWS[name]
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(options) - known
    if unknown:
        raise ConfigError(f"unknown option(s) {sorted(unknown)} of the {name} view; known: {sorted(known)}")
    return cls(**options)


def missing_hint(key: str) -> str:
    """What to turn on for a key a view needs."""
    return _HOW.get(key, "a feature version that stores it")
