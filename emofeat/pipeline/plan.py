"""Planning an ingestion run: which clips to process, which are already done.

A clip is *done* for a feature version when its ledger row records the same digests of its
source files (both, for a clip drawn from two files) and labels, and it either succeeded or
failed in a way that would repeat: a decode or validation failure on unchanged bytes under
an unchanged config would fail the same way again, so it stays failed until the file or
the config changes (or the run asks to retry failures). A failure of the run rather than of
the clip (:data:`RETRIED_KINDS`: an unexpected exception, a source that could not be read)
is retried by the next run. Everything else is *todo*.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import pandas as pd

from emofeat.corpora import ClipRecord, Manifest
from emofeat.corpora.tracks import tracks_digest
from emofeat.pipeline.progress import HASH, NO_PROGRESS, Progress

_BLOCK = 1 << 20

#: Failure kinds that say nothing about the clip itself (a bug, a transient I/O error, such as
#: the plan stage's unreadable source): the next run processes these clips again.
RETRIED_KINDS = frozenset({"internal_error", "io_error"})


@dataclass(frozen=True)
class PlannedClip:
    """A clip with the digest of its source bytes (``""`` when the source could not be read),
    of its separate audio file (``""`` when it has none) and of its time-varying labels
    (``""`` when it has none), each computed once."""

    record: ClipRecord
    sha256: str
    read_error: str | None = None
    labels_sha256: str = ""
    audio_sha256: str = ""


@dataclass(frozen=True)
class Plan:
    todo: tuple[PlannedClip, ...]
    done: tuple[PlannedClip, ...]


def source_digest(path: Path) -> str:
    """sha256 of a file, or of a directory's files (names and bytes, sorted) for image sequences.

    Raises
    ------
    OSError
        When the source cannot be read.
    """
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if path.is_dir():
            h.update(f.relative_to(path).as_posix().encode() + b"\0")
        with f.open("rb") as fh:
            while block := fh.read(_BLOCK):
                h.update(block)
    return h.hexdigest()


def digest_clip(manifest: Manifest, record: ClipRecord) -> PlannedClip:
    """The clip with the digests of its source files (both, for a clip drawn from two) and of
    its labels; an unreadable file leaves its digest ``""`` and names itself in ``read_error``."""
    labels = tracks_digest(record.tracks)
    digests: list[str] = []
    for source in (record.source, record.audio_source):
        if source is None:
            digests.append("")
            continue
        try:
            digests.append(source_digest(manifest.root / source))
        except OSError as exc:
            error = f"cannot read {source!r}: {exc.strerror or exc}"
            return PlannedClip(record, "", read_error=error, labels_sha256=labels)
    return PlannedClip(record, digests[0], labels_sha256=labels, audio_sha256=digests[1])


def make_plan(
    manifest: Manifest,
    ledger: pd.DataFrame,
    *,
    retry_failed: bool = False,
    workers: int = 1,
    progress: Progress = NO_PROGRESS,
) -> Plan:
    """Split the manifest's clips into todo and done against an existing ledger.

    Sources are hashed on ``workers`` threads (hashlib releases the GIL on large reads);
    ``progress`` sees the ``"hash"`` phase, one unit per clip (failed: source unreadable).
    """
    columns = ["clip_id", "source_sha256", "audio_sha256", "labels_sha256", "status", "error_kind"]
    known = {
        row.clip_id: (
            (_text(row.source_sha256), _text(row.audio_sha256), _text(row.labels_sha256)),
            row.status,
            row.error_kind,
        )
        for row in ledger.reindex(columns=columns).itertuples(index=False)
    }
    todo: list[PlannedClip] = []
    done: list[PlannedClip] = []
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="emofeat-hash") as pool:
        progress.phase(HASH, len(manifest.clips))
        digested: list[PlannedClip] = []
        hashed = _in_order(pool, lambda r: digest_clip(manifest, r), manifest.clips, 4 * max(1, workers))
        for planned in hashed:
            digested.append(planned)
            unreadable = planned.read_error is not None
            progress.advance(ok=0 if unreadable else 1, failed=1 if unreadable else 0)
    for record, planned in zip(manifest.clips, digested, strict=True):
        previous = known.get(record.clip_id)
        unchanged = (
            previous is not None
            and planned.read_error is None
            and previous[0] == (planned.sha256, planned.audio_sha256, planned.labels_sha256)
        )
        if unchanged and previous is not None and not _retry(previous[1], previous[2], retry_failed):
            done.append(planned)
        else:
            todo.append(planned)
    return Plan(tuple(todo), tuple(done))


def _in_order(
    pool: ThreadPoolExecutor,
    fn: Callable[[ClipRecord], PlannedClip],
    items: Iterable[ClipRecord],
    window: int,
) -> Iterator[PlannedClip]:
    """``pool.map(fn, items)`` with at most ``window`` items in flight: a million clips never
    become a million pending futures at once."""
    rest = iter(items)
    pending: deque[Future[PlannedClip]] = deque(pool.submit(fn, item) for item in islice(rest, window))
    while pending:
        yield pending.popleft().result()
        pending.extend(pool.submit(fn, item) for item in islice(rest, 1))


def _text(value: object) -> str:
    """A digest column's value, ``""`` for null (None or NaN, or a column an older ledger lacks)."""
    return value if isinstance(value, str) else ""


def _retry(status: str, error_kind: str | None, retry_failed: bool) -> bool:
    """Whether a clip stored unchanged with this ledger status is processed again."""
    return status != "ok" and (retry_failed or error_kind in RETRIED_KINDS)


def batches(clips: tuple[PlannedClip, ...], size: int) -> Iterator[tuple[PlannedClip, ...]]:
    for start in range(0, len(clips), size):
        yield clips[start : start + size]
