"""Normalisation statistics of the stored features: per feature, per corpus and split.

Models are usually fed z-normalised features, ``(x - mean) / std`` per column, with the mean
and standard deviation of the corpus. Computed on the fly by each training run, those
statistics cost a pass over the whole corpus, and a run that computes them over all clips
leaks the validation and test clips into its inputs. So they are computed once
(``emofeat stats``, :func:`stats`, or the Prefect flow ``emofeat-stats``) and stored as
versioned data beside the features, under ``<corpus>/features/<fv>/stats/<group>``
(``storage/README.md``), where a dataset reads them from its pinned snapshot
(:func:`read_stats`) and applies them on request (:func:`normalize`).

**Groups.** ``all`` (every clip of the feature version whose status is ``ok``; clips whose
source was removed from the corpus root are left out) and one group per value of the
catalog's ``split`` column (``train``, ``validation``, ``test``...), so a model normalises
with its training statistics only. A corpus without official splits has ``all`` only.

**Keys.** Every floating-point array of the parts (``mfcc``, ``logmel``, ``egemaps``,
``energy``, ``face_score``...), except the time stamps (``*_times``), the row offsets
(``*.offsets``), ``clip_id`` and the label tracks (``label.*``). Integer arrays (``face``,
masks) are not normalised. Statistics are per column: their shape is the feature's trailing
shape (``(40,)`` for ``mfcc (T, 40)``, ``(64, 3)`` for ``logmel``, ``(88,)`` for the per-clip
``egemaps``, ``()`` for ``energy (T,)``). Every row of every clip counts once: frame-level
series are weighted by frames, per-clip values by clips.

**Values.** Only finite values count (``egemaps`` is NaN for clips without audio); ``std``
is the population standard deviation (``ddof=0``); a column without any finite value has
``count`` 0 and ``mean`` and ``std`` NaN.

**Memory is bounded** by :data:`BLOCK_BYTES`, never by a corpus or a clip: the parts are read
one at a time, each array in blocks of rows (a long clip's series spans several blocks), and
each block is reduced to per-column count, mean and sum of squared deviations (two passes
over the block, in float64), merged into the running statistics with the parallel update of
Chan, Golub and LeVeque. A naive sum of squares loses every significant digit of the
variance when the mean is large against the spread; this does not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from emofeat.errors import ConfigError, NotFoundError, StoreError
from emofeat.store import layout
from emofeat.store.reader import FeatureStore
from emofeat.store.repo import BRANCH, open_repo
from emofeat.store.writer import OPTIONAL_PREFIX, child_array, commit, existing_group, open_group, read_array

#: The group of every ``ok`` clip of a feature version (the others are the catalog's splits).
ALL = "all"
#: The most bytes of float64 values one block of rows holds while it is reduced.
BLOCK_BYTES = 32 << 20
#: The fields stored per key: ``<key>.mean``, ``<key>.std``, ``<key>.count``.
FIELDS = ("mean", "std", "count")
_TIMES_SUFFIX = "_times"


@dataclass(frozen=True, eq=False)
class FeatureStats:
    """Per-column statistics of one feature over a group of clips.

    ``mean`` and ``std`` (float64, population std) and ``count`` (int64, the finite values
    of each column) all have the feature's trailing shape. A column with ``count`` 0 has
    ``mean`` and ``std`` NaN.
    """

    mean: np.ndarray
    std: np.ndarray
    count: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        """The feature's trailing shape (the shape of each field)."""
        return tuple(self.mean.shape)

    def __eq__(self, other: object) -> bool:
        """Exactly the same values (NaN equal to NaN), shapes and dtypes."""
        if not isinstance(other, FeatureStats):
            return NotImplemented
        return all(
            a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
            for a, b in zip(
                (self.mean, self.std, self.count), (other.mean, other.std, other.count), strict=True
            )
        )

    __hash__ = None  # type: ignore[assignment]  # mutable arrays: not hashable

    @classmethod
    def empty(cls, shape: tuple[int, ...]) -> FeatureStats:
        """The statistics of no values: count 0, mean and std NaN."""
        return cls(np.full(shape, np.nan), np.full(shape, np.nan), np.zeros(shape, np.int64))


