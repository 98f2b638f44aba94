"""What changed between two snapshots of a store (``emofeat diff A B``).

Per corpus: the clips added, removed or changed (which catalog fields: source digests,
labels, split, status), the feature versions added or removed, the config, implementation
versions and weight digests of each side's latest feature version side by side (flattened
to dotted keys: ``faces.threshold  0.7 | 0.6``), the label changes and the fold changes
(folds are deterministic: a fold change means the fold scheme or a subject changed).

Everything is read from the two snapshots' catalogs and feature-version attributes: no
feature array is read, so a diff costs the catalog tables, not the data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from emofeat.errors import NotFoundError
from emofeat.store import FeatureStore, open_store
from emofeat.store.tables import plain

#: The catalog fields whose change makes a clip "changed" (the digests are those the latest
#: feature version was computed from, or the scanned ones for a clip it has not processed).
CLIP_FIELDS = (
    "source_sha256",
    "audio_sha256",
    "label",
    "unified",
    "quadrant",
    "split",
    "status",
    "error_kind",
)


@dataclass(frozen=True)
class Change:
    """One value on each side: ``a`` (before) and ``b`` (after); ``None`` where absent."""

    key: str
    a: Any
    b: Any

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "a": self.a, "b": self.b}


@dataclass(frozen=True)
class ClipChange:
    """A clip present on both sides whose catalog fields differ."""

    clip_id: str
    fields: tuple[Change, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"clip_id": self.clip_id, "fields": {c.key: {"a": c.a, "b": c.b} for c in self.fields}}


@dataclass(frozen=True)
class CorpusDiff:
    """The differences of one corpus. ``presence`` is ``both``, ``added`` (only in B) or
    ``removed`` (only in A); a side without the corpus counts as having no clips."""

    corpus: str
    presence: str
    latest_a: str | None
    latest_b: str | None
    clips_added: tuple[str, ...] = ()
    clips_removed: tuple[str, ...] = ()
    clips_changed: tuple[ClipChange, ...] = ()
    versions_added: tuple[str, ...] = ()
    versions_removed: tuple[str, ...] = ()
    config: tuple[Change, ...] = ()
    implementation: tuple[Change, ...] = ()
    weights: tuple[Change, ...] = ()
    labels: tuple[Change, ...] = ()
    folds: tuple[Change, ...] = ()

    @property
    def empty(self) -> bool:
        """Whether nothing differs."""
        return self.presence == "both" and not any(
            (
                self.clips_added,
                self.clips_removed,
                self.clips_changed,
                self.versions_added,
                self.versions_removed,
                self.config,
                self.implementation,
                self.weights,
                self.labels,
                self.folds,
            )
        )

    def to_dict(self) -> dict[str, Any]:
        def changes(items: Iterable[Change]) -> list[dict[str, Any]]:
            return [c.to_dict() for c in items]

        return {
            "corpus": self.corpus,
            "presence": self.presence,
            "feature_version": {"a": self.latest_a, "b": self.latest_b},
            "clips": {
                "added": list(self.clips_added),
                "removed": list(self.clips_removed),
                "changed": [c.to_dict() for c in self.clips_changed],
            },
            "feature_versions": {"added": list(self.versions_added), "removed": list(self.versions_removed)},
            "config": changes(self.config),
            "implementation": changes(self.implementation),
            "weights": changes(self.weights),
            "labels": [{"clip_id": c.key, "a": c.a, "b": c.b} for c in self.labels],
            "folds": [{"clip_id": c.key, "a": c.a, "b": c.b} for c in self.folds],
        }


@dataclass(frozen=True)
class StoreDiff:
    """The differences between snapshots ``snapshot_a`` and ``snapshot_b`` (named ``a`` and
    ``b`` as given: a tag, a branch or a snapshot id)."""

    a: str
    b: str
    snapshot_a: str
    snapshot_b: str
    corpora: tuple[CorpusDiff, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        """Whether the two snapshots hold the same clips, versions, configs, labels and folds."""
        return all(c.empty for c in self.corpora)

    def corpus(self, name: str) -> CorpusDiff:
        """The differences of one corpus.

        Raises
        ------
        KeyError
            When the corpus is on neither side.
        """
        for c in self.corpora:
            if c.corpus == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": {"ref": self.a, "snapshot": self.snapshot_a},
            "b": {"ref": self.b, "snapshot": self.snapshot_b},
            "empty": self.empty,
            "corpora": [c.to_dict() for c in self.corpora],
        }


def diff(path: str | Path, a: str, b: str, corpus: str | None = None) -> StoreDiff:
    """Compare two snapshots of the store at ``path``; ``a`` and ``b`` are each a tag, a
    branch or a snapshot id. With ``corpus``, only that corpus.

    Raises
    ------
    NotFoundError
        When there is no store at ``path``, ``a`` or ``b`` names nothing in it, or
        ``corpus`` is in neither snapshot.
    """
    left, right = open_store(path, a), open_store(path, b)
    names = sorted(set(left.corpora()) | set(right.corpora()))
    if corpus is not None:
        if corpus not in names:
            raise NotFoundError(
                f"corpus {corpus!r} is in neither {a} nor {b} (they have: {', '.join(names) or 'none'})"
            )
        names = [corpus]
    return StoreDiff(a, b, left.snapshot, right.snapshot, tuple(diff_corpus(left, right, n) for n in names))


def diff_corpus(left: FeatureStore, right: FeatureStore, corpus: str) -> CorpusDiff:
    """The differences of ``corpus`` between two open snapshots (either may lack it)."""
    in_a, in_b = corpus in left.corpora(), corpus in right.corpora()
    presence = "both" if in_a and in_b else ("added" if in_b else "removed")
    cat_a = _catalog(left, corpus) if in_a else None
    cat_b = _catalog(right, corpus) if in_b else None
    versions_a = _versions(left, corpus) if in_a else {}
    versions_b = _versions(right, corpus) if in_b else {}
    latest_a, latest_b = _latest(versions_a), _latest(versions_b)
    va, vb = versions_a.get(latest_a or "", {}), versions_b.get(latest_b or "", {})
    present_a = _present(cat_a)
    present_b = _present(cat_b)
    common = sorted(present_a & present_b)
    changed, labels, folds = _clip_changes(cat_a, cat_b, common)
    return CorpusDiff(
        corpus=corpus,
        presence=presence,
        latest_a=latest_a,
        latest_b=latest_b,
        clips_added=tuple(sorted(present_b - present_a)),
        clips_removed=tuple(sorted(present_a - present_b)),
        clips_changed=changed,
        versions_added=tuple(v for v in versions_b if v not in versions_a),
        versions_removed=tuple(v for v in versions_a if v not in versions_b),
        config=side_by_side(va.get("config"), vb.get("config")),
        implementation=side_by_side(va.get("implementation"), vb.get("implementation")),
        weights=side_by_side(va.get("weights"), vb.get("weights")),
        labels=labels,
        folds=folds,
    )


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """A nested mapping as ``{"dotted.key": leaf}`` (a non-mapping is one leaf at ``prefix``)."""
    if not isinstance(data, Mapping):
        return {prefix: data} if prefix else {}
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, name))
        else:
            out[name] = value
    return out


def side_by_side(a: Any, b: Any) -> tuple[Change, ...]:
    """The dotted keys whose values differ between two nested mappings (``None``: absent)."""
    fa, fb = flatten(a or {}), flatten(b or {})
    return tuple(Change(k, fa.get(k), fb.get(k)) for k in sorted(set(fa) | set(fb)) if fa.get(k) != fb.get(k))


def _catalog(store: FeatureStore, corpus: str) -> pd.DataFrame:
    columns = ["clip_id", "removed", "fold", *CLIP_FIELDS]
    return store.catalog(corpus).reindex(columns=columns).set_index("clip_id", drop=False)


def _present(catalog: pd.DataFrame | None) -> set[str]:
    """The clips of a catalog whose source was there when it was last scanned."""
    if catalog is None:
        return set()
    return set(catalog.loc[catalog["removed"].isna(), "clip_id"])


def _versions(store: FeatureStore, corpus: str) -> dict[str, dict[str, Any]]:
    """Feature version id -> its attributes, oldest first."""
    return {str(v["feature_version"]): v for v in store.feature_versions(corpus)}


def _latest(versions: dict[str, dict[str, Any]]) -> str | None:
    return next(reversed(versions), None) if versions else None


def _clip_changes(
    a: pd.DataFrame | None, b: pd.DataFrame | None, common: list[str]
) -> tuple[tuple[ClipChange, ...], tuple[Change, ...], tuple[Change, ...]]:
    """Changed clips (any of :data:`CLIP_FIELDS`), label changes and fold changes of the
    clips on both sides; compared column by column, then one entry per differing clip."""
    if a is None or b is None or not common:
        return (), (), ()
    left, right = a.loc[common], b.loc[common]
    differ: dict[str, pd.Series] = {
        column: _differs(left[column], right[column]) for column in (*CLIP_FIELDS, "fold")
    }
    any_field = pd.concat([differ[c] for c in CLIP_FIELDS], axis=1).any(axis=1)
    changed = tuple(
        ClipChange(
            clip,
            tuple(
                Change(c, plain(left.at[clip, c]), plain(right.at[clip, c]))
                for c in CLIP_FIELDS
                if differ[c][clip]
            ),
        )
        for clip in any_field.index[any_field]
    )

    def per_clip(column: str) -> tuple[Change, ...]:
        mask = differ[column]
        return tuple(
            Change(clip, plain(left.at[clip, column]), plain(right.at[clip, column]))
            for clip in mask.index[mask]
        )

    return changed, per_clip("label"), per_clip("fold")


def _differs(a: pd.Series, b: pd.Series) -> pd.Series:
    """Element-wise inequality with nulls (None, NaN, NA) equal to each other."""
    left = a.astype(object).where(a.notna(), _NULL).to_numpy()
    right = b.astype(object).where(b.notna(), _NULL).to_numpy()
    return pd.Series(left != right, index=a.index, dtype=bool)


#: Stands for a null cell in comparisons (equal only to itself).
_NULL = object()


__all__ = ["CLIP_FIELDS", "Change", "ClipChange", "CorpusDiff", "StoreDiff", "diff", "diff_corpus", "flatten"]
