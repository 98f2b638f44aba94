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

import numpy as np

from emofeat.config import FaceConfig, FeatureConfig
from emofeat.errors import EmofeatError, FaceModelError
from emofeat.faces import FaceDetector, load_detector
from emofeat.pipeline.clip import PER_CLIP_KEYS, process_clip
from emofeat.pipeline.labels import track_arrays, track_classes
from emofeat.pipeline.plan import PlannedClip
from emofeat.store import ClipArrays, write_part
from emofeat.store.layout import part_id

log = logging.getLogger(__name__)

#: A batch writes its good clips as soon as they hold this many bytes, so a batch of long
#: clips (``sampling = "all"``) never keeps more than about this much in memory.
MAX_PART_BYTES = 512 * 1024 * 1024


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
    pending = _Part(job)
    rows: list[dict[str, Any]] = []
    for planned in job.clips:
        row: dict[str, Any] = {
            "clip_id": planned.record.clip_id,
            "source_sha256": planned.sha256,
            "labels_sha256": planned.labels_sha256,
        }
        rows.append(row)
        if planned.read_error is not None:
            row |= {
                "status": "failed",
                "stage": "plan",
                "error_kind": "unreadable",
                "error": planned.read_error,
            }
            continue
        path = Path(job.root) / planned.record.source
        try:
            features = process_clip(path, job.config, detector)
            labels = track_arrays(planned.record.tracks, path, job.config.video.sequence_fps)
        except EmofeatError as exc:
            log.warning("%s failed at %s (%s): %s", planned.record.clip_id, exc.stage, exc.kind, exc.message)
            row |= {"status": "failed", "stage": exc.stage, "error_kind": exc.kind, "error": exc.message}
            continue
        row |= {
            "status": "ok",
            "duration": features.duration,
            "frames": features.frames,
            "face_ratio": features.face_ratio,
        }
        pending.add(ClipArrays(planned.record.clip_id, features.arrays | labels, PER_CLIP_KEYS), row, planned)
        if pending.nbytes >= MAX_PART_BYTES:
            pending.flush()
    pending.flush()
    return BatchResult(job.session, tuple(rows))


class _Part:
    """The good clips of a batch waiting to be written as one part (flushed early when big)."""

    def __init__(self, job: BatchJob):
        self.job = job
        self.clips: list[ClipArrays] = []
        self.rows: list[dict[str, Any]] = []
        self.classes: dict[str, list[str]] = {}
        self.nbytes = 0

    def add(self, clip: ClipArrays, row: dict[str, Any], planned: PlannedClip) -> None:
        row["row"] = len(self.clips)
        self.clips.append(clip)
        self.rows.append(row)
        self.classes |= track_classes(planned.record.tracks)
        self.nbytes += sum(np.asarray(a).nbytes for a in clip.arrays.values())

    def flush(self) -> None:
        if not self.clips:
            return
        part = part_id([c.clip_id for c in self.clips], [r["source_sha256"] for r in self.rows])
        job = self.job
        write_part(
            job.session.store,
            job.corpus,
            job.feature_version,
            part,
            self.clips,
            {"label_classes": self.classes},
        )
        for row in self.rows:
            row["part"] = part
        self.clips, self.rows, self.classes, self.nbytes = [], [], {}, 0
