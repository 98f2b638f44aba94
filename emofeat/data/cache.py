"""The local decoded cache: a corpus's arrays of one snapshot and feature version, as plain
``.npy`` files that training memory-maps.

Why: a read from the store is a chunk lookup, a decompression and a copy per array; a
training epoch reads every clip, every epoch. Decoded once into one flat file per array,
a clip is a slice of a memory map: no decompression, no per-item metadata, and the kernel's
page cache keeps what fits in memory. It also keeps icechunk out of DataLoader worker
processes (its runtime does not survive ``fork``): workers only read files.

Where: ``$EMOFEAT_CACHE_DIR``, else ``$XDG_CACHE_HOME/emofeat``, else ``~/.cache/emofeat``
(or ``cache=`` a directory), then ``<snapshot>/<corpus>/<feature version>/``::

    manifest.json        cache layout, snapshot, corpus, feature version, keys with their
                         file, rows, dtype, shape, bytes and sha256
    clips.json           the cached clip ids (the version's ok clips, sorted)
    <key>.npy            the key's rows of every clip, concatenated on axis 0
    <key>.offsets.npy    (clips + 1,) int64: clip i is rows offsets[i]:offsets[i + 1]

Size: the decoded bytes of the keys a view reads (faces: 37,632 bytes a frame; 16 frames of
a clip are 0.6 MB). Invalidation: none is needed, since a snapshot never changes; a new
snapshot gets a new directory, and old ones may be deleted at any time (``rm -rf``). A key
is added the first time a view needs it. Opening checks each file's size against the
manifest; :meth:`CachedArrays.verify` re-hashes every file. Filling holds an exclusive lock
on ``<dir>/.lock``, so processes (DDP ranks) opening one dataset at once fill it once.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from emofeat.data.arrays import KeyInfo, StoreArrays, available_keys
from emofeat.errors import StoreError
from emofeat.store import FeatureStore

CACHE_LAYOUT = 1
MANIFEST = "manifest.json"


def cache_root(directory: str | Path | None = None) -> Path:
    """The cache's root directory (see the module docstring)."""
    if directory is not None:
        return Path(directory)
    if os.environ.get("EMOFEAT_CACHE_DIR"):
        return Path(os.environ["EMOFEAT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "emofeat"


def cache_dir(root: Path, snapshot: str, corpus: str, feature_version: str) -> Path:
    return root / snapshot / corpus / feature_version


class CachedArrays:
    """The cached keys of one corpus's feature version: the same reads as
    :class:`~emofeat.data.arrays.StoreArrays`, from memory-mapped files.

    Raises
    ------
    StoreError
        Kind ``cache_corrupt`` when a file is missing or its size differs from the manifest.
    """

    def __init__(self, directory: Path):
        self.directory = directory
        self.manifest = _load_manifest(directory)
        if self.manifest is None:
            raise StoreError(f"no decoded cache in {directory}", kind="cache_corrupt")
        self.info: dict[str, KeyInfo] = {}
        self._data: dict[str, np.ndarray] = {}
        self._offsets: dict[str, np.ndarray] = {}
        for key, entry in self.manifest["keys"].items():
            self.info[key] = KeyInfo(tuple(entry["tail"]), np.dtype(entry["dtype"]), bool(entry["per_clip"]))
            self._offsets[key] = np.load(directory / entry["offsets"], allow_pickle=False)
            data = directory / entry["file"]
            self._data[key] = (
                np.load(data, mmap_mode="r", allow_pickle=False)
                if entry["rows"]
                else np.load(data, allow_pickle=False)
            )

    @property
    def keys(self) -> list[str]:
        return list(self.info)

    @property
    def clip_ids(self) -> list[str]:
        """The cached clips' ids, in row order (read from the file each time: a dataset needs
        them once, to build its index, and keeps no Python object per clip)."""
        ids: list[str] = json.loads((self.directory / "clips.json").read_text())
        return ids

    def __len__(self) -> int:
        return int(self.manifest["clips"]) if self.manifest else 0

    def rows(self, key: str, clip: int) -> int:
        offsets = self._offsets[key]
        return int(offsets[clip + 1] - offsets[clip])

    def read(self, key: str, clip: int, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """Rows ``lo:hi`` (default all) of ``key`` for clip row ``clip`` (a read-only view)."""
        offsets = self._offsets[key]
        start, stop = int(offsets[clip]), int(offsets[clip + 1])
        end = stop if hi is None else min(stop, start + hi)
        return self._data[key][min(start + lo, end) : end]

    def verify(self) -> None:
        """Re-hash every cached file against the manifest.

        Raises
        ------
        StoreError
            Kind ``cache_corrupt``, naming the file and what to delete.
        """
        assert self.manifest is not None
        for key, entry in self.manifest["keys"].items():
            for name, digest in (
                (entry["file"], entry["sha256"]),
                (entry["offsets"], entry["offsets_sha256"]),
            ):
                if _sha256(self.directory / name) != digest:
                    raise StoreError(
                        f"decoded cache file {self.directory / name} ({key}) does not match its "
                        f"checksum: delete {self.directory} and open the dataset again",
                        kind="cache_corrupt",
                    )


def open_cached(
    store: FeatureStore, corpus: str, feature_version: str, keys: Iterable[str], root: Path
) -> CachedArrays:
    """The decoded cache of ``keys`` (those the feature version has), filled where missing.
    A key ending in ``*`` stands for every stored key with that prefix (``label.*``: every
    label track).

    Raises
    ------
    StoreError
        Kind ``cache_corrupt`` when an existing cache does not match its manifest.
    NotFoundError
        As :class:`~emofeat.data.arrays.StoreArrays`.
    """
    directory = cache_dir(root, store.snapshot, corpus, feature_version)
    with _locked(directory):
        manifest = _load_manifest(directory)
        available = manifest["available"] if manifest else available_keys(store, corpus, feature_version)
        wanted = _expand(keys, available)
        known = set(manifest["keys"]) | set(manifest["absent"]) if manifest else set()
        missing = [k for k in wanted if k not in known]
        if missing or manifest is None:
            source = StoreArrays(store, corpus, feature_version, missing)
            if manifest is None:
                manifest = {
                    "cache_layout": CACHE_LAYOUT,
                    "snapshot": store.snapshot,
                    "corpus": corpus,
                    "feature_version": feature_version,
                    "clips": len(source),
                    "keys": {},
                    "absent": [],
                    "available": available,
                }
                _write_atomic(directory / "clips.json", json.dumps(source.clip_ids).encode())
            elif manifest["clips"] != len(source):
                raise StoreError(f"decoded cache {directory} is of another clip list", kind="cache_corrupt")
            for key in missing:
                if key in source.info:
                    manifest["keys"][key] = _fill(directory, source, key)
                else:
                    manifest["absent"].append(key)
            _write_atomic(directory / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
    return CachedArrays(directory)


def _expand(keys: Iterable[str], available: list[str]) -> list[str]:
    out: list[str] = []
    for key in keys:
        out += [k for k in available if k.startswith(key[:-1])] if key.endswith("*") else [key]
    return list(dict.fromkeys(out))


def _fill(directory: Path, source: StoreArrays, key: str) -> dict[str, Any]:
    """Write one key's file from the store's parts, block by block; return its manifest entry."""
    info = source.info[key]
    lengths = source.stop[key] - source.start[key]
    dest = np.cumsum(lengths) - lengths  # pieces are in clip order: each piece's first row
    piece_clip = np.repeat(np.arange(len(source)), np.diff(source.piece_ptr))
    offsets = np.zeros(len(source) + 1, np.int64)
    offsets[1:] = np.cumsum(np.bincount(piece_clip, weights=lengths, minlength=len(source)).astype(np.int64))
    total = int(offsets[-1])
    name = _file_name(key)
    tmp = directory / (name + ".tmp")
    if total:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=info.dtype, shape=(total, *info.tail))
        for pieces, first, rows in source.blocks(key):
            for p in pieces:
                a, b = int(source.start[key][p]) - first, int(source.stop[key][p]) - first
                out[int(dest[p]) : int(dest[p]) + b - a] = rows[a:b]
        out.flush()
        del out
    else:
        with open(tmp, "wb") as f:
            np.save(f, np.zeros((0, *info.tail), info.dtype))
    os.replace(tmp, directory / name)
    offsets_name = _file_name(key, ".offsets")
    _write_atomic(directory / offsets_name, _npy_bytes(offsets))
    return {
        "file": name,
        "offsets": offsets_name,
        "rows": total,
        "dtype": info.dtype.str,
        "tail": list(info.tail),
        "per_clip": info.per_clip,
        "bytes": (directory / name).stat().st_size,
        "sha256": _sha256(directory / name),
        "offsets_sha256": _sha256(directory / offsets_name),
    }


def _file_name(key: str, suffix: str = "") -> str:
    return f"{key}{suffix}.npy"


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _load_manifest(directory: Path) -> dict[str, Any] | None:
    path = directory / MANIFEST
    if not path.is_file():
        return None
    manifest: dict[str, Any] = json.loads(path.read_text())
    if manifest.get("cache_layout") != CACHE_LAYOUT:
        raise StoreError(
            f"decoded cache {directory} has layout {manifest.get('cache_layout')}, this emofeat reads "
            f"layout {CACHE_LAYOUT}: delete it and open the dataset again",
            kind="cache_corrupt",
        )
    for key, entry in manifest["keys"].items():
        for name in (entry["file"], entry["offsets"]):
            path = directory / name
            if not path.is_file() or (name == entry["file"] and path.stat().st_size != entry["bytes"]):
                raise StoreError(
                    f"decoded cache file {path} ({key}) is missing or truncated: delete {directory} "
                    "and open the dataset again",
                    kind="cache_corrupt",
                )
    return manifest


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(8 << 20), b""):
            h.update(block)
    return h.hexdigest()
