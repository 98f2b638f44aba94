"""The catalog as a Parquet file: clip rows, labels, folds, failures, feature versions, runs.

One row per clip of each corpus, joined with the ledger of the chosen feature version (each
corpus's latest by default), as :meth:`emofeat.store.FeatureStore.catalog` returns it plus
the ``run`` that wrote the clip and the ``snapshot`` read. The schema is fixed (strings,
nullable 64-bit integers, doubles; ``meta`` as a JSON string, which every engine reads), so
pandas, DuckDB, Polars and Spark read the file alike. Rows are written one corpus at a time
(a row group each), and the file appears only once it is complete.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from emofeat.errors import ConfigError, StoreError
from emofeat.store import CATALOG_COLUMNS, FeatureStore

_INTS = ("fold", "frames")
_FLOATS = ("duration", "face_ratio")
#: Every column of the export, in order.
COLUMNS: tuple[str, ...] = (*CATALOG_COLUMNS, "run", "snapshot")


def schema(columns: Sequence[str] = COLUMNS) -> pa.Schema:
    """The Arrow schema of the chosen columns."""
    kinds = {c: pa.int64() if c in _INTS else pa.float64() if c in _FLOATS else pa.string() for c in COLUMNS}
    return pa.schema([pa.field(c, kinds[c], nullable=c != "clip_id") for c in columns])


def select(columns: Sequence[str] | None) -> list[str]:
    """The export's columns named by ``columns`` (all when ``None``), in the order given.

    Raises
    ------
    ConfigError
        When a name is not a column (the message lists them).
    """
    if not columns:
        return list(COLUMNS)
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        raise ConfigError(f"unknown column(s) {', '.join(unknown)}; the columns are: {', '.join(COLUMNS)}")
    return list(dict.fromkeys(columns))


def rows(store: FeatureStore, corpus: str, feature_version: str | None = None) -> pd.DataFrame:
    """One corpus's rows with every column of :data:`COLUMNS` (``meta`` still a dict).

    Raises
    ------
    NotFoundError
        When ``corpus`` is not in the snapshot, or has no such feature version.
    """
    frame = store.catalog(corpus, feature_version)
    fv = frame["feature_version"].dropna()
    if len(fv):
        ledger = store.ledger(corpus, str(fv.iloc[0]))
        frame["run"] = frame["clip_id"].map(ledger["run"])
    else:
        frame["run"] = None
    frame["snapshot"] = store.snapshot
    return frame


def write_parquet(
    store: FeatureStore,
    path: str | Path,
    *,
    corpus: str | None = None,
    feature_version: str | None = None,
    columns: Sequence[str] | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write the catalog of ``store`` (one corpus, or all) to the Parquet file ``path``.

    Returns the path, the number of rows per corpus, the columns and the snapshot.

    Raises
    ------
    ConfigError
        When a column is unknown.
    StoreError
        Kind ``exists`` when ``path`` exists and ``overwrite`` is false; ``write_failed``
        when it cannot be written.
    NotFoundError
        When ``corpus`` or ``feature_version`` is not in the snapshot.
    """
    chosen = select(columns)
    target = Path(path)
    if target.exists() and not overwrite:
        raise StoreError(f"{str(target)!r} exists; choose another file or pass --overwrite", kind="exists")
    arrow_schema = schema(chosen)
    names = [corpus] if corpus else store.corpora()
    counts: dict[str, int] = {}
    staging = target.with_name(f".{target.name}.writing-{os.getpid()}")
    try:
        with pq.ParquetWriter(staging, arrow_schema) as writer:
            for name in names:
                frame = rows(store, name, feature_version)
                frame["meta"] = [
                    json.dumps(m, sort_keys=True) if isinstance(m, dict) else None for m in frame["meta"]
                ]
                frame = frame.reindex(columns=chosen)
                writer.write_table(_table(frame, arrow_schema))
                counts[name] = len(frame)
        os.replace(staging, target)
    except OSError as exc:
        raise StoreError(f"cannot write {str(target)!r}: {exc.strerror or exc}", kind="write_failed") from exc
    finally:
        staging.unlink(missing_ok=True)
    return {"path": str(target), "rows": counts, "columns": chosen, "snapshot": store.snapshot}


def _table(frame: pd.DataFrame, arrow_schema: pa.Schema) -> pa.Table:
    arrays = []
    for field in arrow_schema:
        values = frame[field.name]
        data: list[Any]
        if pa.types.is_int64(field.type):
            data = [None if pd.isna(v) else int(v) for v in values]
        elif pa.types.is_float64(field.type):
            data = [None if pd.isna(v) else float(v) for v in values]
        else:
            data = [None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v) for v in values]
        arrays.append(pa.array(data, type=field.type))
    return pa.Table.from_arrays(arrays, schema=arrow_schema)
