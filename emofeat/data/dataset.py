"""``open_dataset``: a map-style PyTorch dataset over one pinned snapshot of the store.

What it reads is fixed when it is opened: the snapshot id (a tag, a branch or ``"latest"``
is resolved once), one feature version per corpus, the clips that pass the split and fold
filters, and the view with its options. :meth:`FeatureDataset.provenance` returns all of it
as plain data for a checkpoint; reading the same snapshot again gives bit-identical tensors.

The arrays come from the local decoded cache (:mod:`emofeat.data.cache`, filled on first
use, by the opening process) or, with ``cache=False``, straight from the store. DataLoader
workers never share a handle: a dataset pickles as its path, snapshot, options and index,
and each process opens its own files. icechunk does not survive ``fork`` (a forked child
hangs in its first read), so ``cache=False`` with forked workers is refused with a clear
message; use the cache or ``DataLoader(multiprocessing_context="spawn")``.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from emofeat.corpora.base import get_adapter
from emofeat.corpora.vocabulary import UNIFIED
from emofeat.data.arrays import StoreArrays
from emofeat.data.cache import CachedArrays, cache_root, open_cached
from emofeat.data.views import LABEL_PREFIX, View, make_view, missing_hint
from emofeat.errors import ConfigError, NotFoundError
from emofeat.store import FeatureStore, open_store

Arrays = CachedArrays | StoreArrays


class ClipAccess:
    """One clip's arrays as a view sees them (:class:`emofeat.data.views.Clip`): reads go to
    the cache or the store, and only the rows asked for are read."""

    def __init__(
        self,
        arrays: Arrays,
        row: int,
        clip_id: str,
        duration: float,
        audio: dict[str, Any],
        stats: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
        tracks: Mapping[str, np.dtype] | None = None,
    ):
        self._arrays, self._row = arrays, row
        self._tracks = dict(tracks) if tracks is not None else _track_dtypes([arrays])
        self.clip_id, self.duration, self.audio = clip_id, duration, audio
        self._stats = stats or {}
        self._memo: dict[str, np.ndarray] = {}

    def has(self, key: str) -> bool:
        return key in self._arrays.info and self._arrays.rows(key, self._row) > 0

    def rows(self, key: str) -> int:
        return self._arrays.rows(key, self._row) if key in self._arrays.info else 0

    def _norm(self, key: str, x: np.ndarray) -> np.ndarray:
        if key not in self._stats:
            return x
        mean, std = self._stats[key]
        return ((x - mean) / std).astype(np.float32)

    def all(self, key: str) -> np.ndarray:
        if key not in self._memo:
            self._memo[key] = self._norm(key, self._read(key, 0, None))
        return self._memo[key]

    def slice(self, key: str, lo: int, hi: int) -> np.ndarray:
        return self._norm(key, self._read(key, lo, hi))

    def take(self, key: str, rows: np.ndarray) -> np.ndarray:
        """Rows ``rows`` of ``key`` (zeros where a row is -1)."""
        rows = np.asarray(rows, np.int64)
        info = self._arrays.info[key]
        out = np.zeros((len(rows), *info.tail), info.dtype)
        valid = rows >= 0
        if valid.any():
            lo, hi = int(rows[valid].min()), int(rows[valid].max()) + 1
            if key in self._memo:
                out[valid] = self._memo[key][rows[valid]]
                return out
            block = self._read(key, lo, hi)
            out[valid] = block[rows[valid] - lo]
        return self._norm(key, out) if key in self._stats else out

    def tracks(self) -> list[str]:
        """The label tracks of the dataset (a clip without one reads it as empty)."""
        return list(self._tracks)

    def _read(self, key: str, lo: int, hi: int | None) -> np.ndarray:
        if key not in self._arrays.info and (
            key in self._tracks or key.removesuffix("_times") in self._tracks
        ):
            return np.zeros(0, np.float64 if key.endswith("_times") else self._tracks[key])
        if key not in self._arrays.info:
            info_keys = ", ".join(self._arrays.info)
            raise NotFoundError(f"clip {self.clip_id} has no {key!r} (it has {info_keys})")
        return self._arrays.read(key, self._row, lo, hi)


class FeatureDataset(Dataset[dict[str, Any]]):
    """The items of a view over the chosen clips of a pinned snapshot (see
    :func:`open_dataset`, which builds it)."""

    def __init__(
        self,
        path: str,
        snapshot: str,
        view: View,
        feature_versions: dict[str, str],
        clips: dict[str, np.ndarray],
        audio: dict[str, dict[str, Any]],
        options: dict[str, Any],
    ):
        self.path, self.snapshot, self.view = path, snapshot, view
        self.feature_versions = feature_versions
        self.options = options
        self.audio = audio
        self.clips = clips  # per clip: corpus index, row, labels, ids (see open_dataset)
        counts = clips["items"].astype(np.int64)
        self.items_clip = np.repeat(np.arange(len(clips["row"]), dtype=np.int32), counts)
        self.items_first = (np.cumsum(counts) - counts).astype(np.int64)
        self.tracks: dict[str, np.dtype] = options["tracks"]
        self.epoch = 0
        self.augment = options.get("augment")
        self._sources: list[Arrays] | None = None
        self._pid = os.getpid()
        self._stats: list[dict[str, tuple[np.ndarray, np.ndarray]]] = options.get("stats_arrays") or [
            {} for _ in feature_versions
        ]

    # ---------------------------------------------------------------- opening, pickling

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_sources"] = None  # each process opens its own handles
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._pid = -1  # opened in this process on first read

    def _open(self) -> list[Arrays]:
        if self._sources is not None and self._pid == os.getpid():
            return self._sources
        if self._sources is not None and not self.options["cache"]:
            raise ConfigError(
                "a dataset opened with cache=False reads the store, and the store's runtime does not "
                "survive fork: use the decoded cache (the default) or "
                'DataLoader(..., multiprocessing_context="spawn")'
            )
        if self._sources is None:
            self._sources = self._open_sources()
        self._pid = os.getpid()
        return self._sources

    def _open_sources(self) -> list[Arrays]:
        if self.options["cache"]:
            root = Path(self.options["cache_dir"])
            return [CachedArrays(root / self.snapshot / c / fv) for c, fv in self.feature_versions.items()]
        store = open_store(self.path, self.snapshot)
        keys = list(self.options["keys"])
        return [
            StoreArrays(store, c, fv, keys + available_tracks(store, c, fv))
            for c, fv in self.feature_versions.items()
        ]

    # ---------------------------------------------------------------- items

    def __len__(self) -> int:
        return len(self.items_clip)

    def set_epoch(self, epoch: int) -> None:
        """The epoch whose augmentations :meth:`__getitem__` draws (with the seed and index)."""
        self.epoch = int(epoch)

    def access(self, clip: int) -> ClipAccess:
        """What the view sees of clip ``clip`` (a position in :attr:`clip_ids`)."""
        c = self.clips
        corpus = int(c["corpus"][clip])
        return ClipAccess(
            self._open()[corpus],
            int(c["row"][clip]),
            self.clip_id(clip),
            float(c["duration"][clip]),
            self.audio[list(self.feature_versions)[corpus]],
            self._stats[corpus],
            self.tracks,
        )

    def clip_id(self, clip: int) -> str:
        """The id of clip ``clip`` (ids are kept as one UTF-8 buffer, no Python object a clip)."""
        offsets = self.clips["clip_id_offsets"]
        return bytes(self.clips["clip_id_bytes"][offsets[clip] : offsets[clip + 1]]).decode()

    @property
    def clip_ids(self) -> list[str]:
        return [self.clip_id(i) for i in range(len(self.clips["row"]))]

    def _names(self, clip: int) -> tuple[str, str]:
        """The native and unified label names of a clip ("" where none)."""
        c = self.clips
        native, unified = int(c["native"][clip]), int(c["unified"][clip])
        classes = self.options["native_classes"][int(c["corpus"][clip])]
        return (classes[native] if native >= 0 else ""), (UNIFIED[unified] if unified >= 0 else "")

    def labels(self) -> np.ndarray:
        """The class index of each item (for ``EpochSampler(balance=...)``)."""
        column = "unified" if self.options["label"] == "unified" else "native"
        return np.asarray(self.clips[column][self.items_clip])

    def corpora_of_items(self) -> np.ndarray:
        """The corpus name of each item (for mixing weights)."""
        names = np.asarray(list(self.feature_versions), dtype=object)
        return names[self.clips["corpus"][self.items_clip]]

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < len(self):
            raise IndexError(f"item {index} of a dataset of {len(self)}")
        clip = int(self.items_clip[index])
        sub = index - int(self.items_first[clip])
        c = self.clips
        item = self.view.item(self.access(clip), sub)
        out: dict[str, Any] = {k: _tensor(v) for k, v in item.items()}
        native_name, unified_name = self._names(clip)
        unified = self.options["label"] == "unified"
        out.update(
            clip_id=self.clip_id(clip),
            corpus=list(self.feature_versions)[int(c["corpus"][clip])],
            index=index,
            label=int(c["unified"][clip] if unified else c["native"][clip]),
            label_name=unified_name if unified else native_name,
            label_native=int(c["native"][clip]),
            label_native_name=native_name,
            label_unified=int(c["unified"][clip]),
            label_unified_name=unified_name,
        )
        if self.augment is not None:
            from emofeat.data.augment import item_rng

            out = self.augment(out, item_rng(int(self.options["seed"]), self.epoch, index))
        return out

    def provenance(self) -> dict[str, Any]:
        """What this dataset reads, as plain data for a checkpoint."""
        return {
            "store": self.path,
            "snapshot": self.snapshot,
            "feature_versions": dict(self.feature_versions),
            "view": self.view.name,
            "view_options": self.view.options(),
            "split": self.options["split"],
            "folds": self.options["folds"],
            "label": self.options["label"],
            "normalize": self.options["normalize"],
            "clips": len(self.clips["row"]),
            "items": len(self),
        }


def _track_dtypes(sources: Sequence[Arrays]) -> dict[str, np.dtype]:
    """Every label track of the sources (values, not times) with its dtype."""
    out: dict[str, np.dtype] = {}
    for arrays in sources:
        for key, info in arrays.info.items():
            if key.startswith(LABEL_PREFIX) and not key.endswith("_times"):
                out.setdefault(key, info.dtype)
    return dict(sorted(out.items()))


def _tensor(value: Any) -> Any:
    if isinstance(value, np.generic):
        return torch.tensor(value.item())
    if isinstance(value, np.ndarray):
        array = value if value.flags.writeable and value.flags.c_contiguous else np.array(value)
        return torch.from_numpy(array)
    return value


def available_tracks(store: FeatureStore, corpus: str, feature_version: str) -> list[str]:
    from emofeat.data.arrays import available_keys

    return [k for k in available_keys(store, corpus, feature_version) if k.startswith(LABEL_PREFIX)]


def open_dataset(
    store: str | Path | FeatureStore,
    view: str | View,
    *,
    snapshot: str,
    corpus: str | Sequence[str] | None = None,
    feature_version: str | Mapping[str, str] | None = None,
    split: str | Sequence[str] | None = None,
    folds: int | Sequence[int] | None = None,
    label: str = "unified",
    cache: bool | str | Path = True,
    normalize: str | None = None,
    augment: Any = None,
    seed: int = 0,
    **view_options: Any,
) -> FeatureDataset:
    """A map-style dataset of ``view`` items over a pinned snapshot.

    Parameters
    ----------
    store : path or FeatureStore
        The store (its path is what the dataset records and reopens).
    view : str or View
        ``clip``, ``segment``, ``image``, ``window`` or ``step`` (options as keywords), or a view.
    snapshot : str
        A snapshot id, tag or branch, resolved once; ``"latest"`` is the tip of ``main`` now.
    corpus : str or list, optional
        The corpora to read (default: every corpus of the snapshot).
    feature_version : str or dict, optional
        Per corpus (a dict) or for all; needed where a corpus has several.
    split, folds : optional
        Keep clips of these official splits / subject-independent folds.
    label : str
        ``unified`` (class indices of the unified vocabulary, for mixing corpora) or
        ``native`` (indices of each corpus's own labels); both are in every item anyway.
    cache : bool or path
        Read through the local decoded cache (default; a path chooses its root) or straight
        from the store (``False``).
    normalize : str, optional
        Z-normalise the float features with the statistics of this group (``"train"``,
        ``"all"``...) stored by ``emofeat stats`` in the snapshot.
    augment : emofeat.data.augment.Augment, optional
        Training-time augmentations, drawn per item from (``seed``, epoch, index).

    Raises
    ------
    ConfigError
        On a missing snapshot, an ambiguous feature version, an unknown view or option, a
        view that needs arrays the feature version lacks, or filters that keep no clip.
    NotFoundError
        When the snapshot, a corpus or a feature version does not exist.
    """
    if not snapshot:
        raise ConfigError('open_dataset needs snapshot= (an id, a tag, or "latest")')
    path = str(store.path if isinstance(store, FeatureStore) else store)
    pinned = open_store(path, None if snapshot == "latest" else snapshot)
    the_view = view if isinstance(view, View) else make_view(view, **view_options)
    if isinstance(view, View) and view_options:
        raise ConfigError("give view options either in the View or as keywords, not both")
    if label not in ("unified", "native"):
        raise ConfigError(f"label must be unified or native, not {label!r}")
    names = pinned.corpora() if corpus is None else [corpus] if isinstance(corpus, str) else list(corpus)
    found = {name: _version(pinned, name, feature_version) for name in names}
    versions = {k: v for k, v in found.items() if v is not None}
    if not versions:
        raise ConfigError(f"no corpus of snapshot {pinned.snapshot} has features to read")
    root = cache_root(None if cache is True or cache is False else cache)
    keys = list(the_view.keys())
    splits = None if split is None else {split} if isinstance(split, str) else set(split)
    fold_set = None if folds is None else {folds} if isinstance(folds, int) else {int(f) for f in folds}
    columns: dict[str, list[Any]] = {
        k: []
        for k in (
            "corpus",
            "row",
            "clip_id",
            "duration",
            "native",
            "unified",
            "items",
        )
    }
    audio: dict[str, dict[str, Any]] = {}
    stats_arrays: list[dict[str, tuple[np.ndarray, np.ndarray]]] = []
    sources: list[Arrays] = []
    native_by_corpus: list[list[str]] = []
    for ci, (name, fv) in enumerate(versions.items()):
        if cache is False:
            arrays: Arrays = StoreArrays(pinned, name, fv, keys + available_tracks(pinned, name, fv))
        else:
            arrays = open_cached(pinned, name, fv, [*keys, LABEL_PREFIX + "*"], root)
        missing = [k for k in keys if k not in arrays.info]
        if missing:
            raise ConfigError(
                f"the {the_view.name} view reads {', '.join(missing)}, which feature version {fv} of "
                f"{name} does not store (it needs {missing_hint(missing[0])})"
            )
        sources.append(arrays)
        config = next(v for v in pinned.feature_versions(name) if v["feature_version"] == fv)["config"] or {}
        audio[name] = dict(config.get("audio", {}))
        stats_arrays.append(_stats(pinned, name, fv, normalize, keys) if normalize else {})
        row_of = {cid: i for i, cid in enumerate(arrays.clip_ids)}
        catalog = pinned.catalog(name, fv)
        catalog = catalog[(catalog["status"] == "ok") & catalog["removed"].isna()]  # as emofeat stats
        if splits is not None:
            catalog = catalog[catalog["split"].isin(splits)]
        if fold_set is not None:
            catalog = catalog[catalog["fold"].isin(fold_set)]
        native_classes = native_labels(pinned, name)
        native_by_corpus.append(native_classes)
        for cid, dur, native, unified in zip(
            catalog["clip_id"], catalog["duration"], catalog["label"], catalog["unified"], strict=True
        ):
            native_s = native if isinstance(native, str) else ""
            unified_s = unified if isinstance(unified, str) else ""
            n_idx = native_classes.index(native_s) if native_s in native_classes else -1
            u_idx = UNIFIED.index(unified_s) if unified_s in UNIFIED else -1
            columns["corpus"].append(ci)
            columns["row"].append(row_of[cid])
            columns["clip_id"].append(cid)
            columns["duration"].append(float(dur) if dur == dur else 0.0)
            columns["native"].append(n_idx)
            columns["unified"].append(u_idx)
            access = ClipAccess(arrays, row_of[cid], cid, columns["duration"][-1], audio[name])
            columns["items"].append(the_view.count(access))
    if not columns["row"]:
        raise ConfigError(f"no ok clip of {', '.join(versions)} passes split={split!r}, folds={folds!r}")
    encoded = [str(cid).encode() for cid in columns["clip_id"]]
    clips: dict[str, np.ndarray] = {
        "corpus": np.asarray(columns["corpus"], np.int16),
        "row": np.asarray(columns["row"], np.int32),
        "clip_id_bytes": np.frombuffer(b"".join(encoded), np.uint8),
        "clip_id_offsets": np.concatenate([[0], np.cumsum([len(e) for e in encoded])]).astype(np.int64),
        "duration": np.asarray(columns["duration"], np.float32),
        "native": np.asarray(columns["native"], np.int16),
        "unified": np.asarray(columns["unified"], np.int16),
        "items": np.asarray(columns["items"], np.int32),
    }
    options = {
        "tracks": _track_dtypes(sources),
        "native_classes": native_by_corpus,
        "cache": cache is not False,
        "cache_dir": str(root),
        "keys": keys,
        "split": split if split is None or isinstance(split, str) else list(split),
        "folds": folds if folds is None or isinstance(folds, int) else [int(f) for f in folds],
        "label": label,
        "normalize": normalize,
        "augment": augment,
        "seed": int(seed),
        "stats_arrays": stats_arrays,
    }
    dataset = FeatureDataset(path, pinned.snapshot, the_view, versions, clips, audio, options)
    dataset._sources = sources
    return dataset


def native_labels(store: FeatureStore, corpus: str) -> list[str]:
    """A corpus's own classes, in their order: the adapter's, or, for an adapter without a
    fixed label set (``folder``), the distinct labels of the corpus's catalog, sorted."""
    declared = list(get_adapter(store.adapter(corpus)).labels)
    if declared:
        return declared
    labels = store.catalog(corpus)["label"].dropna().astype(str)
    return sorted({label for label in labels if label})


def _version(store: FeatureStore, corpus: str, wanted: str | Mapping[str, str] | None) -> str | None:
    known = [str(v["feature_version"]) for v in store.feature_versions(corpus)]
    if corpus not in store.corpora():
        raise NotFoundError(f"corpus {corpus!r} is not in snapshot {store.snapshot}")
    fv = wanted.get(corpus) if isinstance(wanted, Mapping) else wanted
    if fv is not None:
        if fv not in known:
            raise NotFoundError(f"corpus {corpus!r} has no feature version {fv} (it has: {', '.join(known)})")
        return fv
    if len(known) > 1:
        raise ConfigError(
            f"corpus {corpus!r} has {len(known)} feature versions ({', '.join(known)}): "
            "choose one with feature_version="
        )
    return known[0] if known else None


def _stats(
    store: FeatureStore, corpus: str, feature_version: str, group: str, keys: list[str]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    from emofeat.data.stats import read_stats

    found = read_stats(store, corpus, feature_version, group)
    out = {}
    for key, s in found.items():
        std = np.where(np.isfinite(s.std) & (s.std > 0), s.std, 1.0)
        mean = np.where(np.isfinite(s.mean), s.mean, 0.0)
        out[key] = (mean.astype(np.float32), std.astype(np.float32))
    return out


def worker_init_fn(worker_id: int) -> None:
    """Give each DataLoader worker distinct, reproducible RNG streams: Python's ``random``,
    NumPy's global state and torch, all seeded from ``torch.initial_seed()`` (which the
    DataLoader derives from its base seed and the worker id), so workers never share a
    NumPy seed. emofeat's own augmentations do not need it: they draw from (seed, epoch,
    item index)."""
    seed = torch.initial_seed() % 2**32
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
