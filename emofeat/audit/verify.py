"""Auditing a store: do the stored features still match their sources, their checksums and
their config?

:func:`audit` reads one snapshot and, for a sample of each corpus's clips (``sample`` clips
drawn with ``numpy.random.default_rng(seed)`` among the clips that succeeded, so a 300,000-clip
corpus costs what the sample costs; ``0`` checks every clip), checks three things:

1. **Stored arrays.** Each part holding a sampled clip: clip count, offsets, each key's dtype
   and trailing shape against the schema recorded at write time, and the sampled rows'
   sha256 against the digests recorded at write time (:mod:`emofeat.store.integrity`).
2. **Sources.** The sampled clips' source files hash (:func:`~emofeat.pipeline.plan.source_digest`,
   as ingestion does) to the digests their features were computed from; a missing file is
   a finding, a file the catalog marks removed a note. Their labels hash to the recorded
   ``labels_sha256``.
3. **Re-extraction.** The sampled clips are extracted again with the feature version's own
   config (rebuilt from its attributes), the same batch code as ingestion, in worker
   processes (:func:`~emofeat.pipeline.workers.run_isolated`), each batch into a scratch
   repository that is removed once compared (memory and disk hold one batch per worker),
   and every array is compared with the stored one: bit-identical, or within
   :data:`TOLERANCES`. A face model whose digest is not the recorded one cannot reproduce
   the features: that is a ``cannot_reextract`` finding naming both digests.

Every difference is a :class:`~emofeat.store.integrity.Finding` naming the clip, the array
and the size of the difference; the report passes when there is none.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from emofeat.audit import DEFAULT_SAMPLE
from emofeat.config import IMPLEMENTATION_VERSIONS, FeatureConfig, feature_version_id
from emofeat.corpora import get_adapter
from emofeat.corpora.base import named
from emofeat.corpora.tracks import tracks_digest
from emofeat.errors import ConfigError, CorpusError, EmofeatError, FaceModelError, NotFoundError
from emofeat.pipeline.batch import BatchJob
from emofeat.pipeline.plan import PlannedClip, batches, source_digest
from emofeat.pipeline.progress import NO_PROGRESS, Progress
from emofeat.pipeline.workers import WorkerError, run_isolated
from emofeat.store import BRANCH, FeatureStore, open_store, read_root
from emofeat.store.integrity import Finding, check_part
from emofeat.store.reader import pieces_at, read_series, series_keys
from emofeat.store.repo import scratch_repo
from emofeat.store.tables import text

#: Per-key absolute tolerances of re-extraction, for libraries that are not bit-reproducible.
#: Empty: every extractor was measured bit-identical (RAVDESS-layout audio-video clips
#: ingested twice with different batch sizes, worker counts, in and out of worker processes,
#: 1 and 2 ONNX Runtime threads, ComParE, spectrogram and ``sampling = "all"`` on: librosa,
#: openSMILE, ONNX Runtime's RetinaFace and OpenCV's alignment reproduced every array bit for
#: bit on one machine). Add a key here only with such a measurement, and say which library.
TOLERANCES: dict[str, float] = {}
#: The phases :func:`audit` reports to its ``progress`` (units: parts, clips, clips).
CHECKSUMS, SOURCES, REEXTRACT = "audit: checksums", "audit: sources", "audit: re-extraction"
_LEDGER_VALUES = ("duration", "frames", "face_ratio")


class AuditFailed(EmofeatError):
    """The audit found differences (the CLI's exit status 1)."""

    kind = "audit_failed"
    stage = "audit"


@dataclass
class CorpusAudit:
    """What was audited of one corpus: its feature version, the sampled clips, the counts."""

    corpus: str
    feature_version: str
    clips: int
    sampled: list[str]
    root: str | None
    checked: dict[str, int] = field(default_factory=lambda: {"parts": 0, "sources": 0, "reextracted": 0})


@dataclass
class AuditReport:
    """The outcome of :func:`audit` (``--json`` prints :meth:`to_dict`)."""

    store: str
    snapshot: str
    corpora: list[CorpusAudit]
    findings: list[Finding]
    notes: list[Finding]
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "snapshot": self.snapshot,
            "passed": self.passed,
            "corpora": [vars(c) for c in self.corpora],
            "findings": [f.to_dict() for f in self.findings],
            "notes": [f.to_dict() for f in self.notes],
            "counts": {
                "clips": sum(c.clips for c in self.corpora),
                "sampled": sum(len(c.sampled) for c in self.corpora),
                "findings": len(self.findings),
                "notes": len(self.notes),
            },
            "seconds": self.seconds,
        }


