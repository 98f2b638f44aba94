"""The store on its own: parts, tables, idempotent updates, pinned reads, history."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emofeat.errors import NotFoundError, StoreError
from emofeat.store import ClipArrays, commit, open_repo, open_store, record, write_part
from emofeat.store.layout import corpus_of, part_id
from emofeat.store.tables import CATALOG_SCHEMA, TABLE_CHUNK

ATTRS = {"feature_version": "fv-test", "created": "2026-01-01T00:00:00+00:00", "config": {"a": 1}}


def catalog_row(clip_id: str, label: str = "happy") -> dict[str, object]:
    return {
        "clip_id": clip_id,
        "corpus": "c",
        "source": clip_id.split("/", 1)[1],
        "source_sha256": "0" * 64,
        "subject": "s1",
        "sex": None,
        "label": label,
        "meta": "{}",
    }


def ok_row(clip_id: str, part: str, row: int) -> dict[str, object]:
    return {
        "clip_id": clip_id,
        "source_sha256": "0" * 64,
        "status": "ok",
        "part": part,
        "row": row,
        "frames": 3,
    }


def write_two_clips(path: Path) -> str:
    repo = open_repo(path, create=True)
    session = repo.writable_session("main")
    fork = session.fork()
    rng = np.random.default_rng(0)
    clips = [
        ClipArrays(
            "c/a.mp4", {"x": rng.random((3, 2), dtype=np.float32), "g": np.arange(4.0)}, frozenset({"g"})
        ),
        ClipArrays("c/b.mp4", {"x": np.zeros((0, 2), np.float32), "g": np.arange(4.0) + 1}, frozenset({"g"})),
    ]
    write_part(fork.store, "c", "fv-test", "p-1", clips)
    session.merge(fork)
    record(
        session,
        "c",
        "fv-test",
        ATTRS,
        [catalog_row("c/a.mp4"), catalog_row("c/b.mp4"), catalog_row("c/bad.mp4")],
        [
            ok_row("c/a.mp4", "p-1", 0),
            ok_row("c/b.mp4", "p-1", 1),
            {
                "clip_id": "c/bad.mp4",
                "status": "failed",
                "stage": "decode",
                "error_kind": "unreadable",
                "error": "boom",
            },
        ],
    )
    snapshot = commit(session, "first", {"emofeat": {"kind": "test"}})
    assert snapshot is not None
    return snapshot


def test_round_trip_ragged_and_per_clip(tmp_path: Path) -> None:
    write_two_clips(tmp_path / "s")
    store = open_store(tmp_path / "s")
    a = store.read("c/a.mp4")
    assert a["x"].shape == (3, 2)
    assert a["x"].dtype == np.float32
    np.testing.assert_array_equal(a["g"], np.arange(4.0))
    b = store.read("c/b.mp4")
    assert b["x"].shape == (0, 2)
    np.testing.assert_array_equal(b["g"], np.arange(4.0) + 1)


def test_catalog_joins_ledger(tmp_path: Path) -> None:
    write_two_clips(tmp_path / "s")
    cat = open_store(tmp_path / "s").catalog()
    assert list(cat["clip_id"]) == ["c/a.mp4", "c/b.mp4", "c/bad.mp4"]
    assert list(cat["status"]) == ["ok", "ok", "failed"]
    bad = cat.set_index("clip_id").loc["c/bad.mp4"]
    assert (bad["stage"], bad["error_kind"], bad["error"]) == ("decode", "unreadable", "boom")
    assert cat["sex"].isna().all()
    assert set(cat["feature_version"]) == {"fv-test"}


def test_failed_clip_read_says_why(tmp_path: Path) -> None:
    write_two_clips(tmp_path / "s")
    store = open_store(tmp_path / "s")
    with pytest.raises(NotFoundError, match=r"failed .* decode .*boom"):
        store.read("c/bad.mp4")
    with pytest.raises(NotFoundError, match="not in feature version"):
        store.read("c/zzz.mp4")
    with pytest.raises(NotFoundError):
        store.read("no-slash")


def test_rewriting_the_same_rows_changes_nothing(tmp_path: Path) -> None:
    write_two_clips(tmp_path / "s")
    repo = open_repo(tmp_path / "s")
    session = repo.writable_session("main")
    record(session, "c", "fv-test", ATTRS, [catalog_row("c/a.mp4")], [ok_row("c/a.mp4", "p-1", 0)])
    assert not session.has_uncommitted_changes
    assert commit(session, "noop", {}) is None
    record(session, "c", "fv-test", ATTRS, [catalog_row("c/a.mp4", label="sad")], [])
    assert session.has_uncommitted_changes


def test_reads_are_pinned_to_a_snapshot(tmp_path: Path) -> None:
    first = write_two_clips(tmp_path / "s")
    repo = open_repo(tmp_path / "s")
    repo.create_tag("v1", first)
    session = repo.writable_session("main")
    record(session, "c", "fv-test", ATTRS, [catalog_row("c/a.mp4", label="sad")], [])
    second = commit(session, "relabel", {})
    assert second is not None
    assert second != first
    assert open_store(tmp_path / "s").catalog().set_index("clip_id").loc["c/a.mp4", "label"] == "sad"
    for ref in (first, "v1"):
        old = open_store(tmp_path / "s", snapshot=ref)
        assert old.snapshot == first
        assert old.catalog().set_index("clip_id").loc["c/a.mp4", "label"] == "happy"
    assert [c.message for c in open_store(tmp_path / "s").history()][:2] == ["relabel", "first"]
    with pytest.raises(NotFoundError):
        open_store(tmp_path / "s", snapshot="no-such-tag")


def test_missing_store_and_non_store_dir(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no emofeat store"):
        open_store(tmp_path / "nothing")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("x")
    with pytest.raises(StoreError, match="not empty"):
        open_repo(tmp_path / "full", create=True)


def test_part_id_is_order_independent_and_content_sensitive() -> None:
    assert part_id(["a", "b"], ["1", "2"]) == part_id(["b", "a"], ["2", "1"])
    assert part_id(["a", "b"], ["1", "2"]) != part_id(["a", "b"], ["1", "3"])
    assert corpus_of("ravdess/Actor_01/x.mp4") == "ravdess"


def test_mismatched_clip_keys_are_rejected(tmp_path: Path) -> None:
    repo = open_repo(tmp_path / "s", create=True)
    session = repo.writable_session("main")
    clips = [ClipArrays("c/a", {"x": np.zeros((1, 2))}), ClipArrays("c/b", {"y": np.zeros((1, 2))})]
    with pytest.raises(StoreError, match="keys"):
        write_part(session.store, "c", "fv-test", "p-1", clips)


def test_concurrent_writers_rebase_or_fail_clearly(tmp_path: Path) -> None:
    write_two_clips(tmp_path / "s")
    repo = open_repo(tmp_path / "s")
    first, second = repo.writable_session("main"), repo.writable_session("main")
    record(first, "c", "fv-test", ATTRS, [catalog_row("c/a.mp4", label="sad")], [])
    other = {"clip_id": "d/x.mp4", "corpus": "d", "source": "x.mp4"}
    record(second, "d", "fv-test", ATTRS, [other], [])
    assert commit(first, "relabel c", {}) is not None
    assert commit(second, "catalog d", {}) is not None  # other arrays: rebased onto the first
    assert open_store(tmp_path / "s").corpora() == ["c", "d"]
    third, fourth = repo.writable_session("main"), repo.writable_session("main")
    record(third, "c", "fv-test", ATTRS, [catalog_row("c/a.mp4", label="angry")], [])
    record(fourth, "c", "fv-test", ATTRS, [catalog_row("c/a.mp4", label="calm")], [])
    commit(third, "one", {})
    with pytest.raises(StoreError, match="run the same command again") as info:
        commit(fourth, "two", {})
    assert info.value.kind == "commit_conflict"


def test_rows_without_a_ledger_do_not_create_a_feature_version(tmp_path: Path) -> None:
    write_two_clips(tmp_path / "s")
    repo = open_repo(tmp_path / "s")
    session = repo.writable_session("main")
    record(session, "c", "fv-other", {"feature_version": "fv-other"}, [catalog_row("c/a.mp4")], [])
    assert not session.has_uncommitted_changes
    store = open_store(tmp_path / "s")
    assert [v["feature_version"] for v in store.feature_versions()] == ["fv-test"]


def test_catalog_of_a_version_spans_corpora_and_shows_the_computed_digest(tmp_path: Path) -> None:
    write_two_clips(tmp_path / "s")
    repo = open_repo(tmp_path / "s")
    session = repo.writable_session("main")
    changed = catalog_row("c/a.mp4") | {"source_sha256": "f" * 64}  # the file changed on disk
    record(session, "c", "fv-test", ATTRS, [changed], [])
    record(
        session,
        "d",
        "fv-d",
        {"feature_version": "fv-d"},
        [{"clip_id": "d/x", "corpus": "d", "source": "x"}],
        [{"clip_id": "d/x", "source_sha256": "1", "status": "ok", "part": "p", "row": 0}],
    )
    commit(session, "two corpora", {})
    store = open_store(tmp_path / "s")
    only_c = store.catalog(feature_version="fv-test")
    assert set(only_c["corpus"]) == {"c"}
    assert only_c.set_index("clip_id").loc["c/a.mp4", "source_sha256"] == "0" * 64  # what fv-test read
    with pytest.raises(NotFoundError):
        store.catalog(corpus="d", feature_version="fv-test")


def test_a_file_is_not_a_store(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(StoreError, match="is a file"):
        open_repo(tmp_path / "f", create=True)


def test_table_updates_write_only_the_chunks_they_change(tmp_path: Path) -> None:
    repo = open_repo(tmp_path / "s", create=True)
    session = repo.writable_session("main")
    rows = [catalog_row(f"c/{i:05d}.mp4") for i in range(TABLE_CHUNK + 10)]
    record(session, "c", "fv-test", ATTRS, rows, [])
    commit(session, "many rows", {})
    session = repo.writable_session("main")
    record(session, "c", "fv-test", ATTRS, [catalog_row("c/00003.mp4", label="sad")], [])
    assert session.status().updated_chunks == {"/c/catalog/label": [[0]]}
    commit(session, "one label", {})
    session = repo.writable_session("main")
    record(session, "c", "fv-test", ATTRS, [catalog_row("c/zzz.mp4")], [])
    touched = session.status().updated_chunks
    assert set(touched) == {f"/c/catalog/{column}" for column in CATALOG_SCHEMA}  # a new row: every column
    assert all(chunks == [[1]] for chunks in touched.values())  # ... but only its last chunk
    commit(session, "one more clip", {})
    cat = open_store(tmp_path / "s").catalog("c")
    assert len(cat) == TABLE_CHUNK + 11
    assert list(cat["clip_id"]) == sorted(cat["clip_id"])
    assert cat.set_index("clip_id").loc["c/00003.mp4", "label"] == "sad"
