"""``emofeat diff``: what changed between two snapshots (the two releases of ``releases``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from emofeat.audit.diff import Change, diff, flatten, side_by_side
from emofeat.cli.app import app
from emofeat.errors import NotFoundError
from emofeat.options import RunOptions
from emofeat.pipeline import ingest
from emofeat.store import open_store
from tests.audit.releases import ADDED, CHANGED, Releases, clip_id, write_corpus

runner = CliRunner()


def test_the_second_release_adds_a_clip_relabels_one_and_lowers_the_threshold(releases: Releases) -> None:
    found = diff(releases.store, "v1", "v2")
    assert not found.empty
    assert found.snapshot_a == open_store(releases.store, tag="v1").snapshot
    assert [c.corpus for c in found.corpora] == ["rafdb"]
    c = found.corpus("rafdb")
    assert c.presence == "both"
    assert c.clips_added == (ADDED,)
    assert c.clips_removed == ()
    assert [ch.clip_id for ch in c.clips_changed] == [CHANGED]
    fields = {f.key: (f.a, f.b) for f in c.clips_changed[0].fields}
    assert fields == {
        "label": ("happiness", "sadness"),
        "unified": ("happy", "sad"),
        "quadrant": ("Q1", "Q3"),
    }
    assert c.labels == (Change(CHANGED, "happiness", "sadness"),)
    assert c.config == (Change("faces.threshold", 0.7, 0.6),)
    assert (c.latest_a, c.latest_b) == (releases.v1.feature_version, releases.v2.feature_version)
    assert c.versions_added == (releases.v2.feature_version,)
    assert c.versions_removed == ()
    assert c.implementation == ()
    assert c.weights == ()
    assert c.folds == ()


def test_the_reverse_diff_removes_what_the_release_added(releases: Releases) -> None:
    c = diff(releases.store, "v2", "v1").corpus("rafdb")
    assert (c.clips_added, c.clips_removed) == ((), (ADDED,))
    assert c.versions_removed == (releases.v2.feature_version,)
    assert c.config == (Change("faces.threshold", 0.6, 0.7),)


def test_a_release_against_itself_by_tag_branch_or_id_is_empty(releases: Releases) -> None:
    v2 = open_store(releases.store, tag="v2").snapshot
    for a, b in (("v2", "v2"), ("v2", "main"), (v2, "v2")):
        found = diff(releases.store, a, b)
        assert found.empty, found.to_dict()
        assert found.to_dict()["corpora"][0]["clips"] == {"added": [], "removed": [], "changed": []}


def test_a_corpus_absent_from_one_side_is_added_whole(releases: Releases) -> None:
    first = open_store(releases.store).history()[-1].snapshot  # the empty repository
    c = diff(releases.store, first, "v1").corpus("rafdb")
    assert c.presence == "added"
    assert c.latest_a is None
    assert c.latest_b == releases.v1.feature_version
    assert len(c.clips_added) == 4
    assert c.versions_added == (releases.v1.feature_version,)
    assert Change("faces.threshold", None, 0.7) in c.config


def test_unknown_references_and_corpora_are_not_found(releases: Releases) -> None:
    with pytest.raises(NotFoundError, match="v3"):
        diff(releases.store, "v1", "v3")
    with pytest.raises(NotFoundError, match="neither"):
        diff(releases.store, "v1", "v2", corpus="afew")


def test_flattened_configs_are_compared_key_by_key() -> None:
    assert flatten({"a": {"b": 1, "c": {"d": None}}, "e": {}}) == {"a.b": 1, "a.c.d": None, "e": {}}
    assert side_by_side({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "c": 3, "d": 4}}) == (
        Change("a.c", 2, 3),
        Change("a.d", None, 4),
    )


def test_removed_sources_and_changed_folds_are_reported(tmp_path: Path) -> None:
    """Folds never change on their own; a run with another fold count changes them, and a
    diff must show it (and a source gone from the root as removed)."""
    root, store = tmp_path / "RAF-DB", tmp_path / "store"
    labels = {"train_00001": 1, "train_00002": 4, "train_00003": 7}
    write_corpus(root, labels)
    first = ingest("rafdb", root, store, options=RunOptions(batch_size=3, workers=1, folds=5))
    (root / "basic/Image/original/train_00003.jpg").unlink()
    write_corpus(root, {k: v for k, v in labels.items() if k != "train_00003"})
    ingest("rafdb", root, store, options=RunOptions(batch_size=3, workers=1, folds=2))
    c = diff(store, first.snapshot, "main").corpus("rafdb")
    assert c.clips_removed == (clip_id("train_00003"),)
    assert c.clips_added == ()
    assert c.versions_added == ()
    assert c.config == ()
    old = open_store(store, first.snapshot).catalog().set_index("clip_id")["fold"]
    new = open_store(store).catalog().set_index("clip_id")["fold"]
    moved = {k for k in (clip_id("train_00001"), clip_id("train_00002")) if old[k] != new[k]}
    assert moved  # folds hash the clip id: with these ids one clip moves from fold 4 to 1
    assert {f.key for f in c.folds} == moved
    assert all((f.a, f.b) == (old[f.key], new[f.key]) for f in c.folds)
    assert all(0 <= f.b < 2 for f in c.folds)


def test_cli_diff_prints_sections_and_json(releases: Releases) -> None:
    result = runner.invoke(app, ["diff", "v1", "v2", "--store", str(releases.store)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"+ {ADDED}" in out
    assert f"~ {CHANGED}: label happiness -> sadness" in out
    assert "faces.threshold  0.7 | 0.6" in out
    assert f"+ {releases.v2.feature_version}" in out
    assert "folds changed: none" in out
    result = runner.invoke(app, ["diff", "v1", "v2", "--store", str(releases.store), "--json"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert data["corpora"][0]["config"] == [{"key": "faces.threshold", "a": 0.7, "b": 0.6}]
    assert data["corpora"][0]["labels"] == [{"clip_id": CHANGED, "a": "happiness", "b": "sadness"}]
    same = runner.invoke(app, ["diff", "v2", "v2", "--store", str(releases.store)])
    assert same.exit_code == 0
    assert "no differences" in same.stdout


def test_cli_diff_of_an_unknown_tag_exits_1(releases: Releases) -> None:
    result = runner.invoke(app, ["diff", "v1", "v9", "--store", str(releases.store)])
    assert result.exit_code == 1
    assert result.stderr.startswith("emofeat: error (not_found): ")
    assert "'v9'" in result.stderr
