"""Retention on a real store: the snapshot listing, ``drop_version`` and ``gc``.

Each test works on a copy of the session's two-release store (``releases``), which stays
untouched.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from emofeat.config import FaceConfig, FeatureConfig
from emofeat.errors import NotFoundError, StoreError
from emofeat.pipeline import RunOptions, ingest
from emofeat.store import open_repo, open_store
from emofeat.store.repo import LOCK_NAME
from emofeat.store.retention import drop_version, gc, list_snapshots
from emofeat.store.tags import TAGS_BRANCH, list_tags
from tests.audit.conftest import releases  # noqa: F401  (the session's two-release store)
from tests.audit.releases import Releases, clip_id

OPTIONS = RunOptions(batch_size=2, workers=1)
CLIP = clip_id("train_00001")


@pytest.fixture
def store(releases: Releases, tmp_path: Path) -> Path:  # noqa: F811
    copy = tmp_path / "store"
    shutil.copytree(releases.store, copy, symlinks=True)
    return copy


def _files(store: Path) -> dict[str, tuple[int, int]]:
    """Every file of the repository (not the commit lock): relative path -> (size, mtime in ns)."""
    return {
        str(p.relative_to(store)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in store.rglob("*")
        if p.is_file() and p.name != LOCK_NAME
    }


def _chunks(store: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in (store / "chunks").iterdir()}


def test_list_snapshots_names_runs_and_tags(releases: Releases) -> None:  # noqa: F811
    found = list_snapshots(releases.store)
    assert [s.written_at for s in found] == sorted((s.written_at for s in found), reverse=True)
    tagged = {name: s for s in found for name in s.tags}
    assert sorted(tagged) == ["v1", "v2"]
    assert found[0] is tagged["v2"]  # the tip
    v1 = tagged["v1"]
    assert (v1.kind, v1.corpus, v1.feature_version) == ("ingest", "rafdb", releases.v1.feature_version)
    assert v1.counts is not None
    assert v1.counts["ok"] == 4
    assert tagged["v2"].feature_version == releases.v2.feature_version
    assert all(s.on_branch for s in found)
    assert found[-1].message == "Repository initialized"
    assert found[-1].kind is None


def test_gc_frees_a_dropped_untagged_version_and_keeps_every_tag(
    store: Path,
    releases: Releases,  # noqa: F811
) -> None:
    third = ingest("rafdb", releases.root, store, FeatureConfig(faces=FaceConfig(threshold=0.5)), OPTIONS)
    with_third = open_store(store).snapshot
    dropped = drop_version(store, third.feature_version)
    assert dropped.tags == []
    assert dropped.dropped_from == with_third
    chunks_before = _chunks(store)

    report = gc(store, grace_hours=0)

    assert with_third in report.expired
    assert report.chunks_deleted > 0
    assert report.bytes_deleted > 0
    chunks_after = _chunks(store)
    assert set(chunks_after) < set(chunks_before)
    assert len(chunks_before) - len(chunks_after) == report.chunks_deleted
    assert sum(chunks_after.values()) < sum(chunks_before.values())
    with pytest.raises(NotFoundError, match="no snapshot, tag or branch"):
        open_store(store, with_third)
    # Every tagged snapshot reads what it read before, array for array.
    for name, summary in (("v1", releases.v1), ("v2", releases.v2)):
        kept, original = open_store(store, tag=name), open_store(releases.store, tag=name)
        assert kept.snapshot == original.snapshot
        assert (kept.catalog()["status"] == "ok").sum() == summary.clips["ok"]
        ours, theirs = kept.read(CLIP, summary.feature_version), original.read(CLIP, summary.feature_version)
        assert sorted(ours) == sorted(theirs)
        assert len(ours["face"]) > 0
        for key in theirs:
            np.testing.assert_array_equal(ours[key], theirs[key])
    # The tags keep their messages (the tags branch survives), history still walks.
    assert TAGS_BRANCH in open_repo(store).list_branches()
    assert [(t.name, t.message) for t in list_tags(store)] == [
        (t.name, t.message) for t in list_tags(releases.store)
    ]
    history = open_store(store).history()
    assert history[0].metadata["emofeat"]["kind"] == "drop"
    assert history[-1].message == "Repository initialized"
    # A second collection finds nothing more to free.
    again = gc(store, grace_hours=0)
    assert (again.expired, again.chunks_deleted, again.bytes_deleted) == ([], 0, 0)


def test_dry_run_changes_nothing_and_predicts_the_collection(store: Path) -> None:
    before, listing = _files(store), list_snapshots(store)
    dry = gc(store, grace_hours=0, dry_run=True)
    assert _files(store) == before
    assert list_snapshots(store) == listing
    assert sorted(p.name for p in store.parent.iterdir()) == ["store"]  # no scratch copy left
    assert dry.dry_run
    assert dry.expired
    assert dry.snapshots_deleted > 0

    real = gc(store, grace_hours=0)
    assert not real.dry_run
    same = {"dry_run": True, "expired_before": "", "deleted_before": ""}
    assert replace(dry, **same) == replace(real, **same)
    assert _files(store) != before


def test_grace_period_and_age_keep_recent_snapshots(store: Path) -> None:
    listing = list_snapshots(store)
    recent = gc(store)  # default: 24 hours of grace
    assert (recent.expired, recent.snapshots_deleted, recent.bytes_deleted) == ([], 0, 0)
    later = datetime.now(UTC) + timedelta(hours=36)
    young = gc(store, older_than=timedelta(days=2), now=later)  # older than 24 h, younger than 2 days
    assert young.expired == []
    assert list_snapshots(store) == listing
    old = gc(store, now=later)
    assert old.expired
    assert old.snapshots_deleted == len(old.expired)
    assert {s.snapshot for s in list_snapshots(store)} < {s.snapshot for s in listing}
    with pytest.raises(StoreError, match="must not be negative") as caught:
        gc(store, grace_hours=-1)
    assert caught.value.kind == "bad_argument"


def test_drop_removes_from_the_tip_and_tags_still_read_it(store: Path, releases: Releases) -> None:  # noqa: F811
    fv1, fv2 = releases.v1.feature_version, releases.v2.feature_version
    tip = open_store(store).snapshot
    dry = drop_version(store, fv1, dry_run=True)
    assert (dry.snapshot, dry.dropped_from, dry.tags) == (None, tip, ["v1", "v2"])
    assert open_store(store).snapshot == tip

    dropped = drop_version(store, fv1, "rafdb")
    now = open_store(store)
    assert now.snapshot == dropped.snapshot != tip
    assert [v["feature_version"] for v in now.feature_versions()] == [fv2]
    assert now.history()[0].metadata["emofeat"] == {
        "kind": "drop",
        "corpus": "rafdb",
        "feature_version": fv1,
        "dropped_from": tip,
    }
    assert len(open_store(store, tag="v1").read(CLIP, fv1)["face"]) > 0
    assert len(open_store(store, tip).read(CLIP, fv1)["face"]) > 0

    with pytest.raises(NotFoundError, match=f"no feature version '{fv1}'.*it has: {fv2}"):
        drop_version(store, fv1)
    with pytest.raises(NotFoundError, match="corpus 'nosuch'"):
        drop_version(store, fv2, "nosuch")
    with pytest.raises(NotFoundError, match="must use only"):
        drop_version(store, "../x")


def test_drop_asks_for_the_corpus_when_several_have_the_version(store: Path, releases: Releases) -> None:  # noqa: F811
    ingest("rafdb", releases.root, store, options=replace(OPTIONS, name="rafdb2"))
    with pytest.raises(StoreError, match=r"rafdb, rafdb2.*--corpus") as caught:
        drop_version(store, releases.v1.feature_version)
    assert caught.value.kind == "ambiguous_feature_version"
    assert drop_version(store, releases.v1.feature_version, "rafdb2").corpus == "rafdb2"
