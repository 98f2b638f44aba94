"""Catalog and ledger tables at scale: a checkpoint costs the rows it changes, not the table."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import icechunk
import pandas as pd
import pytest
import zarr
from zarr.abc.store import ByteRequest
from zarr.core.buffer import Buffer, BufferPrototype
from zarr.storage import WrapperStore

from emofeat.errors import StoreError
from emofeat.store import commit, open_repo, open_store, read_ledger, read_root, record
from emofeat.store.tables import CATALOG_SCHEMA, TABLE_CHUNK, ColumnType, read_table, update_table

ATTRS = {"feature_version": "fv-t", "created": "2026-01-01T00:00:00+00:00"}
SCHEMA: dict[str, ColumnType] = {"clip_id": "str", "label": "str", "frames": "int", "duration": "float"}


class ReadLog(WrapperStore[Any]):
    """A store that passes everything through and remembers the keys it was asked to read."""

    def __init__(self, store: Any) -> None:
        super().__init__(store)
        self.keys: list[str] = []

    async def get(
        self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None
    ) -> Buffer | None:
        self.keys.append(key)
        return await super().get(key, prototype, byte_range)

    def chunk_reads(self, table: str) -> dict[str, set[int]]:
        """Column -> chunk numbers read from ``table``."""
        out: dict[str, set[int]] = {}
        for key in self.keys:
            head, sep, chunk = key.rpartition("/c/")
            if sep and head.startswith(table + "/"):
                out.setdefault(head.removeprefix(table + "/"), set()).add(int(chunk))
        return out


def rows(ids: range | list[int], label: str = "happy", frames: int = 3) -> list[dict[str, Any]]:
    return [{"clip_id": f"c/{i:07d}", "label": label, "frames": frames, "duration": 1.5} for i in ids]


def table(session: icechunk.Session, store: Any = None) -> zarr.Group:
    return zarr.open_group(store if store is not None else session.store, mode="a").require_group("c")


def stored(path: str | Path) -> pd.DataFrame:
    """The table ``c/t`` at the tip of the store at ``path``."""
    root = read_root(open_repo(path).readonly_session(branch="main").store)
    assert root is not None
    group = root["c/t"]
    assert isinstance(group, zarr.Group)
    return read_table(group, SCHEMA)


def committed_table(path: Path, n: int) -> icechunk.Repository:
    repo = open_repo(path, create=True)
    session = repo.writable_session("main")
    update_table(table(session), "t", rows(range(n)), SCHEMA)
    commit(session, "table", {}, store=path)
    return repo


def test_a_checkpoint_reads_and_writes_only_the_chunks_of_its_rows(tmp_path: Path) -> None:
    n = 3 * TABLE_CHUNK + 5
    repo = committed_table(tmp_path / "s", n)
    session = repo.writable_session("main")
    update_table(table(session), "t", rows([7]), SCHEMA)  # the run's first checkpoint: builds the index
    session = repo.writable_session("main")
    log = ReadLog(session.store)
    changed = [TABLE_CHUNK + 1, TABLE_CHUNK + 2]  # both in chunk 1
    assert update_table(table(session, log), "t", rows(changed, label="sad") + rows([n, n + 1]), SCHEMA)
    reads = log.chunk_reads("c/t")
    # chunk 1 for the changed rows; chunk 3 (the last) to check the index's last row and to append
    assert set().union(*reads.values()) <= {1, 3}
    assert reads["label"] == {1, 3}
    assert session.status().updated_chunks == {
        "/c/t/label": [[1], [3]],
        "/c/t/clip_id": [[3]],
        "/c/t/frames": [[3]],
        "/c/t/duration": [[3]],
    }
    commit(session, "checkpoint", {}, store=tmp_path / "s")
    back = stored(tmp_path / "s")
    assert len(back) == n + 2
    assert back["clip_id"].is_unique
    assert list(back["clip_id"]) == sorted(back["clip_id"])
    assert back.set_index("clip_id").loc[f"c/{TABLE_CHUNK + 1:07d}", "label"] == "sad"


def test_rewriting_a_whole_checkpoint_writes_nothing(tmp_path: Path) -> None:
    repo = committed_table(tmp_path / "s", TABLE_CHUNK + 100)
    session = repo.writable_session("main")
    assert not update_table(table(session), "t", rows(range(0, TABLE_CHUNK + 100, 7)), SCHEMA)
    assert not session.has_uncommitted_changes
    as_float = [row | {"frames": 3.0} for row in rows([3])]  # the same value, another type
    assert not update_table(table(session), "t", as_float, SCHEMA)
    assert not session.has_uncommitted_changes


def test_rows_another_process_appended_are_found_not_duplicated(tmp_path: Path) -> None:
    path = tmp_path / "s"
    repo = committed_table(path, 10)
    session = repo.writable_session("main")
    update_table(table(session), "t", rows([10, 11]), SCHEMA)  # this process's index: 12 rows
    commit(session, "two more", {}, store=path)
    other = f"""
        import zarr
        from emofeat.store import commit, open_repo
        from emofeat.store.tables import update_table
        repo = open_repo({str(path)!r})
        session = repo.writable_session("main")
        group = zarr.open_group(session.store, mode="a").require_group("c")
        update_table(group, "t", [{{"clip_id": "c/0000012"}}, {{"clip_id": "c/0000013"}}], {SCHEMA!r})
        commit(session, "other process", {{}}, store={str(path)!r})
    """
    subprocess.run([sys.executable, "-c", textwrap.dedent(other)], check=True, timeout=120)
    session = repo.writable_session("main")
    update_table(table(session), "t", rows([12, 14], label="angry"), SCHEMA)
    commit(session, "after the other", {}, store=path)
    back = stored(path)
    assert list(back["clip_id"]) == [f"c/{i:07d}" for i in range(15)]
    assert back.set_index("clip_id").loc["c/0000012", "label"] == "angry"


def test_rows_of_a_commit_that_lost_a_race_are_not_remembered(tmp_path: Path) -> None:
    path = tmp_path / "s"
    repo = committed_table(path, 10)
    first, second = repo.writable_session("main"), repo.writable_session("main")
    update_table(table(first), "t", rows([10]), SCHEMA)
    update_table(table(second), "t", rows([11]), SCHEMA)  # the same row number as c/0000010
    commit(first, "first", {}, store=path)
    with pytest.raises(StoreError) as info:
        commit(second, "second", {}, store=path)
    assert info.value.kind == "commit_conflict"
    assert "/c/t/" in str(info.value)  # names what conflicted
    again = repo.writable_session("main")
    update_table(table(again), "t", rows([11, 10]), SCHEMA)  # 11 is new; 10 is stored, unchanged
    assert again.status().updated_chunks == {f"/c/t/{column}": [[0]] for column in SCHEMA}
    commit(again, "second again", {}, store=path)
    back = stored(path)
    assert list(back["clip_id"]) == [f"c/{i:07d}" for i in range(12)]


def test_a_column_added_to_the_schema_costs_nothing_until_written(tmp_path: Path) -> None:
    repo = committed_table(tmp_path / "s", TABLE_CHUNK + 3)
    wider: dict[str, ColumnType] = SCHEMA | {"run": "str", "audio_start": "float"}
    session = repo.writable_session("main")
    assert not update_table(table(session), "t", rows([1, 2]), wider)  # null in both: nothing to write
    assert not session.has_uncommitted_changes
    assert update_table(table(session), "t", [rows([TABLE_CHUNK + 1])[0] | {"run": "r1"}], wider)
    assert session.status().updated_chunks == {"/c/t/run": [[1]]}
    group = table(session)["t"]
    assert isinstance(group, zarr.Group)
    back = read_table(group, wider).set_index("clip_id")
    assert back.loc[f"c/{TABLE_CHUNK + 1:07d}", "run"] == "r1"
    assert back["run"].isna().sum() == TABLE_CHUNK + 2
    assert back["audio_start"].isna().all()


def test_a_table_from_before_table_ids_is_updated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "s"
    repo = committed_table(path, 20)
    session = repo.writable_session("main")
    del table(session)["t"].attrs["table_id"]  # as an older release wrote it
    commit(session, "old layout", {}, store=path)
    session = repo.writable_session("main")
    assert not update_table(table(session), "t", rows([4]), SCHEMA)
    assert update_table(table(session), "t", rows([4], label="calm") + rows([20]), SCHEMA)
    group = table(session)["t"]
    assert isinstance(group, zarr.Group)
    assert isinstance(group.attrs["table_id"], str)
    back = read_table(group, SCHEMA)
    assert list(back["clip_id"]) == [f"c/{i:07d}" for i in range(21)]
    assert back.set_index("clip_id").loc["c/0000004", "label"] == "calm"


def test_a_table_whose_keys_contradict_the_index_is_reindexed(tmp_path: Path) -> None:
    """A copy of a store shares its tables' ids; writing both from one process stays right."""
    path, copy = tmp_path / "s", tmp_path / "copy"
    committed_table(path, 10)
    subprocess.run(["cp", "-r", str(path), str(copy)], check=True)
    for where, new in ((path, 10), (copy, 11), (path, 11)):
        repo = open_repo(where)
        session = repo.writable_session("main")
        update_table(table(session), "t", rows([new]), SCHEMA)
        commit(session, f"c/{new}", {}, store=where)
    for where, expected in ((path, range(12)), (copy, [*range(10), 11])):
        back = stored(where)
        assert list(back["clip_id"]) == [f"c/{i:07d}" for i in expected]


def test_record_keeps_the_ledger_and_catalog_sorted_for_readers(tmp_path: Path) -> None:
    repo = open_repo(tmp_path / "s", create=True)
    for batch in ([5, 3], [9, 1], [4]):
        session = repo.writable_session("main")
        ids = [f"c/{i}.wav" for i in batch]
        record(
            session,
            "c",
            "fv-t",
            ATTRS,
            [{"clip_id": i, "corpus": "c", "source": i[2:]} for i in ids],
            [{"clip_id": i, "status": "ok", "part": "p", "row": 0} for i in ids],
        )
        commit(session, "batch", {}, store=tmp_path / "s")
    ledger = read_ledger(read_root(repo.readonly_session(branch="main").store), "c", "fv-t")
    assert list(ledger["clip_id"]) == [f"c/{i}.wav" for i in (1, 3, 4, 5, 9)]
    catalog = open_store(tmp_path / "s").catalog("c")
    assert list(catalog["clip_id"]) == list(ledger["clip_id"])
    assert set(CATALOG_SCHEMA) <= set(catalog.columns)
