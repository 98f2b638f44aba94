"""The arrays of one corpus's feature version in a pinned snapshot, by clip row.

:class:`StoreArrays` reads them straight from the store: its index (which parts, which row
ranges of each array) is built once, from each part's ``<key>.offsets``; a read is then one
slice per piece of the clip, with no metadata lookups. :func:`emofeat.data.cache` copies them
into a local decoded cache, which is what training reads.

Rows are the feature version's ``ok`` clips sorted by ``clip_id``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import zarr

from emofeat.errors import NotFoundError
from emofeat.store import FeatureStore, layout

#: Reads from the store are done in blocks of at most this many bytes (memory bound).
BLOCK_BYTES = 32 << 20
_OPEN_ARRAYS = 512  # zarr array handles kept open (least recently used dropped)


@dataclass(frozen=True)
class KeyInfo:
    """What one stored key holds: the trailing shape and dtype of its rows, and whether it
    is one value per clip (stored as one row) or a series (time on axis 0)."""

    tail: tuple[int, ...]
    dtype: np.dtype
    per_clip: bool


def available_keys(store: FeatureStore, corpus: str, feature_version: str) -> list[str]:
    """Every key stored in any part of the feature version (series, their times, per-clip
    values and label tracks), sorted."""
    found: set[str] = set()
    for name in store.parts(corpus, feature_version):
        found.update(store.part(corpus, feature_version, name).array_keys())
    return sorted(k for k in found if k != "clip_id" and not k.endswith(layout.OFFSETS_SUFFIX))


class StoreArrays:
    """The ``keys`` of the ok clips of ``corpus``/``feature_version``, read from ``store``.

    Keys the feature version does not have are left out (:attr:`keys` says what is there);
    a key some clips lack (a label track) reads as zero rows for them.

    Raises
    ------
    NotFoundError
        When the feature version is not in the snapshot, or a part a clip needs is missing.
    """

    def __init__(self, store: FeatureStore, corpus: str, feature_version: str, keys: Iterable[str]):
        self.store, self.corpus, self.feature_version = store, corpus, feature_version
        ledger = store.ledger(corpus, feature_version)
        ok = ledger[ledger["status"] == "ok"].reset_index(drop=True).sort_values("clip_id")
        self.clip_ids: list[str] = [str(c) for c in ok["clip_id"]]
        self.parts: list[str] = []
        part_of: dict[str, int] = {}
        pieces_part: list[int] = []
        pieces_row: list[int] = []
        ptr = [0]
        for names, row in zip(ok["part"], ok["row"], strict=True):
            for k, name in enumerate(str(names).split()):
                if name not in part_of:
                    part_of[name] = len(self.parts)
                    self.parts.append(name)
                pieces_part.append(part_of[name])
                pieces_row.append(int(row) if k == 0 else 0)
            ptr.append(len(pieces_part))
        self.piece_ptr = np.asarray(ptr, np.int64)
        self.piece_part = np.asarray(pieces_part, np.int32)
        piece_row = np.asarray(pieces_row, np.int64)
        groups = [store.part(corpus, feature_version, name) for name in self.parts]
        wanted = list(dict.fromkeys(keys))
        self.info: dict[str, KeyInfo] = {}
        self.start: dict[str, np.ndarray] = {}
        self.stop: dict[str, np.ndarray] = {}
        for key in wanted:
            found = self._index_key(groups, key, piece_row)
            if found is not None:
                self.info[key], self.start[key], self.stop[key] = found
        self._arrays: OrderedDict[tuple[int, str], zarr.Array] = OrderedDict()

    @property
    def keys(self) -> list[str]:
        return list(self.info)

    def __len__(self) -> int:
        return len(self.clip_ids)

    def _index_key(
        self, groups: list[zarr.Group], key: str, piece_row: np.ndarray
    ) -> tuple[KeyInfo, np.ndarray, np.ndarray] | None:
        start = np.zeros(len(piece_row), np.int64)
        stop = np.zeros(len(piece_row), np.int64)
        info: KeyInfo | None = None
        for p, group in enumerate(groups):
            array = group.get(key)
            offsets_node = group.get(key + layout.OFFSETS_SUFFIX)
            if not isinstance(array, zarr.Array) or not isinstance(offsets_node, zarr.Array):
                continue  # this part has no clip with the key (an optional label track)
            if info is None:
                per_clip = key in {str(k) for k in group.attrs.get("per_clip", [])}  # type: ignore[union-attr]
                info = KeyInfo(tuple(array.shape[1:]), np.dtype(array.dtype), per_clip)
            offsets = np.asarray(offsets_node[:], np.int64)
            mine = np.flatnonzero(self.piece_part == p)
            start[mine] = offsets[piece_row[mine]]
            stop[mine] = offsets[piece_row[mine] + 1]
        return None if info is None else (info, start, stop)

    def _array(self, part: int, key: str) -> zarr.Array:
        handle = self._arrays.get((part, key))
        if handle is None:
            group = self.store.part(self.corpus, self.feature_version, self.parts[part])
            node = group.get(key)
            if not isinstance(node, zarr.Array):
                raise NotFoundError(f"part {self.parts[part]} has no array {key!r}")
            handle = self._arrays[(part, key)] = node
            if len(self._arrays) > _OPEN_ARRAYS:
                self._arrays.popitem(last=False)
        else:
            self._arrays.move_to_end((part, key))
        return handle

    def rows(self, key: str, clip: int) -> int:
        """How many rows ``key`` has for clip row ``clip``."""
        lo, hi = self.piece_ptr[clip], self.piece_ptr[clip + 1]
        return int((self.stop[key][lo:hi] - self.start[key][lo:hi]).sum())

    def read(self, key: str, clip: int, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """Rows ``lo:hi`` (default all) of ``key`` for clip row ``clip``, across its pieces."""
        info = self.info[key]
        out = []
        seen = 0
        for p in range(self.piece_ptr[clip], self.piece_ptr[clip + 1]):
            a, b = int(self.start[key][p]), int(self.stop[key][p])
            # this piece holds the clip's rows seen .. seen + (b - a)
            first, last = max(lo, seen), (b - a + seen) if hi is None else min(hi, b - a + seen)
            if last > first:
                piece = self._array(int(self.piece_part[p]), key)[a + first - seen : a + last - seen]
                out.append(np.asarray(piece))
            seen += b - a
        if not out:
            return np.zeros((0, *info.tail), info.dtype)
        return out[0] if len(out) == 1 else np.concatenate(out, axis=0)

    def blocks(self, key: str) -> Iterator[tuple[np.ndarray, int, np.ndarray]]:
        """Every piece of ``key`` in store order, as ``(pieces, first, rows)`` blocks: ``rows``
        are the part's rows from ``first`` on, holding the listed pieces (piece ``p`` is
        ``rows[start[p] - first : stop[p] - first]``), read at most :data:`BLOCK_BYTES` at a
        time (one piece larger than that is read whole: parts bound it)."""
        info = self.info[key]
        row_bytes = max(1, int(np.prod(info.tail, dtype=np.int64)) * info.dtype.itemsize)
        block_rows = max(1, BLOCK_BYTES // row_bytes)
        start, stop = self.start[key], self.stop[key]
        for p in range(len(self.parts)):
            mine = np.flatnonzero((self.piece_part == p) & (stop > start))
            if not len(mine):
                continue
            mine = mine[np.argsort(start[mine], kind="stable")]
            array = self._array(p, key)
            i = 0
            while i < len(mine):
                j, lo = i, int(start[mine[i]])
                while j < len(mine) and (int(stop[mine[j]]) - lo <= block_rows or j == i):
                    j += 1
                hi = int(stop[mine[j - 1]])
                yield mine[i:j], lo, np.asarray(array[lo:hi])
                i = j