class GroupStats(dict[str, FeatureStats]):
    """Key -> :class:`FeatureStats` of one group of clips, with the number of ``clips`` in the
    group and, once stored, the snapshot they were ``computed_from``."""

    def __init__(
        self,
        stats: Mapping[str, FeatureStats] | None = None,
        *,
        clips: int = 0,
        computed_from: str | None = None,
    ) -> None:
        super().__init__(stats or {})
        self.clips = clips
        self.computed_from = computed_from

    def __repr__(self) -> str:
        return f"GroupStats(keys={sorted(self)}, clips={self.clips}, computed_from={self.computed_from!r})"


class RunningStats:
    """Per-column count, mean and sum of squared deviations (M2) of a stream of blocks.

    Each block is reduced in float64 by two passes (its mean, then its deviations from it)
    and merged with the parallel update of Chan et al. (1979): with ``d = mean_b - mean_a``,
    ``mean = mean_a + d * n_b / n`` and ``M2 = M2_a + M2_b + d**2 * n_a * n_b / n``. Only
    finite values count.

    Parameters
    ----------
    shape : tuple of int
        The trailing shape of the blocks (the shape of each statistic).
    """

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = tuple(shape)
        self.count = np.zeros(self.shape, np.int64)
        self.mean = np.zeros(self.shape, np.float64)
        self.m2 = np.zeros(self.shape, np.float64)

    def update(self, block: np.ndarray) -> None:
        """Add the rows of ``block`` (shape ``(n, *shape)``).

        Raises
        ------
        ValueError
            When the block's trailing shape is not :attr:`shape`.
        """
        x = np.asarray(block, dtype=np.float64)
        if x.shape[1:] != self.shape:
            raise ValueError(f"block of shape {x.shape} does not have the trailing shape {self.shape}")
        if not len(x):
            return
        finite = np.isfinite(x)
        if finite.all():
            n = np.full(self.shape, len(x), np.int64)
            mean = np.asarray(x.mean(axis=0))
            m2 = np.asarray(np.square(x - mean).sum(axis=0))
        else:
            n = np.asarray(finite.sum(axis=0), dtype=np.int64)
            total = np.asarray(np.where(finite, x, 0.0).sum(axis=0))
            mean = np.divide(total, n, out=np.zeros(self.shape), where=n > 0)
            m2 = np.asarray(np.square(np.where(finite, x - mean, 0.0)).sum(axis=0))
        self._merge(n, mean, m2)

    def merge(self, other: RunningStats) -> None:
        """Add the values another accumulator has seen (same :attr:`shape`).

        Raises
        ------
        ValueError
            When the shapes differ.
        """
        if other.shape != self.shape:
            raise ValueError(f"cannot merge statistics of shape {other.shape} into {self.shape}")
        self._merge(other.count, other.mean, other.m2)

    def _merge(self, n_b: np.ndarray, mean_b: np.ndarray, m2_b: np.ndarray) -> None:
        n = self.count + n_b
        share = np.divide(n_b, n, out=np.zeros(self.shape), where=n > 0)  # n_b / n
        delta = mean_b - self.mean
        self.mean = self.mean + delta * share
        self.m2 = self.m2 + m2_b + np.square(delta) * self.count * share
        self.count = n

    def result(self) -> FeatureStats:
        """The statistics so far (mean and std NaN where a column has no value)."""
        seen = self.count > 0
        mean = np.where(seen, self.mean, np.nan)
        variance = np.divide(self.m2, self.count, out=np.full(self.shape, np.nan), where=seen)
        return FeatureStats(mean, np.sqrt(np.maximum(variance, 0.0)), self.count.copy())


def feature_keys(part: zarr.Group) -> list[str]:
    """The keys of a part that statistics are computed for (see the module docstring)."""
    keys = []
    for name in sorted(part.array_keys()):
        if (
            name == "clip_id"
            or name.endswith(layout.OFFSETS_SUFFIX)
            or name.endswith(_TIMES_SUFFIX)
            or name.startswith(OPTIONAL_PREFIX)
        ):
            continue
        if getattr(child_array(part, name).dtype, "kind", "") == "f":
            keys.append(name)
    return keys


