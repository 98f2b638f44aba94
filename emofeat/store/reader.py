"""Reading a pinned snapshot of the store: catalog, feature versions, clips, history."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import zarr
import zarr.storage

from emofeat.errors import NotFoundError
from emofeat.store import layout
from emofeat.store.repo import open_repo, resolve_snapshot
from emofeat.store.tables import CATALOG_SCHEMA, LEDGER_SCHEMA, read_table
from emofeat.store.writer import corpus_identity, existing_group, read_array, read_root

CATALOG_COLUMNS = [
    "clip_id",
    "corpus",
    "source",
    "source_sha256",
    "audio_source",
    "audio_sha256",
    "person",
    "subject",
    "sex",
    "label",
    "unified",
    "quadrant",
    "split",
    "fold",
    "meta",
    "removed",
    "feature_version",
    "status",
    "stage",
    "error_kind",
    "error",
    "duration",
    "frames",
    "face_ratio",
]


@dataclass(frozen=True)
class Commit:
    """One commit of the store's history."""

    snapshot: str
    message: str
    written_at: str
    metadata: dict[str, Any]


class FeatureStore:
    """A read-only view of one snapshot of an emofeat store.

    Every read goes through the snapshot chosen at open time, so a training run that records
    :attr:`snapshot` and the feature version can read exactly the same data again.
    """

    def __init__(self, path: str | Path, snapshot: str | None = None, *, tag: str | None = None):
        self.path = str(path)
        self._repo = open_repo(path)
        self.snapshot: str = resolve_snapshot(self._repo, snapshot, tag=tag)
        session = self._repo.readonly_session(snapshot_id=self.snapshot)
        self._root = read_root(session.store) or zarr.open_group(zarr.storage.MemoryStore(), mode="a")
        self._ledgers: dict[tuple[str, str], pd.DataFrame] = {}

    def __repr__(self) -> str:
        return f"FeatureStore({self.path!r}, snapshot={self.snapshot!r})"

    def corpora(self) -> list[str]:
        """Names of the corpora in this snapshot."""
        return sorted(name for name, node in self._root.groups() if layout.CATALOG in node)

    def adapter(self, corpus: str) -> str:
        """The name of the adapter that scanned ``corpus`` (a corpus name may differ from it).

        Raises
        ------
        NotFoundError
            When the corpus is not in this snapshot.
        """
        group = existing_group(self._root, layout.corpus_path(corpus))
        if group is None or layout.CATALOG not in group:
            raise NotFoundError(f"corpus {corpus!r} is not in snapshot {self.snapshot}")
        return str(group.attrs.get("adapter", corpus))

    @cached_property
    def _versions(self) -> list[dict[str, Any]]:
        rows = []
        for corpus in self.corpora():
            features = existing_group(self._root, layout.features_path(corpus))
            for fv, group in sorted(features.groups()) if features is not None else ():
                attrs = dict(group.attrs)
                ledger = self._ledger(corpus, fv)
                counts = ledger["status"].value_counts().to_dict()
                rows.append(
                    {
                        "feature_version": fv,
                        "corpus": corpus,
                        "created": attrs.get("created"),
                        "clips": {"ok": int(counts.get("ok", 0)), "failed": int(counts.get("failed", 0))},
                        "config": attrs.get("config"),
                        "implementation": attrs.get("implementation"),
                        "weights": attrs.get("weights"),
                        "provenance": attrs.get("provenance"),
                        "names": attrs.get("names", {}),
                    }
                )
        return sorted(rows, key=lambda r: (r["corpus"], r["created"] or "", r["feature_version"]))

    def feature_versions(self, corpus: str | None = None) -> list[dict[str, Any]]:
        """Every feature version (per corpus), oldest first, with its config and clip counts."""
        return [v for v in self._versions if corpus is None or v["corpus"] == corpus]

    def latest_version(self, corpus: str) -> str:
        """The most recently created feature version of ``corpus``.

        Raises
        ------
        NotFoundError
            When the corpus has no feature version in this snapshot.
        """
        versions = self.feature_versions(corpus)
        if not versions:
            raise NotFoundError(f"corpus {corpus!r} has no features in snapshot {self.snapshot}")
        return str(versions[-1]["feature_version"])

    def ledger(self, corpus: str, feature_version: str) -> pd.DataFrame:
        """The ledger of a feature version (one row per clip processed, indexed by clip_id).

        Raises
        ------
        NotFoundError
            When the corpus has no such feature version in this snapshot.
        """
        return self._ledger(corpus, feature_version)

    def parts(self, corpus: str, feature_version: str) -> list[str]:
        """The part ids of a feature version, sorted."""
        group = existing_group(self._root, f"{layout.version_path(corpus, feature_version)}/{layout.PARTS}")
        return sorted(name for name, _ in group.groups()) if group is not None else []

    def part(self, corpus: str, feature_version: str, part: str) -> zarr.Group:
        """The group of one part (its arrays: ``clip_id``, each ``<key>`` and ``<key>.offsets``).

        Raises
        ------
        NotFoundError
            When the part is not in this snapshot.
        """
        group = existing_group(self._root, layout.part_path(corpus, feature_version, part))
        if group is None:
            raise NotFoundError(f"part {part} of {corpus}/{feature_version} is not in {self.snapshot}")
        return group

    def _ledger(self, corpus: str, feature_version: str) -> pd.DataFrame:
        key = (corpus, feature_version)
        if key not in self._ledgers:
            group = existing_group(self._root, layout.ledger_path(corpus, feature_version))
            if group is None:
                raise NotFoundError(f"no feature version {feature_version!r} for corpus {corpus!r}")
            self._ledgers[key] = read_table(group, LEDGER_SCHEMA).set_index("clip_id", drop=False)
        return self._ledgers[key]

    def catalog(self, corpus: str | None = None, feature_version: str | None = None) -> pd.DataFrame:
        """One row per clip (columns :data:`CATALOG_COLUMNS`), joined with the ledger of a
        feature version (default: each corpus's latest).

        Raises
        ------
        NotFoundError
            When ``corpus`` or ``feature_version`` is not in this snapshot.
        """
        names = self.corpora()
        if corpus is not None and corpus not in names:
            raise NotFoundError(
                f"corpus {corpus!r} is not in this store (it has: {', '.join(names) or 'none'})"
            )
        frames = []
        for name in [corpus] if corpus else names:
            cat = read_table(existing_group(self._root, layout.catalog_path(name)), CATALOG_SCHEMA)
            known = [v["feature_version"] for v in self.feature_versions(name)]
            if feature_version is not None and feature_version not in known:
                if corpus is not None:
                    raise NotFoundError(f"no feature version {feature_version!r} for corpus {name!r}")
                continue  # another corpus's version: this corpus has nothing under it
            fv = feature_version or (known[-1] if known else None)
            if fv is not None:
                # The digest of the bytes the features were computed from (the catalog's is the
                # file as last scanned; the two differ until a changed file is re-ingested).
                ledger = self._ledger(name, fv).reset_index(drop=True)
                cat = cat.merge(ledger, on="clip_id", how="left", suffixes=("_scanned", ""))
                computed = cat["status"].notna()
                for column in ("source_sha256", "audio_sha256"):
                    cat[column] = cat[column].where(computed, cat[f"{column}_scanned"])
            cat["feature_version"] = fv
            frames.append(cat.reindex(columns=CATALOG_COLUMNS))
        if not frames:
            return pd.DataFrame(columns=CATALOG_COLUMNS)
        out = pd.concat(frames, ignore_index=True).sort_values("clip_id", kind="stable", ignore_index=True)
        out["meta"] = [json.loads(m) if isinstance(m, str) and m else {} for m in out["meta"]]
        for column in ("frames", "fold"):  # -1 = not recorded
            values = out[column].astype("Int64")
            out[column] = values.where(values >= 0)
        return out

    def read(self, clip_id: str, feature_version: str | None = None) -> dict[str, np.ndarray]:
        """Every stored array of one clip: ``face``, ``face_present``, ``face_times``,
        ``mfcc``, ``logmel``, ``egemaps_lld``, ``egemaps``, ``energy``, ``spectral``,
        ``onset``, ``rhythm``, ``windows``, ``speech_segments``, ``speech_mask``, ``pauses``,
        ``pause_windows`` (and ``compare_lld``, ``compare``, ``spectrogram`` when the config
        asks), each series with its ``*_times``, plus ``label.<name>`` /
        ``label.<name>_times`` for each time-varying label track. Column names are in the
        feature version's ``names`` (:meth:`feature_versions`).

        Raises
        ------
        NotFoundError
            When the clip is unknown, or it failed (or was not processed) in that version.
        """
        pieces = self._pieces_of(clip_id, feature_version)
        per_clip: set[str] = set()
        for part, _ in pieces:
            per_clip_attr = part.attrs.get("per_clip", [])
            if isinstance(per_clip_attr, list):
                per_clip |= {str(k) for k in per_clip_attr}
        out: dict[str, np.ndarray] = {}
        for key in series_keys(pieces):
            value = read_series(pieces, key)
            if value is not None:
                out[key] = value[0] if key in per_clip else value
        return out

    def _pieces_of(self, clip_id: str, feature_version: str | None) -> list[tuple[zarr.Group, int]]:
        """The part groups holding a clip's arrays, in order, with the clip's row in each.

        A long clip is stored across consecutive parts: its first piece at the ledger's
        ``row`` of the first part, every later piece at row 0 of the next.
        """
        try:
            corpus = layout.corpus_of(clip_id)
        except ValueError as exc:
            raise NotFoundError(str(exc)) from exc
        fv = feature_version or self.latest_version(corpus)
        ledger = self._ledger(corpus, fv)
        if clip_id not in ledger.index:
            raise NotFoundError(f"clip {clip_id!r} is not in feature version {fv}")
        row = ledger.loc[clip_id]
        if row["status"] != "ok":
            raise NotFoundError(
                f"clip {clip_id!r} failed in {fv} at stage {row['stage']} "
                f"({row['error_kind']}): {row['error']}"
            )
        return pieces_at(self._root, corpus, fv, str(row["part"]), int(row["row"]))

    def clip_pieces(self, clip_id: str, feature_version: str | None = None) -> list[tuple[zarr.Group, int]]:
        """The part groups holding a clip's arrays, in order, with the clip's row in each
        (read one key of them with :func:`read_series`).

        Raises
        ------
        NotFoundError
            As :meth:`read`.
        """
        return self._pieces_of(clip_id, feature_version)

    def corpus_identity(self, corpus: str) -> dict[str, str]:
        """The ``adapter`` and ``root`` recorded for ``corpus`` (empty when it has none)."""
        return corpus_identity(self._root, corpus)

    def label_classes(self, clip_id: str, feature_version: str | None = None) -> dict[str, list[str]]:
        """Class names of the clip's categorical label tracks (``label.<name>`` values index them).

        Raises
        ------
        NotFoundError
            As :meth:`read`.
        """
        part = self._pieces_of(clip_id, feature_version)[-1][0]  # labels come with the last piece
        classes = part.attrs.get("label_classes", {})
        if not isinstance(classes, dict):
            return {}
        return {str(k): [str(c) for c in v] for k, v in classes.items() if isinstance(v, list)}

    def history(self) -> list[Commit]:
        """The commits leading to this snapshot, newest first."""
        return [
            Commit(c.id, c.message, c.written_at.isoformat(), dict(c.metadata))
            for c in self._repo.ancestry(snapshot_id=self.snapshot)
        ]

    def tags(self) -> dict[str, str]:
        """Tag name -> snapshot id."""
        return {t: self._repo.lookup_tag(t) for t in sorted(self._repo.list_tags())}


