"""Column tables (the catalog and the ledgers) stored as one 1-D Zarr array per column.

Rows are keyed by ``clip_id`` and stored in the order they were added (readers sort by it).
An update (:func:`update_table`) changes rows in place and appends new ones, and costs what
it changes, not what the table holds: a process keeps an index of each table's keys (built
once from the ``clip_id`` column, then extended by the rows it appends and the rows others
committed meanwhile), so a checkpoint reads, compares and writes only the chunks that hold
its rows. Re-running the same work writes nothing.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import zarr

from emofeat.errors import StoreError

ColumnType = Literal["str", "float", "int"]

CATALOG_SCHEMA: dict[str, ColumnType] = {
    "clip_id": "str",
    "corpus": "str",
    "source": "str",
    "source_sha256": "str",
    "audio_source": "str",
    "audio_sha256": "str",
    "person": "str",
    "subject": "str",
    "sex": "str",
    "label": "str",
    "unified": "str",
    "quadrant": "str",
    "split": "str",
    "fold": "int",
    "meta": "str",
    "removed": "str",
}

LEDGER_SCHEMA: dict[str, ColumnType] = {
    "clip_id": "str",
    "source_sha256": "str",
    "audio_sha256": "str",
    "labels_sha256": "str",
    "status": "str",
    "stage": "str",
    "error_kind": "str",
    "error": "str",
    "part": "str",
    "row": "int",
    "duration": "float",
    "frames": "int",
    "face_ratio": "float",
    "audio_start": "float",
    "video_start": "float",
    "run": "str",
}

_DTYPES: dict[ColumnType, Any] = {"str": str, "float": "float64", "int": "int64"}
_FILL: dict[ColumnType, Any] = {"str": "", "float": np.nan, "int": -1}


def plain(value: Any) -> Any:
    """A cell read from a table (pandas / numpy) as plain data: ``NaN``, ``NA`` and ``None``
    become ``None``, numpy scalars Python ones; dicts and lists pass unchanged."""
    if isinstance(value, dict | list):
        return value
    if value is None or pd.isna(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def text(value: Any) -> str | None:
    """A string cell, or ``None`` where it is null or empty."""
    return value if isinstance(value, str) and value else None


def empty_table(schema: Mapping[str, ColumnType]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=_pandas_dtype(t)) for name, t in schema.items()})


def read_table(group: zarr.Group | None, schema: Mapping[str, ColumnType]) -> pd.DataFrame:
    """Read a whole table, sorted by ``clip_id``; a missing group is an empty table.

    Empty strings read back as ``None``; a column the table does not have yet (one added to
    the schema later) reads back as its fill value.
    """
    if group is None:
        return empty_table(schema)
    n = table_rows(group)
    data: dict[str, pd.Series] = {}
    for name, kind in schema.items():
        node = group.get(name)
        values: Any = (
            np.asarray(node[:n]) if isinstance(node, zarr.Array) else np.full(n, _FILL[kind], dtype=object)
        )
        if kind == "str":
            values = [None if v == "" else str(v) for v in values]
        data[name] = pd.Series(values, dtype=_pandas_dtype(kind))
    return pd.DataFrame(data).sort_values("clip_id", kind="stable", ignore_index=True)


def table_rows(group: zarr.Group) -> int:
    """The number of rows of a stored table (its ``rows`` attribute)."""
    rows = group.attrs.get("rows", 0)
    return rows if isinstance(rows, int) else 0


#: Rows per chunk of a table column.
TABLE_CHUNK = 4096


def update_table(
    parent: zarr.Group, name: str, rows: Sequence[Mapping[str, Any]], schema: Mapping[str, ColumnType]
) -> bool:
    """Upsert ``rows`` (by ``clip_id``) into the table ``parent/name``, creating it if needed.

    A row replaces the stored row of the same ``clip_id`` (missing fields become null) or is
    appended. The cost grows with ``rows``, not with the table: the row of each key comes
    from this process's key index, and only the chunks holding given rows are read, compared
    and, where a value differs, written. Rows equal to the stored ones write nothing.

    Returns
    -------
    bool
        Whether anything was written.

    Raises
    ------
    StoreError
        When the stored ``clip_id`` column contradicts the table's ``rows`` attribute or
        itself (kind ``store_corrupt``).
    """
    if not rows:
        return False
    new = _normalise(rows, schema)
    node = parent.get(name)
    if not isinstance(node, zarr.Group):
        _create(parent, name, new, schema)
        return True
    group = node
    n = table_rows(group)
    table_id = group.attrs.get("table_id")
    columns = _Columns(group, n, schema)
    index = _cached_index(table_id) if isinstance(table_id, str) else _KeyIndex()
    with index.lock:
        _sync(index, columns, n)
        positions = np.array([index.rows.get(k, -1) for k in new["clip_id"]], dtype=np.int64)
        if not _keys_match(columns, positions, new["clip_id"]):  # a copy of a store, or a reset
            index.truncate(0)
            _sync(index, columns, n)
            positions = np.array([index.rows.get(k, -1) for k in new["clip_id"]], dtype=np.int64)
            if not _keys_match(columns, positions, new["clip_id"]):
                raise StoreError(f"table {group.path}: its clip_id column repeats keys", kind="store_corrupt")
        present = np.flatnonzero(positions >= 0)
        changed = _update_in_place(columns, positions[present], present, new)
        added = np.flatnonzero(positions < 0)
        if len(added):
            added = added[np.argsort(new["clip_id"][added], kind="stable")]
            for column in schema:
                array = columns.writable(column)
                array.resize((n + len(added),))
                array[n:] = new[column][added]
            group.attrs["rows"] = n + len(added)
            index.append([str(k) for k in new["clip_id"][added]])
            changed = True
        if changed and not isinstance(table_id, str):  # a table from before table ids
            group.attrs["table_id"] = table_id = _new_table_id()
            _register(table_id, index)
    return changed


def ensure_table(parent: zarr.Group, name: str, schema: Mapping[str, ColumnType]) -> bool:
    """Create the table ``parent/name`` with no rows unless it exists; return whether it did."""
    if isinstance(parent.get(name), zarr.Group):
        return False
    _create(parent, name, _normalise([], schema), schema)
    return True


def _normalise(rows: Sequence[Mapping[str, Any]], schema: Mapping[str, ColumnType]) -> dict[str, np.ndarray]:
    """The rows as one storage-typed array per column, one row per ``clip_id`` (the last wins)."""
    last = {str(row["clip_id"]): row for row in rows}
    return {
        column: _stored(np.array([row.get(column) for row in last.values()], dtype=object), kind)
        for column, kind in schema.items()
    }


def _stored(values: np.ndarray, kind: ColumnType) -> np.ndarray:
    """Values as they are stored: ``""`` for a null string, the fill value for a null number."""
    if kind == "str":
        return np.array(["" if v is None or v is pd.NA else str(v) for v in values], dtype=object)
    out = np.array([_FILL[kind] if _is_null(v) else v for v in values], dtype=object)
    return out.astype(_DTYPES[kind])


def _is_null(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def _create(
    parent: zarr.Group, name: str, new: dict[str, np.ndarray], schema: Mapping[str, ColumnType]
) -> None:
    order = np.argsort(new["clip_id"], kind="stable")
    group = parent.create_group(name)
    n = len(order)
    for column, kind in schema.items():
        _new_column(group, column, kind, n)[:] = new[column][order]
    table_id = _new_table_id()
    group.attrs.update({"rows": n, "table_id": table_id})
    index = _register(table_id, _KeyIndex())
    with index.lock:
        index.append([str(k) for k in new["clip_id"][order]])


def _new_column(group: zarr.Group, column: str, kind: ColumnType, n: int) -> zarr.Array:
    return group.create_array(
        column, shape=(n,), dtype=_DTYPES[kind], chunks=(TABLE_CHUNK,), fill_value=_FILL[kind]
    )


class _Columns:
    """The column arrays of a stored table of ``n`` rows, each opened once."""

    def __init__(self, group: zarr.Group, n: int, schema: Mapping[str, ColumnType]) -> None:
        self.group, self.n, self.schema = group, n, schema
        self.arrays = {name: node for name, node in group.arrays() if name in schema}

    def read(self, column: str, positions: np.ndarray) -> np.ndarray:
        """The stored values at ``positions`` (one read; zarr fetches their chunks at once)."""
        kind = self.schema[column]
        array = self.arrays.get(column)
        if array is None:  # a column added to the schema after the table was made
            return np.full(len(positions), _FILL[kind], dtype=object if kind == "str" else _DTYPES[kind])
        values = np.asarray(array.get_coordinate_selection(positions)) if len(positions) else np.asarray([])
        return values.astype(object) if kind == "str" else values.astype(_DTYPES[kind])

    def read_range(self, column: str, start: int, stop: int) -> np.ndarray:
        array = self.arrays.get(column)
        return np.asarray(array[start:stop]) if array is not None else np.asarray([])

    def writable(self, column: str) -> zarr.Array:
        """The column's array; a column the table does not have yet is created now, holding
        the fill value for every existing row (no chunk is written for them)."""
        if column not in self.arrays:
            self.arrays[column] = _new_column(self.group, column, self.schema[column], self.n)
        return self.arrays[column]


def _keys_match(columns: _Columns, positions: np.ndarray, keys: np.ndarray) -> bool:
    """Whether the stored ``clip_id`` at each known position is the key the index says."""
    known = np.flatnonzero(positions >= 0)
    return bool(np.array_equal(columns.read("clip_id", positions[known]), keys[known]))


def _update_in_place(
    columns: _Columns, positions: np.ndarray, which: np.ndarray, new: dict[str, np.ndarray]
) -> bool:
    """Write rows ``which`` of ``new`` over the stored rows ``positions``, column by column,
    only the values that differ (so only the chunks holding them are rewritten)."""
    changed = False
    if not len(positions):
        return changed
    for column, kind in columns.schema.items():
        if column == "clip_id":  # the key: the same by construction (_keys_match)
            continue
        want = new[column][which]
        differ = ~_same(columns.read(column, positions), want, kind)
        if differ.any():
            columns.writable(column).set_coordinate_selection(positions[differ], want[differ])
            changed = True
    return changed


# --------------------------------------------------------------------------- key index


@dataclass
class _KeyIndex:
    """The ``clip_id`` of every row of one table, and the row of every ``clip_id``.

    ``verified`` rows are known to match the store; rows after them were appended by this
    process and may not have been committed (a lost commit race): :func:`_sync` checks them.
    """

    keys: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    verified: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def append(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.rows[key] = len(self.keys)
            self.keys.append(key)

    def truncate(self, n: int) -> None:
        for key in self.keys[n:]:
            if self.rows.get(key, -1) >= n:
                del self.rows[key]
        del self.keys[n:]
        self.verified = min(self.verified, n)


#: Key indexes by table id (a uuid stored in the table's attributes), most recent last. A
#: table's rows only ever grow by appends (two sessions that both append conflict), so an
#: index stays valid along the branch; :func:`_sync` reads only the rows it has not seen.
_INDEXES: OrderedDict[str, _KeyIndex] = OrderedDict()
_INDEXES_LOCK = threading.Lock()
_MAX_INDEXES = 16


def _new_table_id() -> str:
    return uuid.uuid4().hex


def _cached_index(table_id: str) -> _KeyIndex:
    with _INDEXES_LOCK:
        index = _INDEXES.pop(table_id, None) or _KeyIndex()
        _INDEXES[table_id] = index
        while len(_INDEXES) > _MAX_INDEXES:
            _INDEXES.popitem(last=False)
        return index


def _register(table_id: str, index: _KeyIndex) -> _KeyIndex:
    with _INDEXES_LOCK:
        _INDEXES[table_id] = index
        while len(_INDEXES) > _MAX_INDEXES:
            _INDEXES.popitem(last=False)
    return index


def _sync(index: _KeyIndex, columns: _Columns, n: int) -> None:
    """Make ``index`` hold exactly the table's ``n`` stored keys, reading the fewest rows.

    The last verified row is read again with the unverified ones (one chunk): if it differs,
    the table is not the one the index was built from and the index is rebuilt whole.
    """
    if index.verified > n:
        index.truncate(0)
    start = max(index.verified - 1, 0)
    if start >= n:
        index.truncate(n)
        return
    stored = [str(k) for k in columns.read_range("clip_id", start, n)]
    if len(stored) != n - start:
        raise StoreError(
            f"table {columns.group.path}: {len(stored) + start} clip ids for {n} rows", kind="store_corrupt"
        )
    if index.verified and index.keys[start] != stored[0]:
        index.truncate(0)
        _sync(index, columns, n)
        return
    mine = index.keys[start:n]
    same = next((i for i, (a, b) in enumerate(zip(mine, stored, strict=False)) if a != b), len(mine))
    index.truncate(start + same)
    index.append(stored[same:])
    index.verified = n


def _same(a: np.ndarray, b: np.ndarray, kind: ColumnType) -> np.ndarray:
    if kind == "float":
        a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
        return np.asarray((a == b) | (np.isnan(a) & np.isnan(b)))
    return np.asarray(a == b)


def _pandas_dtype(kind: ColumnType) -> Any:
    return {"str": object, "float": "float64", "int": "int64"}[kind]
