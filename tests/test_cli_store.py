"""The retention commands: ``versions`` (snapshots, ``--features``), ``versions drop`` and
``gc``, and their error exits, on copies of the session's two-release store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from emofeat.cli.app import app
from emofeat.store import open_store
from tests.audit.conftest import releases  # noqa: F401  (the session's two-release store)
from tests.audit.releases import Releases

runner = CliRunner()


def invoke(*args: object) -> Any:
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def lines(result: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture
def store(releases: Releases, tmp_path: Path) -> Path:  # noqa: F811
    copy = tmp_path / "store"
    shutil.copytree(releases.store, copy, symlinks=True)
    return copy


def test_versions_lists_snapshots_newest_first(releases: Releases) -> None:  # noqa: F811
    result = invoke("versions", "--store", releases.store, "--json")
    assert result.exit_code == 0, result.output
    found = lines(result)
    assert found[0]["tags"] == ["v2"]
    assert found[0]["feature_version"] == releases.v2.feature_version
    v1 = next(s for s in found if s["tags"] == ["v1"])
    assert (v1["kind"], v1["corpus"], v1["counts"]["ok"]) == ("ingest", "rafdb", 4)
    assert v1["snapshot"] == open_store(releases.store, tag="v1").snapshot
    text = invoke("versions", "--store", releases.store).stdout.splitlines()
    assert len(text) == len(found)
    assert text[0].startswith(found[0]["snapshot"])
    assert text[0].endswith("[v2]")


def test_versions_features_keeps_the_feature_version_listing(releases: Releases) -> None:  # noqa: F811
    result = invoke("versions", "--store", releases.store, "--features", "--json")
    assert result.exit_code == 0, result.output
    assert [v["feature_version"] for v in lines(result)] == [
        releases.v1.feature_version,
        releases.v2.feature_version,
    ]
    at_v1 = invoke("versions", "--store", releases.store, "--features", "--tag", "v1", "--json")
    assert [(v["feature_version"], v["clips"]["ok"]) for v in lines(at_v1)] == [
        (releases.v1.feature_version, 4)
    ]
    text = invoke("versions", "--store", releases.store, "--features", "--corpus", "rafdb").stdout
    assert text.splitlines()[0] == f"{releases.v1.feature_version}  rafdb  ok=4 failed=0"


def test_drop_then_gc_frees_and_keeps_the_tags(store: Path, releases: Releases) -> None:  # noqa: F811
    fv1 = releases.v1.feature_version
    tip = open_store(store).snapshot
    dry = invoke("versions", "drop", fv1, "--store", store, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.splitlines() == [
        f"would drop rafdb {fv1} from main",
        f"snapshots up to {tip} still read it until they expire; tags v1, v2 still read it",
    ]
    assert open_store(store).snapshot == tip

    dropped = invoke("versions", "drop", fv1, "--store", store, "--json")
    assert dropped.exit_code == 0, dropped.output
    (made,) = lines(dropped)
    assert made["snapshot"] == open_store(store).snapshot != tip
    assert made["tags"] == ["v1", "v2"]
    features = invoke("versions", "--store", store, "--features", "--json")
    assert [v["feature_version"] for v in lines(features)] == [releases.v2.feature_version]

    preview = invoke("gc", "--store", store, "--keep-tags", "--grace-hours", "0", "--dry-run")
    assert preview.exit_code == 0, preview.output
    assert preview.stdout.startswith("would expire ")
    assert "kept: branch emofeat-tags, branch main, tag v1, tag v2" in preview.stdout
    assert "expiring snapshots older than" in preview.stderr  # a line per phase

    collected = invoke("gc", "--store", store, "--older-than", "0", "--grace-hours", "0", "--json")
    assert collected.exit_code == 0, collected.output
    (report,) = lines(collected)
    assert report["dry_run"] is False
    assert report["expired"]
    assert report["snapshots_deleted"] > 0
    assert report["kept"]["tag v1"] == open_store(releases.store, tag="v1").snapshot
    at_v1 = invoke("versions", "--store", store, "--features", "--tag", "v1", "--json")
    assert [v["feature_version"] for v in lines(at_v1)] == [fv1]
    listing = lines(invoke("versions", "--store", store, "--json"))
    assert {s["snapshot"] for s in listing} >= {report["kept"]["tag v1"], report["kept"]["tag v2"]}
    assert not set(report["expired"]) & {s["snapshot"] for s in listing}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("versions", "drop", "fv-nope", "--store", "{store}"), "(not_found): no feature version 'fv-nope'"),
        (("versions", "drop", "fv-x", "--store", "{store}", "--corpus", "no"), "(not_found): no feature"),
        (("versions", "drop", "fv-x", "--store", "{root}/nostore"), "(not_found): no emofeat store"),
        (("versions", "--store", "{store}", "--features", "--tag", "nope"), "(not_found): no tag named"),
        (("versions", "--store", "{store}", "--tag", "v1"), "(config_invalid): --corpus, --snapshot"),
        (("versions", "--store", "{root}/nostore"), "(not_found): no emofeat store"),
        (("gc", "--store", "{root}/nostore"), "(not_found): no emofeat store"),
    ],
)
def test_error_exits_are_readable(store: Path, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = invoke(*(a.format(store=store, root=tmp_path) for a in args))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"emofeat: error {message}"), result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_usage_errors_exit_2(store: Path) -> None:
    assert invoke("versions").exit_code == 2  # --store is required for the listing
    assert invoke("gc", "--store", store, "--older-than", "-1").exit_code == 2
