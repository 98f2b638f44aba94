"""The catalog as Parquet: every clip row with its labels, fold, status, feature version and run."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from emofeat.audit.export import COLUMNS, write_parquet
from emofeat.cli.app import app
from emofeat.errors import ConfigError, StoreError
from emofeat.store import open_store
from tests.audit.releases import ADDED, CHANGED, Releases


def test_each_release_exports_its_rows(releases: Releases, tmp_path: Path) -> None:
    for name, clips, label in (("v1", 4, "happiness"), ("v2", 5, "sadness")):
        store = open_store(releases.store, tag=name)
        out = write_parquet(store, tmp_path / f"{name}.parquet")
        frame = pd.read_parquet(out["path"])
        assert list(frame.columns) == list(COLUMNS)
        assert len(frame) == clips
        assert out["rows"] == {"rafdb": clips}
        by_clip = frame.set_index("clip_id")
        assert by_clip.loc[CHANGED, "label"] == label
        assert (ADDED in by_clip.index) == (name == "v2")
        fv = store.latest_version("rafdb")
        ledger = store.ledger("rafdb", fv)
        assert set(frame["feature_version"]) == {fv}
        assert by_clip["run"].to_dict() == ledger["run"].to_dict()
        assert set(frame["status"]) == {"ok"}
        assert set(frame["snapshot"]) == {store.snapshot}
        assert json.loads(by_clip.loc[CHANGED, "meta"])["image"] == "original"


def test_types_are_fixed_and_nullable(releases: Releases, tmp_path: Path) -> None:
    path = write_parquet(open_store(releases.store), tmp_path / "c.parquet")["path"]
    types = {f.name: str(f.type) for f in pq.read_schema(path)}
    assert types["fold"] == "int64"
    assert types["duration"] == "double"
    assert types["label"] == "string"
    frame = pq.read_table(path).to_pandas()
    assert frame["subject"].isna().all()  # RAF-DB names no people
    assert frame["fold"].notna().all()


def test_columns_are_selected_in_order(releases: Releases, tmp_path: Path) -> None:
    store = open_store(releases.store)
    path = write_parquet(store, tmp_path / "c.parquet", columns=["label", "clip_id", "label"])["path"]
    assert list(pd.read_parquet(path).columns) == ["label", "clip_id"]
    with pytest.raises(ConfigError, match=r"unknown column.*nope"):
        write_parquet(store, tmp_path / "d.parquet", columns=["nope"])
    assert not (tmp_path / "d.parquet").exists()


def test_an_existing_file_is_never_replaced_silently(releases: Releases, tmp_path: Path) -> None:
    target = tmp_path / "c.parquet"
    target.write_text("keep me")
    with pytest.raises(StoreError) as err:
        write_parquet(open_store(releases.store), target)
    assert err.value.kind == "exists"
    assert target.read_text() == "keep me"
    write_parquet(open_store(releases.store), target, overwrite=True)
    assert len(pd.read_parquet(target)) == 5
    assert [p.name for p in tmp_path.iterdir()] == ["c.parquet"]  # no staging file left


def test_the_cli_exports_and_selects(releases: Releases, tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "v1.parquet"
    args = ["catalog", "--store", str(releases.store), "--tag", "v1", "--parquet", str(target)]
    result = runner.invoke(app, [*args, "--columns", "clip_id,label,run", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rows"] == {"rafdb": 4}
    assert list(pd.read_parquet(target).columns) == ["clip_id", "label", "run"]
    again = runner.invoke(app, args)
    assert again.exit_code == 1
    assert "error (exists)" in again.output
    shown = runner.invoke(app, ["catalog", "--store", str(releases.store), "--columns", "clip_id,run"])
    assert shown.exit_code == 0, shown.output
    assert shown.output.split()[:2] == ["clip_id", "run"]
    bad = runner.invoke(app, ["catalog", "--store", str(releases.store), "--columns", "nope"])
    assert bad.exit_code == 1
    assert "error (config_invalid)" in bad.output
