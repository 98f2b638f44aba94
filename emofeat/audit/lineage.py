"""Where a clip's stored arrays came from (``emofeat lineage CLIP_ID``).

For one clip, at one snapshot and one feature version: the source files with their sha256
and stream offsets (the ledger's: the bytes the features were computed from), the feature
version's config, extractor implementation versions and weight digests, the stored keys with
their shapes and dtypes, and the commit that wrote the clip with the environment of its run
(library versions: PyAV and FFmpeg's libraries, onnxruntime, openSMILE, numpy, emofeat).

Finding the commit: each ledger row names the run that wrote it (``run``), and every commit
of a run carries the same id in ``metadata["emofeat"]["run"]``. Of the run's commits in the
snapshot's history, the one that wrote the clip is the earliest whose ledger holds the
clip's row with that run id. A run only adds rows, so that predicate is false, then true,
along the run's commits: a binary search reads O(log checkpoints) ledgers. A row with no run
id (a store from before run ids) or a run with no commit in the history gives no commit;
the feature version's own ``provenance`` (its first run's environment) is shown instead.

No array data is read: shapes come from each key's offsets (two int64 values per piece).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from emofeat.errors import NotFoundError
from emofeat.store import Commit, FeatureStore, open_store
from emofeat.store.layout import OFFSETS_SUFFIX, corpus_of
from emofeat.store.tables import plain, text
from emofeat.store.writer import child_array, read_array

#: The libraries an auditor asks about first (all of ``environment.libraries`` is kept).
KEY_LIBRARIES = ("emofeat", "av", "onnxruntime", "opensmile", "numpy")


@dataclass(frozen=True)
class SourceFile:
    """A file the clip was computed from: its path (relative to the corpus root, and absolute
    where the writing run's commit records an absolute root, ``source_dir``), sha256, and
    the clip-clock start of each stream taken from it (seconds; ``None`` for a missing stream)."""

    role: str  # "source" (video, and audio unless a separate file has it) or "audio"
    path: str
    sha256: str | None
    streams: dict[str, float | None]
    absolute: str | None = None


@dataclass(frozen=True)
class StoredArray:
    """One stored key of the clip: its shape and dtype (per-clip keys have no time axis)."""

    key: str
    shape: tuple[int, ...]
    dtype: str
    per_clip: bool


@dataclass(frozen=True)
class WritingCommit:
    """The commit that wrote the clip's ledger row."""

    snapshot: str
    written_at: str
    message: str


@dataclass(frozen=True)
class Lineage:
    """The lineage of one clip in one feature version at one snapshot."""

    clip_id: str
    snapshot: str
    feature_version: str
    status: str | None  # "ok", "failed", or None: the version has not processed the clip
    catalog: dict[str, Any]
    sources: tuple[SourceFile, ...]
    config: dict[str, Any]
    implementation: dict[str, Any]
    weights: dict[str, Any]
    arrays: tuple[StoredArray, ...] = ()
    failure: dict[str, Any] | None = None
    run: str | None = None
    commit: WritingCommit | None = None
    #: The run's environment (``commit``) or the feature version's ``provenance`` (``feature_version``).
    environment: dict[str, Any] = field(default_factory=dict)
    environment_from: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["arrays"] = [asdict(a) | {"shape": list(a.shape)} for a in self.arrays]
        return out


def lineage(
    path: str | Path,
    clip_id: str,
    *,
    snapshot: str | None = None,
    tag: str | None = None,
    feature_version: str | None = None,
) -> Lineage:
    """The lineage of ``clip_id`` (``<corpus>/<source>``) at ``snapshot`` or ``tag``
    (default: the tip of ``main``) in ``feature_version`` (default: the corpus's latest).

    Raises
    ------
    NotFoundError
        When there is no store at ``path``, the snapshot or tag does not exist, the clip is
        not in that snapshot's catalog, or the feature version is not there for its corpus.
    ValueError
        When both ``snapshot`` and ``tag`` are given.
    """
    store = open_store(path, snapshot, tag)
    return clip_lineage(store, clip_id, feature_version)


def clip_lineage(store: FeatureStore, clip_id: str, feature_version: str | None = None) -> Lineage:
    """:func:`lineage` on an open snapshot.

    Raises
    ------
    NotFoundError
        As :func:`lineage`.
    """
    try:
        corpus = corpus_of(clip_id)
    except ValueError as exc:
        raise NotFoundError(f"{exc}; list the store's clips with `emofeat catalog`") from exc
    catalog = store.catalog(corpus, feature_version)
    rows = catalog[catalog["clip_id"] == clip_id]
    if rows.empty:
        raise NotFoundError(
            f"clip {clip_id!r} is not in corpus {corpus!r} at snapshot {store.snapshot}; list its "
            f"clips with `emofeat catalog --corpus {corpus}`"
        )
    fv = feature_version or store.latest_version(corpus)
    version = next(v for v in store.feature_versions(corpus) if v["feature_version"] == fv)
    ledger = store.ledger(corpus, fv)
    row = ledger.loc[clip_id] if clip_id in ledger.index else None
    run = text(row["run"]) if row is not None else None
    commit = writing_commit(store, corpus, fv, clip_id, run) if run else None
    environment, env_from = _environment(commit, version)
    entry = {k: plain(v) for k, v in rows.iloc[0].to_dict().items()}
    status = text(row["status"]) if row is not None else None
    root = text(commit.metadata.get("emofeat", {}).get("source_dir")) if commit is not None else None
    return Lineage(
        clip_id=clip_id,
        snapshot=store.snapshot,
        feature_version=fv,
        status=status,
        catalog=entry,
        sources=_sources(entry, row, root),
        config=dict(version.get("config") or {}),
        implementation=dict(version.get("implementation") or {}),
        weights=dict(version.get("weights") or {}),
        arrays=stored_arrays(store, corpus, fv, row) if status == "ok" and row is not None else (),
        failure=_failure(row) if status not in (None, "ok") else None,
        run=run,
        commit=WritingCommit(commit.snapshot, commit.written_at, commit.message) if commit else None,
        environment=environment,
        environment_from=env_from,
    )


def writing_commit(
    store: FeatureStore, corpus: str, feature_version: str, clip_id: str, run: str
) -> Commit | None:
    """The earliest commit of ``run`` (in ``store``'s history) whose ledger of
    ``feature_version`` holds the clip's row with that run id; ``None`` when the run has no
    commit in the history. Binary search over the run's commits (see the module docstring)."""
    commits = [c for c in reversed(store.history()) if _run_of(c) == run]  # oldest first
    if not commits:
        return None

    def wrote(commit: Commit) -> bool:
        if commit.snapshot == store.snapshot:
            ledger = store.ledger(corpus, feature_version)
        else:
            try:
                ledger = FeatureStore(store.path, commit.snapshot).ledger(corpus, feature_version)
            except NotFoundError:  # the version did not exist yet
                return False
        return clip_id in ledger.index and text(ledger.at[clip_id, "run"]) == run

    lo, hi = 0, len(commits) - 1
    if not wrote(commits[hi]):  # the row came from this run but a later commit: not expected
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if wrote(commits[mid]):
            hi = mid
        else:
            lo = mid + 1
    return commits[lo]


def stored_arrays(
    store: FeatureStore, corpus: str, feature_version: str, row: pd.Series
) -> tuple[StoredArray, ...]:
    """The clip's stored keys with shape and dtype, from the offsets of each piece (a long
    clip is stored across several parts: the lengths add up)."""
    lengths: dict[str, int] = {}
    tails: dict[str, tuple[tuple[int, ...], str]] = {}
    per_clip: set[str] = set()
    for k, name in enumerate(str(row["part"]).split()):
        part = store.part(corpus, feature_version, name)
        index = int(row["row"]) if k == 0 else 0
        listed = part.attrs.get("per_clip", [])
        per_clip |= {str(key) for key in listed} if isinstance(listed, list) else set()
        for key in sorted(part.array_keys()):
            if key == "clip_id" or key.endswith(OFFSETS_SUFFIX):
                continue
            start, stop = (int(v) for v in read_array(part, key + OFFSETS_SUFFIX, slice(index, index + 2)))
            array = child_array(part, key)
            lengths[key] = lengths.get(key, 0) + (stop - start)
            tails[key] = (tuple(int(n) for n in array.shape[1:]), str(array.dtype))
    out = []
    for key in sorted(lengths):
        tail, dtype = tails[key]
        single = key in per_clip
        out.append(StoredArray(key, tail if single else (lengths[key], *tail), dtype, single))
    return tuple(out)


def _sources(entry: dict[str, Any], row: pd.Series | None, root: str | None) -> tuple[SourceFile, ...]:
    """The clip's files: the ledger's digests (what was computed) where the version
    processed it, else the catalog's (the files as scanned)."""
    audio_start = _float(row["audio_start"]) if row is not None else None
    video_start = _float(row["video_start"]) if row is not None else None
    separate = entry.get("audio_source")

    def absolute(relative: str) -> str | None:  # a root given relative to the run's cwd: unknown
        return str(Path(root) / relative) if root and Path(root).is_absolute() else None

    source = str(entry["source"])
    streams: dict[str, float | None] = {"video": video_start}
    if not separate:
        streams["audio"] = audio_start
    out = [SourceFile("source", source, entry.get("source_sha256"), streams, absolute(source))]
    if separate:
        audio = str(separate)
        out.append(
            SourceFile("audio", audio, entry.get("audio_sha256"), {"audio": audio_start}, absolute(audio))
        )
    return tuple(out)


def _environment(commit: Commit | None, version: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    if commit is not None:
        env = commit.metadata.get("emofeat", {}).get("environment")
        if isinstance(env, dict):
            return dict(env), "commit"
    provenance = version.get("provenance")
    return (dict(provenance), "feature_version") if isinstance(provenance, dict) else ({}, None)


def _failure(row: pd.Series) -> dict[str, Any]:
    return {k: text(row[k]) for k in ("stage", "error_kind", "error")}


def _run_of(commit: Commit) -> str | None:
    meta = commit.metadata.get("emofeat")
    return text(meta.get("run")) if isinstance(meta, dict) else None


def _float(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


__all__ = [
    "KEY_LIBRARIES",
    "Lineage",
    "SourceFile",
    "StoredArray",
    "WritingCommit",
    "clip_lineage",
    "lineage",
    "stored_arrays",
    "writing_commit",
]