def audit(
    store: str | Path,
    *,
    corpus: str | None = None,
    feature_version: str | None = None,
    sample: int = DEFAULT_SAMPLE,
    seed: int = 0,
    snapshot: str | None = None,
    tag: str | None = None,
    roots: Mapping[str, str | Path] | None = None,
    workers: int = 1,
    batch_size: int = 8,
    progress: Progress = NO_PROGRESS,
) -> AuditReport:
    """Audit one snapshot of the store at ``store`` (default: the tip of ``main``).

    Parameters
    ----------
    corpus, feature_version
        Only this corpus (default: all), and this feature version of it (default: each
        corpus's latest, the one readers read by default).
    sample, seed
        Clips checked per corpus, drawn among its ok clips (``0``: all of them).
    roots
        Corpus name -> its root now, for a corpus that moved (default: the recorded root).
    workers, batch_size
        Worker processes re-extracting at once, and clips per batch.
    progress
        Sees the :data:`CHECKSUMS`, :data:`SOURCES` and :data:`REEXTRACT` phases of each corpus.

    Returns
    -------
    AuditReport
        Its ``findings`` are the differences (none: it passed); ``notes`` never fail it.

    Raises
    ------
    NotFoundError
        When the store, snapshot, tag, corpus or feature version does not exist.
    ConfigError
        When ``sample`` is negative, ``feature_version`` comes without ``corpus``, or
        ``roots`` names a corpus the snapshot does not have.
    """
    started = time.perf_counter()
    if sample < 0 or workers < 1 or batch_size < 1:
        raise ConfigError("sample must be >= 0 (0: every clip), workers and batch_size >= 1")
    if feature_version is not None and corpus is None:
        raise ConfigError("give the corpus of the feature version (--corpus)")
    fs = open_store(store, snapshot, tag)
    names = fs.corpora()
    if corpus is not None and corpus not in names:
        raise NotFoundError(f"corpus {corpus!r} is not in this store (it has: {', '.join(names) or 'none'})")
    unknown = sorted(set(roots or {}) - set(names))
    if unknown:
        raise ConfigError(f"roots given for corpora the store does not have: {', '.join(unknown)}")
    found: list[Finding] = []
    audited = []
    for name in [corpus] if corpus is not None else names:
        if not fs.feature_versions(name):
            continue
        fv = feature_version or fs.latest_version(name)
        root = (roots or {}).get(name) or fs.corpus_identity(name).get("root")
        one = _sample(fs, name, fv, sample, seed, None if root is None else str(root))
        audited.append(one)
        found += _check_parts(fs, one, progress)
        found += _check_sources(fs, one, workers, progress)
        found += _reextract(fs, one, workers, batch_size, progress)
    return AuditReport(
        str(store),
        fs.snapshot,
        audited,
        [f for f in found if not f.is_note],
        [f for f in found if f.is_note],
        round(time.perf_counter() - started, 3),
    )


def _sample(fs: FeatureStore, corpus: str, fv: str, sample: int, seed: int, root: str | None) -> CorpusAudit:
    """The corpus's ok clips, sorted, and ``sample`` of them drawn with ``seed`` (sorted)."""
    ledger = fs.ledger(corpus, fv)
    ok = np.array(sorted(str(c) for c in ledger.index[ledger["status"] == "ok"]), dtype=object)
    if sample == 0 or sample >= len(ok):
        chosen = list(ok)
    else:
        picked = np.random.default_rng(seed).choice(len(ok), size=sample, replace=False)
        chosen = sorted(str(c) for c in ok[picked])
    return CorpusAudit(corpus, fv, len(ok), [str(c) for c in chosen], root)