def _membership(
    store: FeatureStore, corpus: str, feature_version: str
) -> tuple[dict[str, list[str]], dict[str, dict[int, str]]]:
    """The groups of each ``ok`` clip, and where its rows are: part -> row -> clip id (from
    the ledger, so rows that a later run superseded are never counted)."""
    catalog = store.catalog(corpus, feature_version)
    ok = catalog[(catalog["status"] == "ok") & catalog["removed"].isna()]
    groups = {
        str(clip): [ALL, str(split)] if isinstance(split, str) and split else [ALL]
        for clip, split in zip(ok["clip_id"], ok["split"], strict=True)
    }
    ledger = store.ledger(corpus, feature_version)
    rows: dict[str, dict[int, str]] = {}
    for clip in groups:
        entry = ledger.loc[clip]
        for k, part in enumerate(str(entry["part"]).split()):
            row = int(entry["row"]) if k == 0 else 0  # later pieces of a long clip: row 0
            other = rows.setdefault(part, {}).setdefault(row, clip)
            if other != clip:
                raise StoreError(
                    f"the ledger of {corpus}/{feature_version} puts {other!r} and {clip!r} at row {row} "
                    f"of part {part}",
                    kind="store_corrupt",
                )
    return groups, rows


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """The ``[start, stop)`` runs of True in a boolean vector."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def _accumulate(
    array: zarr.Array,
    offsets: np.ndarray,
    members: Mapping[str, np.ndarray],
    into: dict[str, RunningStats],
    block_bytes: int,
) -> None:
    """Add the rows of the member clips of one part's array, block by block, to ``into``
    (group -> accumulator); ``members`` (group -> one flag per row of the part) say whose
    rows count where."""
    tail = tuple(array.shape[1:])
    total = int(array.shape[0])
    row_bytes = max(1, int(np.prod(tail, dtype=np.int64))) * np.dtype(np.float64).itemsize
    block = max(1, block_bytes // row_bytes)
    chunk = int(array.chunks[0]) if array.chunks else 1
    if block >= chunk:
        block -= block % chunk  # whole chunks: each is read once
    for start in range(0, total, block):
        stop = min(total, start + block)
        # The clips (part rows) overlapping the block: offsets[first] <= start < ... < stop.
        first = int(np.searchsorted(offsets, start, side="right")) - 1
        last = int(np.searchsorted(offsets, stop, side="left"))
        runs = {
            group: [(first + a, first + b) for a, b in _runs(flags[first:last])]
            for group, flags in members.items()
        }
        if not any(runs.values()):
            continue
        values = np.asarray(array[start:stop], dtype=np.float64)
        for group, spans in runs.items():
            for a, b in spans:
                lo, hi = max(int(offsets[a]), start) - start, min(int(offsets[b]), stop) - start
                if hi > lo:
                    into.setdefault(group, RunningStats(tail)).update(values[lo:hi])


def compute_stats(
    store: FeatureStore,
    corpus: str,
    feature_version: str,
    keys: Sequence[str] | None = None,
    *,
    block_bytes: int = BLOCK_BYTES,
) -> dict[str, GroupStats]:
    """The statistics of a feature version of ``corpus`` in the store's snapshot: group
    (``all`` and each split) -> key -> :class:`FeatureStats` (see the module docstring).

    Parameters
    ----------
    store : FeatureStore
        The store, pinned to the snapshot to compute from.
    corpus, feature_version : str
        Whose features.
    keys : sequence of str, optional
        Only these keys (default: every float feature).
    block_bytes : int
        The most float64 bytes reduced at once (:data:`BLOCK_BYTES`).

    Raises
    ------
    NotFoundError
        When the corpus or the feature version is not in the snapshot, it has no ``ok``
        clip, or a key of ``keys`` is not a float feature of it.
    StoreError
        When the parts disagree on a key's trailing shape, or a part's rows do not match
        the ledger (kind ``store_corrupt``).
    """
    groups_of, rows_of = _membership(store, corpus, feature_version)
    if not groups_of:
        raise NotFoundError(f"{corpus}/{feature_version} has no ok clip to compute statistics from")
    wanted = None if keys is None else set(keys)
    shapes: dict[str, tuple[int, ...]] = {}
    acc: dict[str, dict[str, RunningStats]] = {}  # key -> group -> running statistics
    for name in sorted(rows_of):
        part = store.part(corpus, feature_version, name)
        ids = read_array(part, "clip_id")
        members: dict[str, np.ndarray] = {}
        for row, clip in rows_of[name].items():
            if row >= len(ids) or str(ids[row]) != clip:
                raise StoreError(
                    f"part {name} of {corpus}/{feature_version} does not hold {clip!r} at row {row}, "
                    "as its ledger says",
                    kind="store_corrupt",
                )
            for group in groups_of[clip]:
                members.setdefault(group, np.zeros(len(ids), bool))[row] = True
        for key in feature_keys(part):
            array = child_array(part, key)
            tail = tuple(array.shape[1:])
            if shapes.setdefault(key, tail) != tail:
                raise StoreError(
                    f"feature {key!r} of {corpus}/{feature_version} has trailing shape {tail} in part "
                    f"{name} and {shapes[key]} elsewhere",
                    kind="store_corrupt",
                )
            if wanted is not None and key not in wanted:
                continue
            offsets = read_array(part, key + layout.OFFSETS_SUFFIX)
            if len(offsets) != len(ids) + 1 or int(offsets[-1]) != array.shape[0]:
                raise StoreError(
                    f"{key}.offsets of part {name} of {corpus}/{feature_version} do not match its rows",
                    kind="store_corrupt",
                )
            _accumulate(array, offsets, members, acc.setdefault(key, {}), block_bytes)
    if wanted is not None and (unknown := sorted(wanted - set(shapes))):
        raise NotFoundError(
            f"{corpus}/{feature_version} has no float feature {', '.join(map(repr, unknown))} "
            f"(it has: {', '.join(sorted(shapes)) or 'none'})"
        )
    clips: dict[str, int] = {}
    for names in groups_of.values():
        for group in names:
            clips[group] = clips.get(group, 0) + 1
    out_keys = sorted(k for k in shapes if wanted is None or k in wanted)
    return {
        group: GroupStats(
            {
                key: acc[key][group].result()
                if group in acc.get(key, {})
                else FeatureStats.empty(shapes[key])
                for key in out_keys
            },
            clips=clips[group],
        )
        for group in [ALL, *sorted(set(clips) - {ALL})]
    }


def normalize(x: np.ndarray, stats: FeatureStats) -> np.ndarray:
    """``(x - mean) / std`` per column, as float32.

    ``x`` has shape ``(..., *stats.shape)`` (a series ``(T, *shape)`` or one value). A
    column whose ``std`` is 0 (a constant) or NaN is only centred (divided by 1); a column
    without statistics (``count`` 0) is returned unchanged. NaN in ``x`` stays NaN.

    Raises
    ------
    ValueError
        When the trailing shape of ``x`` is not the statistics' shape.
    """
    values = np.asarray(x)
    shape = stats.shape
    if values.shape[values.ndim - len(shape) :] != shape or values.ndim < len(shape):
        raise ValueError(f"array of shape {values.shape} does not end with the statistics' shape {shape}")
    seen = stats.count > 0
    mean = np.where(seen, stats.mean, 0.0)
    std = np.where(seen & np.isfinite(stats.std) & (stats.std > 0), stats.std, 1.0)
    return ((values.astype(np.float64) - mean) / std).astype(np.float32)


def _stats_parent(corpus: str, feature_version: str) -> str:
    return f"{layout.version_path(corpus, feature_version)}/{layout.STATS}"


def _read_group(group: zarr.Group) -> GroupStats:
    keys = group.attrs.get("keys", [])
    clips = group.attrs.get("clips", 0)
    computed_from = group.attrs.get("computed_from")
    out = GroupStats(
        clips=clips if isinstance(clips, int) else 0,
        computed_from=computed_from if isinstance(computed_from, str) else None,
    )
    for key in keys if isinstance(keys, list) else []:
        fields = [np.asarray(child_array(group, f"{key}.{field}")[...]) for field in FIELDS]
        out[str(key)] = FeatureStats(
            fields[0].astype(np.float64), fields[1].astype(np.float64), fields[2].astype(np.int64)
        )
    return out


def _read_all(parent: zarr.Group | None) -> dict[str, GroupStats]:
    if parent is None:
        return {}
    return {name: _read_group(group) for name, group in sorted(parent.groups())}


def _snapshot_stats(store: FeatureStore, corpus: str, feature_version: str) -> zarr.Group | None:
    """The stats group of a feature version in the store's pinned snapshot (or ``None``)."""
    return existing_group(store._root, _stats_parent(corpus, feature_version))


