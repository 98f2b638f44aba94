"""The plain-data form of manifest entries: one shape for ``emofeat manifest`` and the catalog."""

from __future__ import annotations

from typing import Any

from emofeat.corpora.base import ClipRecord, CorpusAdapter, Manifest, SkippedFile
from emofeat.corpora.folds import DEFAULT_FOLDS, assign_folds
from emofeat.corpora.vocabulary import quadrant


def clip_row(adapter: CorpusAdapter, clip: ClipRecord, fold: int | None) -> dict[str, Any]:
    """A clip as plain data: ids, sources, person, subject, sex, native and unified label,
    quadrant, split, fold."""
    unified = adapter.unified_label(clip.label)
    return {
        "clip_id": clip.clip_id,
        "corpus": clip.corpus,
        "source": clip.source,
        "audio_source": clip.audio_source,
        "person": clip.person,
        "subject": clip.subject,
        "sex": clip.sex,
        "label": clip.label,
        "unified": unified,
        "quadrant": quadrant(unified),
        "split": clip.split,
        "fold": fold,
        "tracks": [t.name for t in clip.tracks],
        "meta": dict(clip.meta),
    }


def skip_row(skipped: SkippedFile) -> dict[str, Any]:
    return {"source": skipped.source, "skip_reason": skipped.reason}


def manifest_rows(
    adapter: CorpusAdapter, manifest: Manifest, folds: int = DEFAULT_FOLDS
) -> list[dict[str, Any]]:
    """Every clip (with its fold) then every skipped file, as plain data."""
    fold_of = assign_folds(manifest.clips, folds)
    return [clip_row(adapter, c, fold_of[c.clip_id]) for c in manifest.clips] + [
        skip_row(s) for s in manifest.skipped
    ]