def _check_parts(fs: FeatureStore, one: CorpusAudit, progress: Progress) -> list[Finding]:
    """Structure, schema and checksums of the parts holding the sampled clips (their rows)."""
    ledger = fs.ledger(one.corpus, one.feature_version)
    rows: dict[str, dict[int, str]] = {}
    for clip in one.sampled:
        entry = ledger.loc[clip]
        for k, part in enumerate(str(entry["part"]).split()):
            rows.setdefault(part, {})[int(entry["row"]) if k == 0 else 0] = clip
    progress.phase(CHECKSUMS, len(rows))
    out: list[Finding] = []
    for part, expected in sorted(rows.items()):
        try:
            group = fs.part(one.corpus, one.feature_version, part)
        except NotFoundError as exc:
            out += [
                Finding("structure", exc.message, clip, None, part) for clip in sorted(set(expected.values()))
            ]
            progress.advance(failed=1)
            continue
        found = check_part(group, expected, expected=expected)
        out += found
        one.checked["parts"] += 1
        progress.advance(ok=int(not found), failed=int(bool(found)))
    return out


def _check_sources(fs: FeatureStore, one: CorpusAudit, workers: int, progress: Progress) -> list[Finding]:
    """The sampled clips' source files against the digests their features came from."""
    progress.phase(SOURCES, len(one.sampled))
    if one.root is None:
        progress.advance(failed=len(one.sampled))
        return [Finding("no_root", f"{one.corpus}: no corpus root recorded; pass its root (--root PATH)")]
    root = Path(one.root)
    ledger = fs.ledger(one.corpus, one.feature_version)
    catalog = fs.catalog(one.corpus, one.feature_version).set_index("clip_id")

    def check(clip: str) -> tuple[list[Finding], int]:
        entry, row = catalog.loc[clip], ledger.loc[clip]
        removed = text(entry["removed"]) is not None
        out, hashed = [], 0
        for column, digest_column in (("source", "source_sha256"), ("audio_source", "audio_sha256")):
            source = text(entry[column])
            if source is None:
                continue
            path = root / source
            if not path.exists():
                kind = "source_removed" if removed else "source_missing"
                out.append(Finding(kind, f"{clip}: its source {source!r} is not under {root}", clip, column))
                continue
            try:
                digest = source_digest(path)
            except OSError as exc:
                out.append(
                    Finding("source_unreadable", f"{clip}: cannot read {source!r}: {exc}", clip, column)
                )
                continue
            hashed += 1
            recorded = text(row[digest_column]) or ""
            if digest != recorded:
                out.append(
                    Finding(
                        "source_changed",
                        f"{clip}: {source!r} now has sha256 {digest[:16]}..., its features were computed "
                        f"from {recorded[:16] or 'nothing recorded'}...: restore the file, or ingest the "
                        "corpus again to recompute its features",
                        clip,
                        column,
                    )
                )
        return out, hashed

    found: list[Finding] = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="emofeat-audit-hash") as pool:
        for out, hashed in pool.map(check, one.sampled):
            found += out
            one.checked["sources"] += hashed
            progress.advance(ok=int(not out), failed=int(bool(out)))
    return found


