"""One batch of clips: the unit of work an orchestrator schedules (one Prefect task each).

A batch processes its clips one by one, records a ledger row for each (ok or failed, with
the stage, kind and message of the failure), and writes the good clips as one part into the
session it was given (a fork of the run's session), so concurrent batches never share chunks.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emofeat.config import FaceConfig, FeatureConfig
from emofeat.errors import EmofeatError, FaceModelError
from emofeat.faces import FaceDetector, load_detector
from emofeat.pipeline.clip import PER_CLIP_KEYS, process_clip
from emofeat.pipeline.labels import track_arrays, track_classes
from emofeat.pipeline.plan import PlannedClip
from emofeat.store import ClipArrays, write_part
from emofeat.store.layout import part_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchJob:
    """Everything a worker needs to process one batch (it pickles: it crosses processes)."""

    corpus: str
    root: str
    feature_version: str
    config: FeatureConfig
    clips: tuple[PlannedClip, ...]
    session: Any  # an icechunk ForkSession (or Session) to write the part into
    weights_sha256: str = ""  # the face model digest the feature version was computed with


@dataclass(frozen=True)
class BatchResult:
    """The session the part was written into, and one ledger row per clip."""

    session: Any
    rows: tuple[dict[str, Any], ...]


@functools.lru_cache(maxsize=4)
def detector_for(config: FaceConfig) -> FaceDetector:
    """The face detector for ``config``, loaded once per process."""
    return load_detector(config)


def run_batch(job: BatchJob) -> BatchResult:
    """Process every clip of ``job``; failures become rows, never exceptions.

    Raises
    ------
    FaceModelError
        When the face detector cannot be loaded, or its weights differ from the run's.
    StoreError
        When the part cannot be written.
    """
    detector = detector_for(job.config.faces)
    if job.weights_sha256 and detector.weights_sha256 != job.weights_sha256:
        raise FaceModelError(
            f"this worker's face model ({detector.weights_sha256[:12]}...) is not the one the run "
            f"started with ({job.weights_sha256[:12]}...): every worker needs the same model file",
            kind="weights_mismatch",
        )
    good: list[ClipArrays] = []
    rows: list[dict[str, Any]] = []
    classes: dict[str, list[str]] = {}
    for planned in job.clips:
        row: dict[str, Any] = {
            "clip_id": planned.record.clip_id,
            "source_sha256": planned.sha256,
            "labels_sha256": planned.labels_sha256,
        }
        if planned.read_error is not None:
            rows.append(
                row
                | {
                    "status": "failed",
                    "stage": "plan",
                    "error_kind": "unreadable",
                    "error": planned.read_error,
                }
            )
            continue
        path = Path(job.root) / planned.record.source
        try:
            features = process_clip(path, job.config, detector)
            labels = track_arrays(planned.record.tracks, path, job.config.video.sequence_fps)
        except EmofeatError as exc:
            log.warning("%s failed at %s (%s): %s", planned.record.clip_id, exc.stage, exc.kind, exc.message)
            rows.append(
                row | {"status": "failed", "stage": exc.stage, "error_kind": exc.kind, "error": exc.message}
            )
            continue
        row |= {
            "status": "ok",
            "row": len(good),
            "duration": features.duration,
            "frames": features.frames,
            "face_ratio": features.face_ratio,
        }
        rows.append(row)
        good.append(ClipArrays(planned.record.clip_id, features.arrays | labels, PER_CLIP_KEYS))
        classes |= track_classes(planned.record.tracks)
    if good:
        part = part_id([c.clip_id for c in good], [r["source_sha256"] for r in rows if r["status"] == "ok"])
        write_part(job.session.store, job.corpus, job.feature_version, part, good, {"label_classes": classes})
        for r in rows:
            if r["status"] == "ok":
                r["part"] = part
    return BatchResult(job.session, tuple(rows))