def stats_groups(store: FeatureStore, corpus: str, feature_version: str) -> list[str]:
    """The groups whose statistics are stored for a feature version in the store's snapshot."""
    parent = _snapshot_stats(store, corpus, feature_version)
    return sorted(name for name, _ in parent.groups()) if parent is not None else []


def read_stats(store: FeatureStore, corpus: str, feature_version: str, group: str = "train") -> GroupStats:
    """The stored statistics of one group (``all`` or a split) of a feature version, read from
    the store's pinned snapshot.

    Raises
    ------
    NotFoundError
        When the snapshot holds no statistics of that group (the message lists the groups it
        has and the command that computes them).
    """
    parent = _snapshot_stats(store, corpus, feature_version)
    node = existing_group(parent, group) if parent is not None else None
    if node is None:
        have = stats_groups(store, corpus, feature_version)
        raise NotFoundError(
            f"snapshot {store.snapshot} has no normalisation statistics {group!r} for "
            f"{corpus}/{feature_version} (stored groups: {', '.join(have) or 'none'}); compute them "
            f"with `emofeat stats --store {store.path} --corpus {corpus} --feature-version {feature_version}`"
        )
    return _read_group(node)


def _write_group(
    parent: zarr.Group, name: str, stats: Mapping[str, FeatureStats], attrs: Mapping[str, Any]
) -> None:
    group = parent.create_group(name, overwrite=True)
    for key, value in sorted(stats.items()):
        for field, array in zip(FIELDS, (value.mean, value.std, value.count), strict=True):
            dtype = np.int64 if field == "count" else np.float64
            stored = group.create_array(f"{key}.{field}", shape=array.shape, dtype=dtype, overwrite=True)
            stored[...] = np.asarray(array, dtype=dtype)
    group.attrs.update(dict(attrs))