def _reextract(
    fs: FeatureStore, one: CorpusAudit, workers: int, batch_size: int, progress: Progress
) -> list[Finding]:
    """Extract the sampled clips again and compare every array with the stored one."""
    progress.phase(REEXTRACT, len(one.sampled))
    fv = one.feature_version
    version = next(v for v in fs.feature_versions(one.corpus) if v["feature_version"] == fv)
    weights = {str(k): str(v) for k, v in (version.get("weights") or {}).items()}
    adapter = fs.adapter(one.corpus)
    try:
        config = rebuild_config(version, weights)
        if one.root is None:
            raise ConfigError("no corpus root recorded; pass its root (--root PATH)")
        manifest = named(get_adapter(adapter).scan(Path(one.root)), one.corpus)
    except (ConfigError, CorpusError) as exc:
        progress.advance(failed=len(one.sampled))
        return [Finding("cannot_reextract", f"{one.corpus} {fv}: cannot re-extract: {exc.message}")]
    records = {c.clip_id: c for c in manifest.clips}
    ledger = fs.ledger(one.corpus, fv)
    out: list[Finding] = []
    planned = []
    for clip in one.sampled:
        record, row = records.get(clip), ledger.loc[clip]
        if record is None:
            out.append(Finding("not_reextracted", f"{clip}: the {adapter} adapter no longer lists it", clip))
            progress.advance(failed=1)
            continue
        labels = tracks_digest(record.tracks)
        if labels != (text(row["labels_sha256"]) or ""):
            out.append(
                Finding("labels_changed", f"{clip}: its labels changed since its features were stored", clip)
            )
        digests = (text(row["source_sha256"]) or "", text(row["audio_sha256"]) or "")
        planned.append(PlannedClip(record, digests[0], None, labels, digests[1]))
    weights_sha256 = next(iter(weights.values()), "")

    def run(clips: tuple[PlannedClip, ...]) -> list[tuple[dict[str, Any], list[Finding]]]:
        """One batch, extracted into its own scratch repository (removed when compared)."""
        with scratch_repo() as scratch:
            fork = scratch.writable_session(BRANCH).fork()
            job = BatchJob(one.corpus, str(one.root), fv, config, clips, fork, weights_sha256, run_id="audit")
            result = run_isolated(job)
            merged = scratch.writable_session(BRANCH)  # read, never committed
            merged.merge(result.session)
            fresh = read_root(merged.store)
            return [
                (row, _compare_clip(fs, one, row, fresh, ledger.loc[row["clip_id"]])) for row in result.rows
            ]

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="emofeat-audit") as pool:
        try:
            for compared in pool.map(run, batches(tuple(planned), batch_size)):
                for row, found in compared:
                    out += found
                    one.checked["reextracted"] += int(row["status"] == "ok")
                    progress.advance(ok=int(not found), failed=int(bool(found)))
        except (FaceModelError, WorkerError) as exc:
            pool.shutdown(cancel_futures=True)
            models = ", ".join(f"{k} sha256 {v}" for k, v in weights.items()) or "none"
            out.append(
                Finding(
                    "cannot_reextract",
                    f"{one.corpus} {fv}: cannot re-extract: {exc.message} (recorded: {models}); "
                    "install the face model the features were computed with",
                )
            )
    return out


def rebuild_config(version: Mapping[str, Any], weights: Mapping[str, str]) -> FeatureConfig:
    """The :class:`FeatureConfig` of a feature version (a :meth:`FeatureStore.feature_versions`
    entry), checked to reproduce its id with this emofeat's extractors.

    Raises
    ------
    ConfigError
        When the config is invalid, its implementation versions are not this emofeat's (the
        message names them), or config and ``weights`` do not hash to the version's id.
    """
    config = FeatureConfig.from_dict(dict(version.get("config") or {}))
    recorded = {str(k): str(v) for k, v in (version.get("implementation") or {}).items()}
    current = IMPLEMENTATION_VERSIONS
    changed = sorted(k for k in set(recorded) | set(current) if recorded.get(k) != current.get(k))
    if changed:
        raise ConfigError(
            "its extractors' implementation versions differ from this emofeat's ("
            + ", ".join(f"{k} {recorded.get(k)} here {current.get(k)}" for k in changed)
            + "): audit it with the emofeat release in its provenance"
        )
    if (again := feature_version_id(config, dict(weights))) != version["feature_version"]:
        raise ConfigError(
            f"its recorded config and weights hash to {again}, not to its id: they were changed"
        )
    return config


