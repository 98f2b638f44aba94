"""Commits from several processes: serialised by the store's lock, never lost, never stuck."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from emofeat.errors import StoreError
from emofeat.store import commit, commit_lock, open_repo, open_store, record
from emofeat.store.repo import LOCK_NAME

ATTRS = {"feature_version": "fv-t", "created": "2026-01-01T00:00:00+00:00"}

#: One process: open (or create) the store, then ``n`` checkpoints of one clip each.
WRITER = """
    import sys
    from emofeat.store import commit, open_repo, record
    path, corpus, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    repo = open_repo(path, create=True)
    for i in range(n):
        session = repo.writable_session("main")
        clip = f"{corpus}/{i}.wav"
        record(session, corpus, "fv-t", {"feature_version": "fv-t"},
               [{"clip_id": clip, "corpus": corpus, "source": f"{i}.wav"}],
               [{"clip_id": clip, "status": "ok", "part": "p", "row": i}])
        commit(session, f"{corpus} {i}", {"writer": corpus}, store=path)
"""


def test_two_processes_committing_at_once_lose_nothing(tmp_path: Path) -> None:
    store, n = tmp_path / "new-store", 15
    writers = [
        subprocess.Popen([sys.executable, "-c", textwrap.dedent(WRITER), str(store), corpus, str(n)])
        for corpus in ("a", "b")
    ]
    assert [w.wait(timeout=180) for w in writers] == [0, 0]  # both created the store, both committed
    opened = open_store(store)
    assert opened.corpora() == ["a", "b"]
    for corpus in ("a", "b"):
        catalog = opened.catalog(corpus)
        assert list(catalog["clip_id"]) == sorted(f"{corpus}/{i}.wav" for i in range(n))
        assert (catalog["status"] == "ok").all()
    writers_seen = [c.metadata.get("writer") for c in opened.history()]
    assert writers_seen.count("a") == writers_seen.count("b") == n  # every commit is in the history
    assert not [p for p in tmp_path.iterdir() if p.name != "new-store"]  # no staging directory left


def test_runs_on_different_corpora_of_a_new_store_do_not_conflict(tmp_path: Path) -> None:
    repo = open_repo(tmp_path / "s", create=True)
    first, second = repo.writable_session("main"), repo.writable_session("main")
    for session, corpus in ((first, "c"), (second, "d")):
        clip = f"{corpus}/x.wav"
        record(
            session,
            corpus,
            "fv-t",
            ATTRS,
            [{"clip_id": clip, "corpus": corpus, "source": "x.wav"}],
            [{"clip_id": clip, "status": "ok", "part": "p", "row": 0}],
        )
    assert not any(p in ("/", "") for p in first.status().updated_groups)
    assert commit(first, "c", {}, store=tmp_path / "s") is not None
    assert commit(second, "d", {}, store=tmp_path / "s") is not None  # rebased onto c's commit
    assert open_store(tmp_path / "s").corpora() == ["c", "d"]
    assert open_store(tmp_path / "s").history()[-2].message == "emofeat store (layout 1)"


def test_a_held_lock_times_out_naming_its_holder_and_dies_with_it(tmp_path: Path) -> None:
    open_repo(tmp_path / "s", create=True)
    hold = f"""
        import time
        from emofeat.store import commit_lock
        with commit_lock({str(tmp_path / "s")!r}):
            print("held", flush=True)
            time.sleep(60)
    """
    command = [sys.executable, "-c", textwrap.dedent(hold)]
    holder = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        locked = rf"locked by another commit \(pid {holder.pid} "
        with pytest.raises(StoreError, match=locked) as info, commit_lock(tmp_path / "s", timeout=0.3):
            pass
        assert info.value.kind == "store_locked"
        assert 0.3 <= time.monotonic() - started < 5
        repo = open_repo(tmp_path / "s")
        session = repo.writable_session("main")
        record(session, "c", "fv-t", ATTRS, [{"clip_id": "c/x", "corpus": "c"}], [])
        with pytest.raises(StoreError) as blocked:
            commit(session, "waits", {}, store=tmp_path / "s", lock_timeout=0.2)
        assert blocked.value.kind == "store_locked"
    finally:
        holder.kill()  # SIGKILL: the kernel releases its flock
        holder.wait()
    with commit_lock(tmp_path / "s", timeout=2):
        assert (tmp_path / "s" / LOCK_NAME).read_text().startswith(f"pid {os.getpid()} ")
    assert commit(session, "after the holder died", {}, store=tmp_path / "s") is not None


def test_a_new_store_is_not_made_in_a_directory_that_has_files(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / LOCK_NAME).write_text("")
    with pytest.raises(StoreError, match="not empty"):
        open_repo(tmp_path / "full", create=True)
    (tmp_path / "empty").mkdir()
    open_repo(tmp_path / "empty", create=True)
    assert open_store(tmp_path / "empty").corpora() == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "full"]
