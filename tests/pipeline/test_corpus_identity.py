"""Corpora in one store keep their identity: two roots never replace each other silently,
``--name`` keeps both, and sources that disappear are marked removed, never deleted."""

from __future__ import annotations

from pathlib import Path

import pytest

import emofeat
from emofeat.errors import CorpusError
from emofeat.pipeline import RunOptions, ingest
from tests.mediagen import face_frames, write_video


def _root(path: Path, seeds: list[int]) -> Path:
    path.mkdir(parents=True)
    for seed in seeds:
        write_video(path / f"clip{seed}.mp4", face_frames(3, size=(96, 128), seed=seed), fps=3)
    return path


def test_another_root_under_one_name_is_refused_and_name_keeps_both(tmp_path: Path) -> None:
    a, b = _root(tmp_path / "A", [0, 1]), _root(tmp_path / "B", [0, 2])  # both hold clip0.mp4
    store = tmp_path / "store"
    first = ingest("folder", a, store, options=RunOptions(workers=1))
    assert first.clips["ok"] == 2
    with pytest.raises(CorpusError) as caught:
        ingest("folder", b, store, options=RunOptions(workers=1))
    assert caught.value.kind == "corpus_root_mismatch"
    assert "--name" in caught.value.message
    before = emofeat.open_store(store).read("folder/clip0.mp4")

    second = ingest("folder", b, store, options=RunOptions(workers=1, name="folder-b"))
    assert second.corpus == "folder-b"
    assert second.clips["ok"] == 2
    after = emofeat.open_store(store)
    assert sorted(after.corpora()) == ["folder", "folder-b"]
    assert (after.read("folder/clip0.mp4")["face"] == before["face"]).all()  # A's clip untouched
    cat = after.catalog("folder-b")
    assert sorted(cat["clip_id"]) == ["folder-b/clip0.mp4", "folder-b/clip2.mp4"]
    assert set(cat["corpus"]) == {"folder-b"}
    # The same subjects get the same folds whatever the corpus is called.
    folds_a = after.catalog("folder").set_index("source")["fold"]
    assert cat.set_index("source").loc["clip0.mp4", "fold"] == folds_a["clip0.mp4"]


def test_a_moved_root_is_accepted_when_the_user_says_so(tmp_path: Path) -> None:
    a = _root(tmp_path / "A", [0, 1])
    store = tmp_path / "store"
    ingest("folder", a, store, options=RunOptions(workers=1))
    moved = a.rename(tmp_path / "moved")
    again = ingest("folder", moved, store, options=RunOptions(workers=1, root_moved=True))
    assert again.clips == {"ok": 0, "failed": 0, "skipped": 2}  # same bytes, same ids: nothing redone
    ingest("folder", moved, store, options=RunOptions(workers=1))  # the new root is recorded


def test_disappeared_sources_are_marked_removed_and_still_read(tmp_path: Path) -> None:
    a = _root(tmp_path / "A", [0, 1, 2])
    store = tmp_path / "store"
    first = ingest("folder", a, store, options=RunOptions(workers=1))
    (a / "clip1.mp4").unlink()
    second = ingest("folder", a, store, options=RunOptions(workers=1))
    assert len(second.commits) == 1
    opened = emofeat.open_store(store)
    cat = opened.catalog("folder").set_index("source")
    assert cat.loc["clip1.mp4", "removed"] == second.run
    assert cat.loc["clip0.mp4", "removed"] is None
    assert opened.read("folder/clip1.mp4")["face"].shape[0] == 16  # never deleted
    old = emofeat.open_store(store, snapshot=first.snapshot).catalog("folder").set_index("source")
    assert old.loc["clip1.mp4", "removed"] is None
    third = ingest("folder", a, store, options=RunOptions(workers=1))
    assert third.commits == []  # already marked: nothing to write