def _compare_clip(
    fs: FeatureStore, one: CorpusAudit, row: Mapping[str, Any], fresh_root: Any, stored_row: pd.Series
) -> list[Finding]:
    clip = str(row["clip_id"])
    if row["status"] != "ok":
        return [
            Finding(
                "reextract_failed",
                f"{clip}: re-extraction failed at {row['stage']} ({row['error_kind']}): {row['error']}",
                clip,
            )
        ]
    stored = fs.clip_pieces(clip, one.feature_version)
    fresh = pieces_at(fresh_root, one.corpus, one.feature_version, str(row["part"]), int(row["row"]))
    out = []
    for key in sorted(set(series_keys(stored)) | set(series_keys(fresh))):
        was, now = read_series(stored, key), read_series(fresh, key)
        if was is None or now is None:
            which = "is not stored" if was is None else "was not produced again"
            out.append(Finding("missing_key", f"{clip}: {key!r} {which}", clip, key))
            continue
        out += compare_arrays(clip, key, was, now, TOLERANCES.get(key))
    for column in _LEDGER_VALUES:
        was, now = stored_row[column], row.get(column)
        if not _same_value(was, now):
            out.append(
                Finding("values", f"{clip}: ledger {column} is {was}, re-extracted {now}", clip, column)
            )
    return out


def compare_arrays(
    clip: str, key: str, stored: np.ndarray, fresh: np.ndarray, tolerance: float | None = None
) -> list[Finding]:
    """How the re-extracted ``fresh`` differs from ``stored`` (empty: bit-identical, or within
    the absolute ``tolerance`` when one is given): one finding of kind ``dtype``, ``shape``
    or ``values`` (with the largest absolute difference and the number of elements that
    differ; a NaN against a number differs by infinity).
    """
    if stored.dtype != fresh.dtype:
        return [
            Finding(
                "dtype",
                f"{clip}: {key!r} is stored as {stored.dtype}, re-extracted as {fresh.dtype}",
                clip,
                key,
            )
        ]
    if stored.shape != fresh.shape:
        return [
            Finding(
                "shape",
                f"{clip}: {key!r} is stored as {stored.shape}, re-extracted as {fresh.shape}",
                clip,
                key,
            )
        ]
    a, b = np.ascontiguousarray(stored), np.ascontiguousarray(fresh)
    if a.tobytes() == b.tobytes():
        return []
    numeric = a.dtype.kind in "biufc"
    if a.dtype.kind in "fc":
        with np.errstate(invalid="ignore"):
            differ = ~((a == b) | (np.isnan(a) & np.isnan(b)))
    else:
        differ = np.asarray(a != b)
    if numeric and a.dtype.kind != "b":
        wide = np.complex128 if a.dtype.kind == "c" else np.float64
        with np.errstate(invalid="ignore", over="ignore"):
            size = np.abs(a.astype(wide) - b.astype(wide))
        size = np.where(np.isnan(size) & differ, np.inf, size)
    else:
        size = differ.astype(np.float64)
    if tolerance is not None:
        differ &= ~(size <= tolerance)
        if not differ.any():
            return []
    count = int(differ.sum())
    largest = float(size[differ].max()) if count else 0.0
    what = f"within {tolerance:g} " if tolerance is not None else ""
    detail = f"{count} of {a.size} elements differ" if count else "only the bits of NaNs or zeros differ"
    return [
        Finding(
            "values",
            f"{clip}: {key!r} is not {what}reproduced: {detail}, the largest by {largest:g}",
            clip,
            key,
            max_abs_diff=largest,
            differing=count if count else int(a.size),
        )
    ]


def _same_value(a: Any, b: Any) -> bool:
    """Whether two ledger numbers are equal (``None``, NaN and ``-1`` frames read as unknown)."""

    def norm(v: Any) -> float | None:
        if v is None or isinstance(v, str) or (isinstance(v, float) and np.isnan(v)):
            return None
        return float(v)

    return norm(a) == norm(b)


__all__: Sequence[str] = [
    "DEFAULT_SAMPLE",
    "TOLERANCES",
    "AuditFailed",
    "AuditReport",
    "CorpusAudit",
    "audit",
]
