"""Per-clip work: decode, faces, audio features, tags, validation.

:func:`process_clip` turns one media file into the arrays the store keeps for it, or raises
an :class:`~emofeat.errors.EmofeatError` whose ``stage`` and ``kind`` say where and why it
failed. It has no Prefect, store or corpus knowledge, so tests and notebooks call it as is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, TypeVar

import numpy as np

from emofeat.audio import EGEMAPS_FUNCTIONAL_NAMES, EGEMAPS_LLD_NAMES, Series, egemaps, energy, logmel, mfcc
from emofeat.config import FeatureConfig
from emofeat.errors import EmofeatError, NoMediaStreamError
from emofeat.faces import FaceDetector, FaceTrack, track_faces
from emofeat.media import MediaInfo, load_audio, probe, read_frames
from emofeat.pipeline.validate import validate

P = ParamSpec("P")
R = TypeVar("R")
log = logging.getLogger(__name__)

#: Arrays stored once per clip (all others are time series with time on axis 0).
PER_CLIP_KEYS = frozenset({"egemaps"})


@dataclass(frozen=True)
class ClipFeatures:
    """What one clip yields: its arrays plus a few facts for the ledger."""

    arrays: dict[str, np.ndarray]
    duration: float | None
    frames: int
    face_ratio: float | None


def process_clip(path: Path, config: FeatureConfig, detector: FaceDetector) -> ClipFeatures:
    """Compute every feature of the clip at ``path``.

    A clip with no audio stream gets empty audio series and NaN eGeMAPS functionals; a clip
    with no video stream gets empty face series. Neither is an error.

    Raises
    ------
    EmofeatError
        With ``stage`` and ``kind`` set, when any step fails (decode, faces, features,
        validation).
    """
    info = _stage("probe", probe, path)
    if not (info.has_audio or info.has_video):
        raise NoMediaStreamError(f"{path.name}: no audio or video stream", stage="probe")
    arrays: dict[str, np.ndarray] = {}
    track = _faces(path, info, config, detector, arrays)
    samples = _audio(path, info, config, arrays)
    features = ClipFeatures(
        arrays=arrays,
        duration=info.duration,
        frames=len(arrays["face_times"]),
        face_ratio=float(track.present.mean()) if track is not None and len(track.present) else None,
    )
    _stage("validate", validate, features, info, samples, config)
    return features


def _faces(
    path: Path, info: MediaInfo, config: FeatureConfig, detector: FaceDetector, out: dict[str, np.ndarray]
) -> FaceTrack | None:
    size = config.faces.crop_size
    frames = _stage("decode", read_frames, path, config.video) if info.has_video else None
    if frames is None:
        out.update(
            face=np.zeros((0, size, size, 3), np.uint8),
            face_present=np.zeros(0, np.uint8),
            face_score=np.zeros(0, np.float32),
            face_bbox=np.zeros((0, 4), np.float32),
            face_landmarks=np.zeros((0, 5, 2), np.float32),
            face_times=np.zeros(0, np.float64),
        )
        return None
    track = _stage("faces", track_faces, frames.images, detector, config.faces)
    out.update(
        face=track.crops,
        face_present=track.present,
        face_score=track.scores,
        face_bbox=track.boxes,
        face_landmarks=track.landmarks,
        face_times=frames.times.astype(np.float64),
    )
    return track


def _audio(
    path: Path, info: MediaInfo, config: FeatureConfig, out: dict[str, np.ndarray]
) -> np.ndarray | None:
    cfg = config.audio
    audio = _stage("decode", load_audio, path, cfg.sample_rate) if info.has_audio else None
    if audio is None:
        empty = Series(np.zeros((0,), np.float32), np.zeros(0, np.float64))
        series = {
            "mfcc": _empty(cfg.n_mfcc),
            "logmel": _empty(cfg.n_mels, 3),
            "egemaps_lld": _empty(len(EGEMAPS_LLD_NAMES)),
            "energy": empty,
        }
        functionals = np.full(len(EGEMAPS_FUNCTIONAL_NAMES), np.nan, np.float32)
    else:
        y = audio.samples
        series = {
            "mfcc": _stage("features", mfcc, y, cfg),
            "logmel": _stage("features", logmel, y, cfg),
            "energy": _stage("features", energy, y, cfg),
        }
        if cfg.egemaps:
            series["egemaps_lld"], functionals = _stage("features", egemaps, y, cfg)
        else:
            series["egemaps_lld"] = _empty(len(EGEMAPS_LLD_NAMES))
            functionals = np.full(len(EGEMAPS_FUNCTIONAL_NAMES), np.nan, np.float32)
    for key, s in series.items():
        out[key] = s.values
        out[f"{key}_times"] = s.times.astype(np.float64)
    out["egemaps"] = functionals
    return None if audio is None else audio.samples


def _empty(*trailing: int) -> Series:
    return Series(np.zeros((0, *trailing), np.float32), np.zeros(0, np.float64))


def _stage(stage: str, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run one step, tagging its error with the stage it happened in.

    An exception that is not an :class:`EmofeatError` is a bug or a library failure we did
    not anticipate; it is logged with its traceback and recorded for this clip as
    ``internal_error`` rather than ending the whole run.
    """
    try:
        return fn(*args, **kwargs)
    except EmofeatError as exc:
        exc.stage = stage
        raise
    except Exception as exc:
        log.exception("unexpected error at stage %s", stage)
        raise EmofeatError(f"{type(exc).__name__}: {exc}", kind="internal_error", stage=stage) from exc