def pieces_at(
    root: zarr.Group, corpus: str, feature_version: str, parts: str, row: int
) -> list[tuple[zarr.Group, int]]:
    """The pieces of a clip whose ledger row names ``parts`` (space-separated) and ``row``,
    in any store's root group (as :meth:`FeatureStore.clip_pieces`).

    Raises
    ------
    NotFoundError
        When a part is missing.
    """
    out: list[tuple[zarr.Group, int]] = []
    for k, name in enumerate(parts.split()):
        part = existing_group(root, layout.part_path(corpus, feature_version, name))
        if part is None:
            raise NotFoundError(f"part {name} of {corpus}/{feature_version} is missing from the store")
        out.append((part, row if k == 0 else 0))
    return out


def series_keys(pieces: Sequence[tuple[zarr.Group, int]]) -> list[str]:
    """Every key stored for a clip in ``pieces`` (a long clip's pieces may hold fewer)."""
    keys = {
        key
        for part, _ in pieces
        for key in part.array_keys()
        if key != "clip_id" and not key.endswith(layout.OFFSETS_SUFFIX)
    }
    return sorted(keys)


def read_series(pieces: Sequence[tuple[zarr.Group, int]], key: str) -> np.ndarray | None:
    """One key of a clip as stored: its pieces concatenated on axis 0 (a per-clip value is a
    series of length 1); ``None`` when no piece holds the key. Reads only that clip's rows."""
    values = []
    for part, i in pieces:
        node = part.get(key)
        if not isinstance(node, zarr.Array):
            continue
        start, stop = read_array(part, key + layout.OFFSETS_SUFFIX, slice(i, i + 2))
        values.append(np.asarray(node[int(start) : int(stop)]))
    if not values:
        return None
    return values[0] if len(values) == 1 else np.concatenate(values, axis=0)


def open_store(path: str | Path, snapshot: str | None = None, tag: str | None = None) -> FeatureStore:
    """Open the store at ``path`` pinned to ``snapshot`` (an id, tag or branch; default: the
    tip of ``main``) or to the release ``tag``.

    Raises
    ------
    NotFoundError
        When there is no store at ``path``, or the snapshot or tag does not exist.
    ValueError
        When both ``snapshot`` and ``tag`` are given.
    """
    return FeatureStore(path, snapshot, tag=tag)


__all__ = [
    "CATALOG_COLUMNS",
    "Commit",
    "FeatureStore",
    "open_store",
    "pieces_at",
    "read_series",
    "series_keys",
]
