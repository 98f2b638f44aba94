"""Write-time checksums of the stored arrays, and checking a part against them.

Every part (see :mod:`emofeat.store.layout`) records in its attributes, when it is written:

* ``schema``: per key, the ``dtype`` (numpy's little-endian ``str``, e.g. ``"<f4"``) and the
  trailing ``shape`` (every axis but the first, which is time or the clip's row);
* ``sha256``: per key, one hex digest per row (per clip of the part) over that row's bytes
  as stored, with its dtype and trailing shape mixed in (:func:`row_digest`).

:func:`check_part` verifies a part: the number of clips, each key's dtype and trailing shape
against the schema, each offsets array (starts at 0, never decreases, ends at the array's
length) and the digests of the chosen rows. It reads the arrays in blocks of a few chunks,
so memory does not grow with the part. Parts written before checksums existed get a note
(kind ``no_checksums``), not a finding.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import zarr

from emofeat.store import layout

#: The part attributes holding the per-row digests and the schema.
CHECKSUMS_ATTR = "sha256"
SCHEMA_ATTR = "schema"
#: Kinds of :class:`Finding` that are notes: reported, but the audit still passes.
NOTE_KINDS = frozenset({"no_checksums", "source_removed"})
#: About how many bytes of one array a check holds in memory at once.
BLOCK_BYTES = 8 << 20


@dataclass(frozen=True)
class Finding:
    """One difference found by a check (or, for :data:`NOTE_KINDS`, a note).

    ``kind`` is stable and machine-readable (``checksum``, ``schema``, ``structure``,
    ``source_changed``, ``values``, ...); ``message`` says what differs and what to do.
    ``max_abs_diff`` and ``differing`` (elements) size a difference of values.
    """

    kind: str
    message: str
    clip: str | None = None
    key: str | None = None
    part: str | None = None
    max_abs_diff: float | None = None
    differing: int | None = None

    @property
    def is_note(self) -> bool:
        return self.kind in NOTE_KINDS

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def canonical_dtype(dtype: Any) -> np.dtype[Any]:
    """``dtype`` in little-endian byte order (what digests and schemas name)."""
    dt = np.dtype(dtype)
    return dt.newbyteorder("<") if dt.byteorder not in ("|", "<") else dt


def schema_entry(dtype: Any, trailing: tuple[int, ...]) -> dict[str, Any]:
    """The schema attribute of one key: ``{"dtype": "<f4", "shape": [40]}``."""
    return {"dtype": canonical_dtype(dtype).str, "shape": [int(n) for n in trailing]}


class RowHasher:
    """The digest of one row, fed piece by piece (pieces of a row concatenate on axis 0)."""

    def __init__(self, dtype: Any, trailing: tuple[int, ...]) -> None:
        self.dtype = canonical_dtype(dtype)
        self._h = hashlib.sha256()
        self._h.update(f"{self.dtype.str}|{','.join(str(int(n)) for n in trailing)}\n".encode())

    def update(self, piece: np.ndarray) -> None:
        if self.dtype.kind in "OT":  # strings of variable length: each one, NUL-terminated
            for value in np.asarray(piece).ravel():
                self._h.update(str(value).encode() + b"\0")
            return
        self._h.update(np.ascontiguousarray(piece, dtype=self.dtype).tobytes())

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def row_digest(pieces: Iterable[np.ndarray], dtype: Any, trailing: tuple[int, ...]) -> str:
    """The sha256 of one row: its dtype and trailing shape, then its bytes, piece by piece."""
    hasher = RowHasher(dtype, trailing)
    for piece in pieces:
        hasher.update(piece)
    return hasher.hexdigest()


def feature_keys(group: zarr.Group) -> list[str]:
    """The keys of a part (its arrays less ``clip_id`` and the offsets), sorted."""
    return sorted(k for k in group.array_keys() if k != "clip_id" and not k.endswith(layout.OFFSETS_SUFFIX))


def check_part(
    group: zarr.Group,
    rows: Iterable[int] | None = None,
    *,
    expected: Mapping[int, str] | None = None,
    block_bytes: int = BLOCK_BYTES,
) -> list[Finding]:
    """Check one part; return its findings (empty when it is intact).

    Parameters
    ----------
    group : zarr.Group
        The part's group.
    rows : iterable of int, optional
        The rows whose digests are checked (default: every row). The structure and the
        schema are always checked whole (the offsets are small).
    expected : mapping, optional
        Row -> the clip id that row should hold (from the ledger).
    block_bytes : int
        About how much of one array is read at once.

    Returns
    -------
    list of Finding
        Kinds ``structure``, ``schema`` and ``checksum``, or one ``no_checksums`` note.

    Raises
    ------
    zarr.errors.BaseZarrError, icechunk.IcechunkError
        Only when the storage itself cannot be read: damage inside a part is reported as
        findings, never raised.
    """
    part = group.basename
    findings: list[Finding] = []
    attrs = dict(group.attrs)
    ids_node = group.get("clip_id")
    if not isinstance(ids_node, zarr.Array):
        return [Finding("structure", f"part {part} has no clip_id array", part=part)]
    ids = [str(v) for v in np.asarray(ids_node[:])]
    n = len(ids)
    if attrs.get("clips") != n:
        findings.append(
            Finding(
                "structure", f"part {part} holds {n} clip ids but records {attrs.get('clips')}", part=part
            )
        )
    for row, clip in sorted((expected or {}).items()):
        if row >= n or ids[row] != clip:
            held = ids[row] if row < n else "nothing"
            findings.append(Finding("structure", f"row {row} of part {part} holds {held}", clip, None, part))
    schema, sums = attrs.get(SCHEMA_ATTR), attrs.get(CHECKSUMS_ATTR)
    if not isinstance(schema, dict) or not isinstance(sums, dict):
        findings.append(
            Finding(
                "no_checksums", f"part {part}: no checksums recorded (written by an older emofeat)", part=part
            )
        )
        schema, sums = None, None
    chosen = sorted({int(r) for r in rows} if rows is not None else range(n))
    chosen = [r for r in chosen if 0 <= r < n]
    keys = feature_keys(group)
    for key in sorted(set(schema or {}) - set(keys)):
        findings.append(Finding("structure", f"part {part} lost its array {key!r}", None, key, part))
    for key in keys:
        findings += _check_key(group, key, ids, chosen, schema, sums, block_bytes)
    return findings


def _check_key(
    group: zarr.Group,
    key: str,
    ids: list[str],
    rows: list[int],
    schema: dict[str, Any] | None,
    sums: dict[str, Any] | None,
    block_bytes: int,
) -> list[Finding]:
    part = group.basename
    arr = group[key]
    offsets_node = group.get(key + layout.OFFSETS_SUFFIX)
    if not isinstance(arr, zarr.Array) or not isinstance(offsets_node, zarr.Array):
        return [Finding("structure", f"part {part}: {key!r} or its offsets is missing", None, key, part)]
    offsets = np.asarray(offsets_node[:], dtype=np.int64)
    if (
        len(offsets) != len(ids) + 1
        or (len(offsets) and offsets[0] != 0)
        or bool(np.any(np.diff(offsets) < 0))
        or (len(offsets) and offsets[-1] != arr.shape[0])
    ):
        return [
            Finding(
                "structure",
                f"part {part}: the offsets of {key!r} do not cover its {arr.shape[0]} rows "
                f"for {len(ids)} clips",
                None,
                key,
                part,
            )
        ]
    trailing = tuple(int(s) for s in arr.shape[1:])
    stored = schema_entry(arr.dtype, trailing)
    if schema is None or sums is None:
        return []
    declared = schema.get(key)
    if declared != stored:
        return [
            Finding(
                "schema",
                f"part {part}: {key!r} is stored as {stored['dtype']} {stored['shape']}, declared {declared}",
                None,
                key,
                part,
            )
        ]
    digests = sums.get(key)
    if not isinstance(digests, list) or len(digests) != len(ids):
        return [
            Finding(
                "structure", f"part {part}: the checksums of {key!r} do not match its rows", None, key, part
            )
        ]
    out = []
    for row, digest in _row_digests(arr, offsets, rows, trailing, block_bytes):
        if digest != digests[row]:
            out.append(
                Finding(
                    "checksum",
                    f"{ids[row]}: {key!r} in part {part} does not match the checksum recorded when it "
                    "was written (the stored bytes changed)",
                    ids[row],
                    key,
                    part,
                )
            )
    return out


def _row_digests(
    arr: zarr.Array, offsets: np.ndarray, rows: list[int], trailing: tuple[int, ...], block_bytes: int
) -> Iterator[tuple[int, str]]:
    """``(row, digest)`` of each of ``rows`` (sorted), reading ``arr`` a block at a time."""
    blocks = _Blocks(arr, trailing, block_bytes)
    for row in rows:
        hasher = RowHasher(arr.dtype, trailing)
        for piece in blocks.pieces(int(offsets[row]), int(offsets[row + 1])):
            hasher.update(piece)
        yield row, hasher.hexdigest()


class _Blocks:
    """Reads of one array in blocks aligned to its chunks, the last block kept for the next read."""

    def __init__(self, arr: zarr.Array, trailing: tuple[int, ...], block_bytes: int) -> None:
        self.arr = arr
        chunk = int(arr.chunks[0]) if arr.chunks and arr.chunks[0] else 1
        row_bytes = max(1, int(np.prod(trailing, dtype=np.int64)) * np.dtype(arr.dtype).itemsize)
        self.rows = max(chunk, (block_bytes // row_bytes) // chunk * chunk)
        self.start = -1
        self.block: np.ndarray | None = None

    def pieces(self, start: int, stop: int) -> Iterator[np.ndarray]:
        while start < stop:
            first = start // self.rows * self.rows
            if self.block is None or first != self.start:
                self.start = first
                self.block = np.asarray(self.arr[first : min(first + self.rows, self.arr.shape[0])])
            end = min(stop, first + self.rows)
            yield self.block[start - first : end - first]
            start = end
