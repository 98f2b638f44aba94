"""The contract every corpus adapter passes (subclass :class:`AdapterContract`).

A subclass sets ``adapter`` (the registry name) and implements ``build(root)``, which writes
a tiny fake corpus mirroring the real directory layout and file naming (including the
corpus's known irregularities). Files may be empty placeholders: adapters never open media.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from emofeat.corpora import Manifest, get_adapter
from emofeat.corpora.base import clip_id_of, walk_files
from emofeat.corpora.folds import assign_folds
from emofeat.corpora.rows import manifest_rows
from emofeat.corpora.vocabulary import UNIFIED


class AdapterContract:
    adapter: str

    def build(self, root: Path) -> None:
        raise NotImplementedError

    @pytest.fixture
    def corpus_root(self, tmp_path: Path) -> Path:
        root = tmp_path / "corpus root"
        root.mkdir()
        self.build(root)
        return root

    @pytest.fixture
    def manifest(self, corpus_root: Path) -> Manifest:
        return get_adapter(self.adapter).scan(corpus_root)

    def test_every_file_is_a_clip_or_a_reported_skip(self, corpus_root: Path, manifest: Manifest) -> None:
        on_disk = set(walk_files(corpus_root))
        accounted: set[str] = {s.source for s in manifest.skipped}
        for clip in manifest.clips:
            path = corpus_root / clip.source
            assert path.exists(), clip.source
            accounted |= {f"{clip.source}/{f}" for f in walk_files(path)} if path.is_dir() else {clip.source}
        assert on_disk <= accounted | self.side_files(manifest)
        assert all(s.reason for s in manifest.skipped)

    def side_files(self, manifest: Manifest) -> set[str]:
        """Annotation and label files an adapter reads (override where the corpus has them)."""
        return set()

    def test_ids_are_deterministic_and_unique(self, corpus_root: Path, manifest: Manifest) -> None:
        again = get_adapter(self.adapter).scan(corpus_root)
        assert [c.clip_id for c in again.clips] == [c.clip_id for c in manifest.clips]
        assert len({c.clip_id for c in manifest.clips}) == len(manifest.clips)
        assert all(c.clip_id == clip_id_of(self.adapter, c.source, c.person) for c in manifest.clips)
        assert manifest.clips, "the fake corpus must hold clips"

    def test_labels_are_declared_and_unified(self, manifest: Manifest) -> None:
        adapter = get_adapter(self.adapter)
        for clip in manifest.clips:
            if clip.label is not None:
                assert clip.label in adapter.labels or not adapter.labels, clip  # () = free-form
                unified = adapter.unified_label(clip.label)
                assert unified is None or unified in UNIFIED
            assert clip.sex in (None, "male", "female")
            assert clip.split in (None, "train", "validation", "test")

    def test_folds_are_subject_independent_and_stable(self, manifest: Manifest) -> None:
        folds = assign_folds(manifest.clips, 5)
        by_subject: dict[str, set[int]] = defaultdict(set)
        for clip in manifest.clips:
            if clip.subject is not None:
                by_subject[clip.subject].add(folds[clip.clip_id])
        assert all(len(f) == 1 for f in by_subject.values())
        assert assign_folds(reversed(manifest.clips), 5) == folds

    def test_manifest_rows_are_json(self, manifest: Manifest) -> None:
        rows = manifest_rows(get_adapter(self.adapter), manifest)
        for row in rows:
            json.dumps(row)
            if "skip_reason" not in row:
                assert {"clip_id", "source", "subject", "sex", "label", "fold"} <= set(row)