def _same(stored: Mapping[str, GroupStats], new: Mapping[str, Mapping[str, FeatureStats]]) -> bool:
    if set(stored) != set(new):
        return False
    for name, group in new.items():
        old = stored[name]
        if set(old) != set(group) or any(old[k] != v for k, v in group.items()):
            return False
        if isinstance(group, GroupStats) and group.clips != old.clips:
            return False
    return True


def commit_stats(
    path: str | Path,
    results: Mapping[tuple[str, str], Mapping[str, Mapping[str, FeatureStats]]],
    *,
    computed_from: str,
) -> str | None:
    """Store the statistics of several feature versions, ``(corpus, feature_version)`` ->
    group -> key -> stats, in one commit on ``main``; return its snapshot id, or ``None``
    when every one of them is stored already.

    Each feature version's statistics replace the ones stored for it as a whole (groups and
    keys no longer computed are removed); older snapshots keep the older statistics. They
    are rewritten only when a value, a key, a group or a clip count differs: statistics
    that are the same as the stored ones are left as they are, with the ``computed_from``
    they were first stored with (a re-run on a newer snapshot with the same data commits
    nothing).

    Raises
    ------
    NotFoundError
        When there is no store at ``path``, or a feature version is not on ``main``.
    StoreError
        When a group's name (a split) cannot be a store path, or the commit fails (see
        :func:`emofeat.store.writer.commit`).
    """
    repo = open_repo(path)
    session = repo.writable_session(BRANCH)
    root = open_group(session.store)
    changed: dict[str, str] = {}
    created = datetime.now(UTC).isoformat()
    for (corpus, feature_version), groups in sorted(results.items()):
        if existing_group(root, layout.version_path(corpus, feature_version)) is None:
            raise NotFoundError(f"no feature version {feature_version!r} for corpus {corpus!r} on {BRANCH}")
        for name in groups:
            try:
                layout.stats_path(corpus, feature_version, name)
            except ValueError as exc:
                raise StoreError(f"cannot store the statistics of {corpus}: {exc}") from exc
        stored = _read_all(existing_group(root, _stats_parent(corpus, feature_version)))
        if _same(stored, groups):
            continue
        parent = root.require_group(_stats_parent(corpus, feature_version))
        for name in sorted(set(stored) - set(groups)):
            del parent[name]
        for name, group in groups.items():
            attrs = {
                "computed_from": computed_from,
                "clips": group.clips if isinstance(group, GroupStats) else None,
                "keys": sorted(group),
                "created": created,
            }
            _write_group(parent, name, group, attrs)
        changed[corpus] = feature_version
    if not changed:
        return None
    only = next(iter(changed.items())) if len(changed) == 1 else (None, None)
    metadata = {
        "emofeat": {
            "kind": "stats",
            "corpus": only[0],
            "feature_version": only[1],
            "versions": changed,
            "computed_from": computed_from,
        }
    }
    listed = ", ".join(f"{c}/{fv}" for c, fv in changed.items())
    return commit(session, f"emofeat stats {listed} (from {computed_from})", metadata, store=path)


def write_stats(
    path: str | Path,
    stats: Mapping[str, Mapping[str, FeatureStats]],
    *,
    corpus: str,
    feature_version: str,
    computed_from: str,
) -> str | None:
    """Store the statistics of one feature version (group -> key -> stats, as
    :func:`compute_stats` returns them) in a new commit on ``main``; return its snapshot id,
    or ``None`` when the same statistics are stored already (see :func:`commit_stats`).

    Raises
    ------
    NotFoundError
        When there is no store at ``path``, or the feature version is not on ``main``.
    StoreError
        When the commit fails.
    """
    return commit_stats(path, {(corpus, feature_version): stats}, computed_from=computed_from)


