"""One batch of clips: the unit of work an orchestrator schedules (one Prefect task each).

A batch processes its clips one by one, records a ledger row for each (ok or failed, with
the stage, kind and message of the failure), and writes the good clips as one part into the
session it was given (a fork of the run's session), so concurrent batches never share chunks.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emofeat.config import FaceConfig, FeatureConfig
from emofeat.errors import EmofeatError, FaceModelError
from emofeat.faces import FaceDetector, load_detector
from emofeat.media import DEFAULT_MAX_PIXELS
from emofeat.pipeline import stopping
from emofeat.pipeline.clip import PER_CLIP_KEYS, internal_error, process_clip
from emofeat.pipeline.labels import track_arrays, track_classes
from emofeat.pipeline.plan import PlannedClip
from emofeat.pipeline.timing import StageTimes
from emofeat.store import ClipArrays, write_part
from emofeat.store.layout import part_id

log = logging.getLogger(__name__)

#: A batch writes its good clips as soon as they hold this many bytes, so a batch of long
#: clips (``sampling = "all"``) never keeps more than about this much in memory.
MAX_PART_BYTES = 32 * 1024 * 1024


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
    max_pixels: int = DEFAULT_MAX_PIXELS  # larger frames are refused (a runtime limit, not hashed)
    run_id: str = ""  # the run that writes these clips (recorded in each ledger row)


@dataclass(frozen=True)
class BatchResult:
    """The session the part was written into, one ledger row per clip, and the seconds the
    batch spent in each stage (:mod:`emofeat.pipeline.timing`)."""

    session: Any
    rows: tuple[dict[str, Any], ...]
    times: dict[str, float] = field(default_factory=dict)


@functools.lru_cache(maxsize=4)
def detector_for(config: FaceConfig) -> FaceDetector:
    """The face detector for ``config``, loaded once per process."""
    return load_detector(config)


def run_batch(job: BatchJob, *, on_clip: Callable[[str], None] | None = None) -> BatchResult:
    """Process every clip of ``job``; failures become rows, never exceptions.

    Any exception raised for one clip, expected or not, becomes that clip's failure row
    (an unexpected one as ``internal_error`` with its type and a short trace) and the batch
    goes on with the next clip. When the run is asked to stop (:mod:`emofeat.pipeline.stopping`)
    the batch ends after the clip in progress: the clips it did not reach get no row (the
    next run processes them). ``on_clip`` is called with each clip's id just before the clip
    is processed (a supervisor learns which clip a worker process died on).

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
    times = StageTimes()
    pending = _Part(job, times)
    rows: list[dict[str, Any]] = []
    for planned in job.clips:
        if stopping.requested():
            break
        if on_clip is not None:
            on_clip(planned.record.clip_id)
        row: dict[str, Any] = {
            "clip_id": planned.record.clip_id,
            "source_sha256": planned.sha256,
            "audio_sha256": planned.audio_sha256,
            "labels_sha256": planned.labels_sha256,
            "run": job.run_id,
        }
        rows.append(row)
        if planned.read_error is not None:
            row |= {
                "status": "failed",
                "stage": "plan",
                "error_kind": "io_error",
                "error": planned.read_error,
            }
            continue
        record = planned.record
        path = Path(job.root) / record.source
        audio_path = None if record.audio_source is None else Path(job.root) / record.audio_source
        pending.begin(row)
        try:
            features = process_clip(
                path,
                job.config,
                detector,
                pending.segment,
                job.max_pixels,
                audio_path=audio_path,
                side=record.person,
                times=times,
            )
            labels = track_arrays(planned.record.tracks, path, job.config.video.sequence_fps)
        except Exception as exc:
            error = exc if isinstance(exc, EmofeatError) else internal_error(exc, "pipeline")
            if not isinstance(exc, EmofeatError):
                log.error("%s: unexpected %s", planned.record.clip_id, error.message)
            log.warning(
                "%s failed at %s (%s): %s", planned.record.clip_id, error.stage, error.kind, error.message
            )
            pending.abort()
            row |= {
                "status": "failed",
                "stage": error.stage,
                "error_kind": error.kind,
                "error": error.message,
            }
            continue
        row |= {
            "status": "ok",
            "duration": features.duration,
            "frames": features.frames,
            "face_ratio": features.face_ratio,
            "audio_start": features.audio_start,
            "video_start": features.video_start,
        }
        pending.finish(features.arrays | labels, planned)
    pending.flush()
    for row in rows:
        parts = row.pop("_parts", None)
        if row["status"] == "ok":
            row["part"] = " ".join(parts or [])
    return BatchResult(job.session, tuple(rows), times.as_dict())


