"""The demo corpus builds from packaged media alone and parses as RAVDESS."""

from __future__ import annotations

from pathlib import Path

from emofeat.corpora import get_adapter
from emofeat.demo import build_demo_corpus
from emofeat.media import probe


def test_demo_corpus_is_a_valid_ravdess_tree(tmp_path: Path) -> None:
    root = build_demo_corpus(tmp_path / "demo")
    manifest = get_adapter("ravdess").scan(root)
    assert manifest.skipped == ()
    by_source = {c.source: c for c in manifest.clips}
    assert len(by_source) == 6
    av = probe(root / "Actor_01/01-01-03-01-01-01-01.mp4")
    assert av.has_audio
    assert av.has_video
    assert not probe(root / "Actor_01/02-01-03-01-01-01-01.mp4").has_audio
    assert by_source["Actor_03/01-01-01-01-01-01-03.mp4"].label == "neutral"
    # Building again keeps every file as it is (so a second demo run stores nothing new).
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    build_demo_corpus(root)
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before