def open_pinned(path: str | Path, snapshot: str | None) -> FeatureStore:
    """The store at ``path`` pinned to ``snapshot`` (``None`` or ``"latest"``: the tip of
    ``main``, resolved once).

    Raises
    ------
    NotFoundError
        When there is no store at ``path`` or no such snapshot.
    """
    return FeatureStore(path, None if snapshot in (None, "latest") else snapshot)


def plan_stats(
    store: FeatureStore, corpus: str | None = None, feature_version: str | None = None
) -> list[tuple[str, str]]:
    """The ``(corpus, feature_version)`` pairs to compute: ``corpus`` (default: every corpus
    with features) and ``feature_version`` (default: the corpus's only one).

    Raises
    ------
    NotFoundError
        When the corpus or the feature version is not in the snapshot, or nothing has features.
    ConfigError
        When a corpus has several feature versions and none is named.
    """
    names = store.corpora()
    if corpus is not None and corpus not in names:
        raise NotFoundError(f"corpus {corpus!r} is not in this store (it has: {', '.join(names) or 'none'})")
    out = []
    for name in [corpus] if corpus is not None else names:
        known = [str(v["feature_version"]) for v in store.feature_versions(name)]
        if feature_version is not None:
            if feature_version in known:
                out.append((name, feature_version))
            elif corpus is not None:
                raise NotFoundError(
                    f"no feature version {feature_version!r} for corpus {name!r} "
                    f"(it has: {', '.join(known) or 'none'})"
                )
        elif len(known) == 1:
            out.append((name, known[0]))
        elif len(known) > 1:
            raise ConfigError(
                f"corpus {name!r} has several feature versions ({', '.join(known)}): choose one with "
                "--feature-version"
            )
        elif corpus is not None:
            raise NotFoundError(f"corpus {name!r} has no features in snapshot {store.snapshot}")
    if not out:
        which = f" {feature_version!r}" if feature_version else ""
        raise NotFoundError(
            f"snapshot {store.snapshot} has no feature version{which} to compute statistics of"
        )
    return out


def stats_summary(
    results: Mapping[tuple[str, str], Mapping[str, GroupStats]], *, computed_from: str, snapshot: str | None
) -> dict[str, Any]:
    """The plain summary of a statistics run (see :func:`stats`)."""
    return {
        "computed_from": computed_from,
        "snapshot": snapshot or computed_from,
        "committed": snapshot is not None,
        "corpora": {
            corpus: {
                "feature_version": fv,
                "groups": {name: group.clips for name, group in groups.items()},
                "keys": sorted({k for group in groups.values() for k in group}),
            }
            for (corpus, fv), groups in sorted(results.items())
        },
    }


def stats(
    path: str | Path,
    *,
    snapshot: str | None = None,
    corpus: str | None = None,
    feature_version: str | None = None,
    keys: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Compute the statistics of each corpus (default: all) on ``snapshot`` (default or
    ``"latest"``: the tip of ``main``) and store them in one commit.

    Returns
    -------
    dict
        ``computed_from`` (the snapshot read), ``snapshot`` (the new snapshot, or
        ``computed_from`` when nothing changed), ``committed``, and ``corpora``: corpus ->
        ``feature_version``, ``groups`` (group -> clips) and ``keys``.

    Raises
    ------
    NotFoundError
        When the store, the snapshot, the corpus, the feature version or a key is missing.
    ConfigError
        When a corpus has several feature versions and ``feature_version`` is not given.
    StoreError
        When the store cannot be read or the commit fails.
    """
    store = open_pinned(path, snapshot)
    results = {
        (name, fv): compute_stats(store, name, fv, keys)
        for name, fv in plan_stats(store, corpus, feature_version)
    }
    new = commit_stats(path, results, computed_from=store.snapshot)
    return stats_summary(results, computed_from=store.snapshot, snapshot=new)


__all__ = [
    "ALL",
    "BLOCK_BYTES",
    "FeatureStats",
    "GroupStats",
    "RunningStats",
    "commit_stats",
    "compute_stats",
    "feature_keys",
    "normalize",
    "open_pinned",
    "plan_stats",
    "read_stats",
    "stats",
    "stats_groups",
    "stats_summary",
    "write_stats",
]
