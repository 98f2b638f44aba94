"""Column tables (the catalog and the ledgers) stored as one 1-D Zarr array per column.

A table is small next to the features (one row per clip), so an update reads it whole and
upserts rows by key: changed rows in place, new rows appended (readers sort). Only the
chunks that hold a changed or new row are written, so a checkpoint of a large corpus stores
a few chunks, not the whole table again, and re-running the same work writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import zarr

ColumnType = Literal["str", "float", "int"]

CATALOG_SCHEMA: dict[str, ColumnType] = {
    "clip_id": "str",
    "corpus": "str",
    "source": "str",
    "source_sha256": "str",
    "subject": "str",
    "sex": "str",
    "label": "str",
    "unified": "str",
    "quadrant": "str",
    "split": "str",
    "fold": "int",
    "meta": "str",
}

LEDGER_SCHEMA: dict[str, ColumnType] = {
    "clip_id": "str",
    "source_sha256": "str",
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
}

_DTYPES: dict[ColumnType, Any] = {"str": str, "float": "float64", "int": "int64"}
_FILL: dict[ColumnType, Any] = {"str": "", "float": np.nan, "int": -1}


def empty_table(schema: Mapping[str, ColumnType]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=_pandas_dtype(t)) for name, t in schema.items()})


def read_table(group: zarr.Group | None, schema: Mapping[str, ColumnType]) -> pd.DataFrame:
    """Read a table; a missing group is an empty table. Empty strings read back as ``None``."""
    if group is None:
        return empty_table(schema)
    rows = group.attrs.get("rows", 0)
    n = rows if isinstance(rows, int) else 0
    data: dict[str, pd.Series] = {}
    for name, kind in schema.items():
        node = group.get(name)
        values: Any = (
            np.asarray(node[:]) if isinstance(node, zarr.Array) else np.full(n, _FILL[kind], dtype=object)
        )
        if kind == "str":
            values = [None if v == "" else str(v) for v in values]
        data[name] = pd.Series(values, dtype=_pandas_dtype(kind))
    return pd.DataFrame(data)


def upsert(
    old: pd.DataFrame, rows: Sequence[Mapping[str, Any]], schema: Mapping[str, ColumnType]
) -> pd.DataFrame:
    """``old`` with ``rows`` inserted or replacing the rows of the same ``clip_id``, sorted by it."""
    if not rows:
        return old
    new = pd.DataFrame(
        {
            name: pd.Series([_clean(row.get(name), kind) for row in rows], dtype=_pandas_dtype(kind))
            for name, kind in schema.items()
        }
    )
    new = new.drop_duplicates("clip_id", keep="last").set_index("clip_id", drop=False)
    merged = old.set_index("clip_id", drop=False)
    present = new.index.isin(merged.index)
    merged.loc[new.index[present]] = new[present]
    merged = pd.concat([merged, new[~present]])
    return merged.reset_index(drop=True).astype({n: _pandas_dtype(k) for n, k in schema.items()})


def tables_equal(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if len(a) != len(b):
        return False
    return bool(a.reset_index(drop=True).equals(b.reset_index(drop=True)))


#: Rows per chunk of a table column.
TABLE_CHUNK = 4096


def write_table(
    parent: zarr.Group, name: str, old: pd.DataFrame, new: pd.DataFrame, schema: Mapping[str, ColumnType]
) -> None:
    """Store ``new`` as the table ``parent/name``, which holds ``old`` (as read) now.

    ``new`` must extend ``old`` (same rows first, as :func:`upsert` makes it); only the
    chunks holding rows that differ are written.
    """
    group = parent.require_group(name)
    n = len(new)
    for column, kind in schema.items():
        after = _column(new[column], kind)
        node = group.get(column)
        if not isinstance(node, zarr.Array) or node.chunks != (TABLE_CHUNK,):
            out = group.create_array(
                column, shape=(n,), dtype=_DTYPES[kind], chunks=(TABLE_CHUNK,), overwrite=True
            )
            if n:
                out[:] = after
            continue
        before = _column(old[column], kind)
        changed = np.ones(n, dtype=bool)
        changed[: len(before)] = ~_same(before, after[: len(before)], kind)
        if node.shape[0] != n:
            node.resize((n,))
        for chunk in np.unique(np.flatnonzero(changed) // TABLE_CHUNK):
            start, stop = int(chunk) * TABLE_CHUNK, min(n, (int(chunk) + 1) * TABLE_CHUNK)
            node[start:stop] = after[start:stop]
    if group.attrs.get("rows") != n:
        group.attrs["rows"] = n


def _column(values: pd.Series, kind: ColumnType) -> np.ndarray:
    if kind == "str":
        return np.array([("" if v is None or v is pd.NA else str(v)) for v in values], dtype=object)
    return np.asarray(values.fillna(_FILL[kind]).to_numpy(dtype=_DTYPES[kind]))


def _same(a: np.ndarray, b: np.ndarray, kind: ColumnType) -> np.ndarray:
    if kind == "float":
        return np.asarray((a == b) | (np.isnan(a) & np.isnan(b)))
    return np.asarray(a == b)


def _clean(value: Any, kind: ColumnType) -> Any:
    if kind == "str":
        return None if value is None or value == "" else str(value)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return _FILL[kind]
    return value


def _pandas_dtype(kind: ColumnType) -> Any:
    return {"str": object, "float": "float64", "int": "int64"}[kind]
