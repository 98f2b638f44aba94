"""Writing features, the catalog and the ledger, and committing.

Writers own whole parts: each batch of clips is written as its own group (see ``layout``),
typically into a forked session, so concurrent writers never touch the same chunks. The
ingest driver merges the forks, upserts the catalog and ledger rows, and commits once per
checkpoint with the run's provenance in the commit metadata.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import icechunk
import numpy as np
import zarr
import zarr.errors

from emofeat.errors import StoreError
from emofeat.store import layout
from emofeat.store.tables import CATALOG_SCHEMA, LEDGER_SCHEMA, read_table, tables_equal, upsert, write_table

_TARGET_CHUNK_BYTES = 1 << 20
#: Keys with this prefix may be missing for some clips of a part (time-varying labels).
OPTIONAL_PREFIX = "label."


@dataclass(frozen=True)
class ClipArrays:
    """The arrays of one clip, ready to store.

    Every key of a part must be present for every clip of that part. Keys in ``per_clip``
    hold one value per clip (shape ``(...)``); all others are series with time on axis 0.
    """

    clip_id: str
    arrays: Mapping[str, np.ndarray]
    per_clip: frozenset[str] = field(default_factory=frozenset)


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
    missing for some clips; they are stored empty for those.

    Raises
    ------
    StoreError
        When the clips disagree on their required keys, trailing shapes or dtypes.
    """
    if not clips:
        return
    per_clip = clips[0].per_clip
    required = sorted(k for k in clips[0].arrays if not k.startswith(OPTIONAL_PREFIX))
    optional = sorted({k for c in clips for k in c.arrays if k.startswith(OPTIONAL_PREFIX)})
    group = open_group(store, layout.part_path(corpus, feature_version, part))
    ids = np.array([c.clip_id for c in clips], dtype=object)
    group.create_array("clip_id", shape=ids.shape, dtype=str, chunks=(len(ids),), overwrite=True)[:] = ids
    for clip in clips:
        keys = sorted(k for k in clip.arrays if not k.startswith(OPTIONAL_PREFIX))
        if keys != required:
            raise StoreError(f"clip {clip.clip_id} has keys {keys}, expected {required}")
    for key in required:
        _write_ragged(group, key, [_piece(c.arrays[key], key in per_clip) for c in clips])
    for key in optional:
        template = next(np.asarray(c.arrays[key]) for c in clips if key in c.arrays)
        empty = np.zeros((0, *template.shape[1:]), template.dtype)
        _write_ragged(group, key, [np.asarray(c.arrays.get(key, empty)) for c in clips])
    group.attrs.update({"per_clip": sorted(per_clip), "clips": len(clips), **dict(attrs or {})})


def _piece(value: np.ndarray, per_clip: bool) -> np.ndarray:
    value = np.asarray(value)
    return value[np.newaxis] if per_clip else value


def _write_ragged(group: zarr.Group, key: str, pieces: list[np.ndarray]) -> None:
    trailing = {p.shape[1:] for p in pieces}
    dtypes = {p.dtype for p in pieces}
    if len(trailing) != 1 or len(dtypes) != 1:
        raise StoreError(f"feature {key!r}: clips disagree on shape {trailing} or dtype {dtypes}")
    data = np.concatenate(pieces, axis=0)
    offsets = np.zeros(len(pieces) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(p) for p in pieces])
    row_bytes = max(1, int(np.prod(data.shape[1:], dtype=np.int64)) * data.dtype.itemsize)
    rows = int(min(max(_TARGET_CHUNK_BYTES // row_bytes, 1), 1 << 16))
    arr = group.create_array(
        key, shape=data.shape, dtype=data.dtype, chunks=(rows, *data.shape[1:]), overwrite=True
    )
    if data.size:
        arr[:] = data
    group.create_array(key + layout.OFFSETS_SUFFIX, shape=offsets.shape, dtype="int64", overwrite=True)[:] = (
        offsets
    )


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


def record(
    session: icechunk.Session,
    corpus: str,
    feature_version: str,
    version_attrs: Mapping[str, Any],
    catalog_rows: Sequence[Mapping[str, Any]],
    ledger_rows: Sequence[Mapping[str, Any]],
) -> None:
    """Upsert catalog and ledger rows and the feature version's attributes, only where changed."""
    root = open_group(session.store)
    if "emofeat_store" not in root.attrs:
        root.attrs["emofeat_store"] = layout.LAYOUT_VERSION
    if ledger_rows:  # a feature version exists once it has a ledger
        version = root.require_group(layout.version_path(corpus, feature_version))
        if "feature_version" not in version.attrs:
            version.attrs.update(dict(version_attrs))
    for parent_path, name, schema, rows in (
        (layout.corpus_path(corpus), layout.CATALOG, CATALOG_SCHEMA, catalog_rows),
        (layout.version_path(corpus, feature_version), layout.LEDGER, LEDGER_SCHEMA, ledger_rows),
    ):
        if not rows:
            continue
        old = read_table(existing_group(root, f"{parent_path}/{name}"), schema)
        new = upsert(old, rows, schema)
        if not tables_equal(old, new):
            write_table(root.require_group(parent_path), name, old, new, schema)


def commit(session: icechunk.Session, message: str, metadata: Mapping[str, Any]) -> str | None:
    """Commit the session if it changed anything; return the new snapshot id or ``None``.

    Raises
    ------
    StoreError
        When the commit conflicts with another writer or the storage fails.
    """
    if not session.has_uncommitted_changes:
        return None
    try:
        # Another writer may have committed meanwhile: rebase onto it when the changes touch
        # different arrays (another corpus, other parts); give up on a real overlap.
        return session.commit(message, metadata=dict(metadata), rebase_with=icechunk.ConflictDetector())
    except (icechunk.ConflictError, icechunk.RebaseFailedError) as exc:
        raise StoreError(
            f"commit failed: another writer changed the same tables of this store meanwhile ({exc}); "
            "run the same command again: work already committed is skipped",
            kind="commit_conflict",
        ) from exc
    except icechunk.IcechunkError as exc:
        raise StoreError(f"commit failed: {exc}", kind="commit_failed") from exc
