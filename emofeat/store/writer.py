"""Writing features, the catalog and the ledger, and committing.

Writers own whole parts: each batch of clips is written as its own group (see ``layout``),
typically into a forked session, so concurrent writers never touch the same chunks. The
ingest driver merges the forks, upserts the catalog and ledger rows, and commits once per
checkpoint with the run's provenance in the commit metadata.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import icechunk
import numpy as np
import zarr
import zarr.errors

from emofeat.errors import StoreError
from emofeat.store import layout
from emofeat.store.integrity import CHECKSUMS_ATTR, SCHEMA_ATTR, row_digest, schema_entry
from emofeat.store.repo import LOCK_TIMEOUT_S, commit_lock
from emofeat.store.tables import CATALOG_SCHEMA, LEDGER_SCHEMA, ensure_table, read_table, update_table

_TARGET_CHUNK_BYTES = 1 << 20
#: Keys with this prefix may be missing for some clips of a part (time-varying labels).
OPTIONAL_PREFIX = "label."


@dataclass(frozen=True)
class ClipArrays:
    """The arrays of one clip (or one piece of a long clip), ready to store.

    A value is an array, or a list of arrays that are consecutive pieces of one series
    (written one after the other, never concatenated in memory). Keys in ``per_clip`` hold
    one value per clip (shape ``(...)``); all others are series with time on axis 0.

    ``complete`` rows are whole clips, or the last piece of a clip stored across several
    parts: all complete rows of a part must have the same keys. An incomplete row (an
    earlier piece of a long clip) holds only the series it has; the others, and its per-clip
    values, are stored empty for it.
    """

    clip_id: str
    arrays: Mapping[str, np.ndarray | list[np.ndarray]]
    per_clip: frozenset[str] = field(default_factory=frozenset)
    complete: bool = True


def open_group(store: Any, path: str | None = None) -> zarr.Group:
    """The root group of a session's store (or the group at ``path``, created if needed)."""
    root = zarr.open_group(store, mode="a")
    return root if path is None else root.require_group(path)


def read_root(store: Any) -> zarr.Group | None:
    """The root group of a read-only store, or ``None`` for an empty repository."""
    try:
        return zarr.open_group(store, mode="r")
    except (FileNotFoundError, zarr.errors.GroupNotFoundError):
        return None


def write_part(
    store: Any,
    corpus: str,
    feature_version: str,
    part: str,
    clips: Sequence[ClipArrays],
    attrs: Mapping[str, Any] | None = None,
) -> None:
    """Write one part (a batch of clips) into ``store`` (usually a forked session's store).

    Series whose key starts with :data:`OPTIONAL_PREFIX` (time-varying labels) may be
    missing for some clips, and incomplete rows (see :class:`ClipArrays`) may miss any key;
    they are stored empty for those. A per-clip value is stored as a series of length 1
    (length 0 where missing), so a clip stored in pieces reads back by concatenation.

    The part's attributes record, besides ``attrs``, each key's dtype and trailing shape
    (``schema``) and one sha256 per clip and key over the bytes stored (``sha256``), which
    :func:`emofeat.store.integrity.check_part` verifies.

    Raises
    ------
    StoreError
        When the complete clips disagree on their required keys, or any two clips on a
        key's trailing shape or dtype.
    """
    if not clips:
        return
    per_clip = frozenset().union(*(c.per_clip for c in clips))
    complete = [c for c in clips if c.complete]
    required = sorted(k for k in complete[0].arrays if not k.startswith(OPTIONAL_PREFIX)) if complete else []
    for clip in complete:
        keys = sorted(k for k in clip.arrays if not k.startswith(OPTIONAL_PREFIX))
        if keys != required:
            raise StoreError(f"clip {clip.clip_id} has keys {keys}, expected {required}")
    group = open_group(store, layout.part_path(corpus, feature_version, part))
    ids = np.array([c.clip_id for c in clips], dtype=object)
    group.create_array("clip_id", shape=ids.shape, dtype=str, chunks=(len(ids),), overwrite=True)[:] = ids
    keys = sorted({k for c in clips for k in c.arrays})
    schema: dict[str, Any] = {}
    sums: dict[str, list[str]] = {}
    for key in keys:
        rows = [_pieces(c.arrays.get(key), key in per_clip) for c in clips]
        template = next(p for r in rows for p in r)
        empty = np.zeros((0, *template.shape[1:]), template.dtype)
        schema[key], sums[key] = _write_ragged(group, key, [r or [empty] for r in rows])
    group.attrs.update(
        {
            "per_clip": sorted(per_clip),
            "clips": len(clips),
            **dict(attrs or {}),
            SCHEMA_ATTR: schema,
            CHECKSUMS_ATTR: sums,
        }
    )