class _Part:
    """The clips of a batch waiting to be written as one part.

    A part is written as soon as it holds :data:`MAX_PART_BYTES`, even in the middle of a
    clip: a long clip's face segments then continue in the next part (its ledger row lists
    every part it is in), so neither memory nor any part grows with the clip's length.
    """

    def __init__(self, job: BatchJob, times: StageTimes):
        self.job = job
        self.times = times
        self.entries: list[tuple[dict[str, Any], dict[str, list[np.ndarray]], bool]] = []
        self.classes: dict[str, list[str]] = {}
        self.nbytes = 0
        self.current: dict[str, Any] | None = None  # the ledger row of the clip in progress

    def begin(self, row: dict[str, Any]) -> None:
        self.current = row
        row["_parts"] = []

    def _entry(self) -> dict[str, list[np.ndarray]]:
        if self.current is None:  # pragma: no cover - begin() comes first
            raise RuntimeError("no clip in progress")
        if not self.entries or self.entries[-1][0] is not self.current:
            self.entries.append((self.current, {}, False))
        return self.entries[-1][1]

    def _add(self, arrays: dict[str, np.ndarray]) -> None:
        entry = self._entry()
        for key, value in arrays.items():
            entry.setdefault(key, []).append(value)
            self.nbytes += int(np.asarray(value).nbytes)

    def segment(self, arrays: dict[str, np.ndarray]) -> None:
        """A segment of the current clip's face series."""
        self._add(arrays)
        if self.nbytes >= MAX_PART_BYTES:
            self.flush()

    def abort(self) -> None:
        """The current clip failed: drop what is not written yet.

        Segments already written with an earlier part stay there, unreferenced (no ledger
        row points at them).
        """
        if self.entries and self.entries[-1][0] is self.current:
            self.entries.pop()
        if self.current is not None:
            self.current.pop("_parts", None)
        self.current = None

    def finish(self, arrays: dict[str, np.ndarray], planned: PlannedClip) -> None:
        """The current clip's other arrays: it is complete."""
        self._add(arrays)
        row, entry, _ = self.entries[-1]
        self.entries[-1] = (row, entry, True)
        self.classes |= track_classes(planned.record.tracks)
        self.current = None
        if self.nbytes >= MAX_PART_BYTES:
            self.flush()

    def flush(self) -> None:
        if not self.entries:
            return
        clips = [
            ClipArrays(row["clip_id"], arrays, PER_CLIP_KEYS, complete)
            for row, arrays, complete in self.entries
        ]
        keys = [f"{row['clip_id']}#{len(row['_parts'])}" for row, _a, _c in self.entries]
        part = part_id(keys, [row["source_sha256"] for row, _a, _c in self.entries])
        job = self.job
        with self.times.timed("write"):
            attrs = {"label_classes": self.classes}
            write_part(job.session.store, job.corpus, job.feature_version, part, clips, attrs)
        for index, (row, _arrays, _complete) in enumerate(self.entries):
            if not row["_parts"]:
                row["row"] = index
            row["_parts"].append(part)
        self.entries, self.classes, self.nbytes = [], {}, 0  # a clip in progress goes on in the next part