def _pieces(value: np.ndarray | list[np.ndarray] | None, per_clip: bool) -> list[np.ndarray]:
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [np.asarray(v)[np.newaxis] if per_clip else np.asarray(v) for v in values]


def _write_ragged(
    group: zarr.Group, key: str, rows: list[list[np.ndarray]]
) -> tuple[dict[str, Any], list[str]]:
    """Write one key's rows (each a list of pieces) and their offsets; return the key's schema
    entry and the digest of each row (:mod:`emofeat.store.integrity`)."""
    pieces = [p for row in rows for p in row]
    trailing = {p.shape[1:] for p in pieces}
    dtypes = {p.dtype for p in pieces}
    if len(trailing) != 1 or len(dtypes) != 1:
        raise StoreError(f"feature {key!r}: clips disagree on shape {trailing} or dtype {dtypes}")
    shape_tail, dtype = trailing.pop(), dtypes.pop()
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([sum(len(p) for p in row) for row in rows])
    row_bytes = max(1, int(np.prod(shape_tail, dtype=np.int64)) * dtype.itemsize)
    chunk_rows = int(min(max(_TARGET_CHUNK_BYTES // row_bytes, 1), 1 << 16))
    total = int(offsets[-1])
    arr = group.create_array(
        key, shape=(total, *shape_tail), dtype=dtype, chunks=(chunk_rows, *shape_tail), overwrite=True
    )
    if total and len(pieces) == 1:
        arr[:] = pieces[0]
    elif total:
        # Write in whole chunks where possible (a chunk written twice is stored twice).
        buffer: list[np.ndarray] = []
        buffered = 0
        start = 0
        for piece in pieces:
            buffer.append(piece)
            buffered += len(piece)
            if buffered >= chunk_rows * 8:
                block = np.concatenate(buffer, axis=0)
                cut = (start + len(block)) // chunk_rows * chunk_rows - start
                arr[start : start + cut] = block[:cut]
                buffer, buffered, start = [block[cut:]], len(block) - cut, start + cut
        if buffered:
            arr[start:total] = np.concatenate(buffer, axis=0)
    group.create_array(key + layout.OFFSETS_SUFFIX, shape=offsets.shape, dtype="int64", overwrite=True)[:] = (
        offsets
    )
    return schema_entry(dtype, shape_tail), [row_digest(row, dtype, shape_tail) for row in rows]


def existing_group(root: zarr.Group, path: str) -> zarr.Group | None:
    try:
        node = root[path]
    except KeyError:
        return None
    return node if isinstance(node, zarr.Group) else None


def child_array(group: zarr.Group, name: str) -> zarr.Array:
    """The array ``name`` in ``group``.

    Raises
    ------
    StoreError
        When it is missing or is a group.
    """
    node = group.get(name)
    if not isinstance(node, zarr.Array):
        raise StoreError(f"the store has no array {group.path}/{name}; is it an emofeat store?")
    return node


def read_array(group: zarr.Group, name: str, selection: slice | None = None) -> np.ndarray:
    """Read ``name`` (all of it, or ``selection`` on axis 0) as a numpy array."""
    arr = child_array(group, name)
    return np.asarray(arr[:] if selection is None else arr[selection])


def read_ledger(root: zarr.Group | None, corpus: str, feature_version: str) -> Any:
    """The ledger of a feature version (empty when the store or the version has none)."""
    group = None if root is None else existing_group(root, layout.ledger_path(corpus, feature_version))
    return read_table(group, LEDGER_SCHEMA)


#: The attributes of a corpus group that name where its sources come from.
CORPUS_IDENTITY = ("adapter", "root")


def corpus_identity(root: zarr.Group | None, corpus: str) -> dict[str, str]:
    """The ``adapter`` and ``root`` recorded for a corpus name (empty when it has none yet)."""
    group = None if root is None else existing_group(root, layout.corpus_path(corpus))
    if group is None:
        return {}
    return {k: str(group.attrs[k]) for k in CORPUS_IDENTITY if k in group.attrs}


def set_corpus_identity(session: icechunk.Session, corpus: str, adapter: str, source_root: str) -> None:
    """Record which adapter and root the corpus name ``corpus`` stands for (only if changed)."""
    group = open_group(session.store, layout.corpus_path(corpus))
    wanted = {"adapter": adapter, "root": source_root}
    if {k: group.attrs.get(k) for k in CORPUS_IDENTITY} != wanted:
        group.attrs.update(wanted)


def read_catalog(root: zarr.Group | None, corpus: str) -> Any:
    """The stored catalog table of a corpus (empty when it has none)."""
    group = None if root is None else existing_group(root, f"{layout.corpus_path(corpus)}/{layout.CATALOG}")
    return read_table(group, CATALOG_SCHEMA)


def prepare_version(
    session: icechunk.Session,
    corpus: str,
    feature_version: str,
    version_attrs: Mapping[str, Any],
) -> None:
    """Make the groups every part of a feature version lives under (with its attributes and
    an empty ledger) unless they exist.

    Commit this before any batch forks the session: forks then add only their own part
    groups, so merging a fork taken from an older snapshot never re-creates (and so never
    resets or conflicts on) a shared group.
    """
    root = open_group(session.store)
    version = root.require_group(layout.version_path(corpus, feature_version))
    if "feature_version" not in version.attrs:
        version.attrs.update(dict(version_attrs))
    version.require_group(layout.PARTS)
    ensure_table(version, layout.LEDGER, LEDGER_SCHEMA)


def record(
    session: icechunk.Session,
    corpus: str,
    feature_version: str,
    version_attrs: Mapping[str, Any],
    catalog_rows: Sequence[Mapping[str, Any]],
    ledger_rows: Sequence[Mapping[str, Any]],
) -> None:
    """Upsert catalog and ledger rows and the feature version's attributes, only where changed.

    Costs what the rows change, not what the tables hold (see :func:`tables.update_table`).
    The root group is never touched (it is made with the store, :func:`repo.open_repo`), so
    runs on different corpora change disjoint nodes and their commits rebase onto each other.

    Raises
    ------
    StoreError
        When a stored table is inconsistent (kind ``store_corrupt``).
    """
    root = open_group(session.store)
    if ledger_rows:  # a feature version exists once it has a ledger
        version = root.require_group(layout.version_path(corpus, feature_version))
        if "feature_version" not in version.attrs:
            version.attrs.update(dict(version_attrs))
    for parent_path, name, schema, rows in (
        (layout.corpus_path(corpus), layout.CATALOG, CATALOG_SCHEMA, catalog_rows),
        (layout.version_path(corpus, feature_version), layout.LEDGER, LEDGER_SCHEMA, ledger_rows),
    ):
        if rows:
            update_table(root.require_group(parent_path), name, rows, schema)


def commit(
    session: icechunk.Session,
    message: str,
    metadata: Mapping[str, Any],
    *,
    store: str | Path | None = None,
    lock_timeout: float = LOCK_TIMEOUT_S,
) -> str | None:
    """Commit the session if it changed anything; return the new snapshot id or ``None``.

    With ``store`` (the store's path) the commit and its rebase hold the store's commit lock
    (:func:`repo.commit_lock`): give it whenever another process or thread may commit to the
    same store. A session based on an older snapshot is rebased onto the branch tip when the
    two touch different nodes and chunks (other corpora, other rows of a table).

    Raises
    ------
    StoreError
        Kind ``commit_conflict`` when another writer changed the same tables or parts
        meanwhile; ``store_locked`` when the lock stays held longer than ``lock_timeout``;
        ``commit_failed`` when the storage fails.
    """
    if not session.has_uncommitted_changes:
        return None
    with commit_lock(store, timeout=lock_timeout) if store is not None else nullcontext():
        try:
            return session.commit(message, metadata=dict(metadata), rebase_with=icechunk.ConflictDetector())
        except icechunk.RebaseFailedError as exc:
            paths = sorted({c.path for c in exc.conflicts})
            shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
            raise StoreError(
                f"commit failed: another run committed changes to the same data of this store "
                f"meanwhile ({shown or exc}); run the same command again: work already committed "
                "is skipped",
                kind="commit_conflict",
            ) from exc
        except icechunk.ConflictError as exc:
            raise StoreError(
                f"commit failed: another writer committed meanwhile ({exc}); run the same command "
                "again: work already committed is skipped",
                kind="commit_conflict",
            ) from exc
        except icechunk.IcechunkError as exc:
            raise StoreError(f"commit failed: {exc}", kind="commit_failed") from exc
