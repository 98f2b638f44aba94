"""``audit``: an untouched store passes; a corrupted source and an altered array are caught.

Each test audits a copy of the releases store (and of its corpus root, passed as the root
override, so the session's fixture stays untouched). Re-extraction runs in worker processes.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr
from typer.testing import CliRunner

from emofeat.audit.verify import DEFAULT_SAMPLE, AuditReport, audit, compare_arrays
from emofeat.cli import audit_cmds
from emofeat.cli.app import app
from emofeat.errors import ConfigError, NotFoundError
from emofeat.store import BRANCH, commit, open_repo, open_store
from emofeat.store.layout import version_path
from tests.audit.releases import Releases, clip_id

CORPUS = "rafdb"
ALTERED = clip_id("train_00003")
runner = CliRunner()


@dataclass(frozen=True)
class Copy:
    store: Path
    root: Path

    def audit(self, **kwargs: Any) -> AuditReport:
        return audit(self.store, roots={CORPUS: self.root}, **kwargs)

    def cli(self, *args: str) -> Any:
        argv = ["audit", "--store", str(self.store), "--root", str(self.root), *args]
        return runner.invoke(app, argv, catch_exceptions=False)


@pytest.fixture
def copy(releases: Releases, tmp_path: Path) -> Copy:
    shutil.copytree(releases.store, tmp_path / "store")
    shutil.copytree(releases.root, tmp_path / "RAF-DB")
    return Copy(tmp_path / "store", tmp_path / "RAF-DB")


def kinds(report: AuditReport) -> set[tuple[str, str | None, str | None]]:
    return {(f.kind, f.clip, f.key) for f in report.findings}


def test_an_untouched_store_passes_with_bit_identical_re_extraction(copy: Copy) -> None:
    report = copy.audit()
    assert report.passed, [f.message for f in report.findings]
    assert report.notes == []
    (one,) = report.corpora
    assert one.feature_version == open_store(copy.store).latest_version(CORPUS)
    assert one.sampled == sorted(open_store(copy.store).ledger(CORPUS, one.feature_version).index)
    assert one.checked == {"parts": 3, "sources": 5, "reextracted": 5}
    assert report.snapshot == open_store(copy.store, tag="v2").snapshot


def test_the_sample_is_deterministic_and_sorted(copy: Copy) -> None:
    first = copy.audit(sample=2, seed=7).corpora[0].sampled
    assert first == sorted(first)
    assert len(first) == 2
    assert copy.audit(sample=2, seed=7).corpora[0].sampled == first


def test_a_corrupted_source_file_is_caught(copy: Copy) -> None:
    path = copy.root / "basic/Image/original/train_00003.jpg"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    report = copy.audit()
    assert not report.passed
    assert ("source_changed", ALTERED, "source") in kinds(report)
    assert {f.clip for f in report.findings} == {ALTERED}  # and only there


def test_a_missing_source_file_is_caught(copy: Copy) -> None:
    (copy.root / "basic/Image/original/train_00003.jpg").unlink()
    found = kinds(copy.audit())
    assert ("source_missing", ALTERED, "source") in found
    assert ("not_reextracted", ALTERED, None) in found


def test_an_altered_stored_array_is_caught_by_its_checksum_and_by_re_extraction(copy: Copy) -> None:
    fv = open_store(copy.store).latest_version(CORPUS)
    entry = open_store(copy.store).ledger(CORPUS, fv).loc[ALTERED]
    repo = open_repo(copy.store)
    session = repo.writable_session(BRANCH)
    part = zarr.open_group(session.store, mode="a")[f"{version_path(CORPUS, fv)}/parts/{entry['part']}"]
    start = int(part["face_bbox.offsets"][int(entry["row"])])
    part["face_bbox"][start, 2] = float(part["face_bbox"][start, 2]) + 0.5
    commit(session, "tamper with one value", {}, store=copy.store)

    report = copy.audit()
    assert not report.passed
    assert ("checksum", ALTERED, "face_bbox") in kinds(report)
    (values,) = [f for f in report.findings if f.kind == "values"]
    assert (values.clip, values.key, values.differing) == (ALTERED, "face_bbox", 1)
    assert values.max_abs_diff == pytest.approx(0.5)
    assert {f.clip for f in report.findings} == {ALTERED}


def test_a_version_from_another_implementation_cannot_be_re_extracted(copy: Copy) -> None:
    fv = open_store(copy.store).latest_version(CORPUS)
    session = open_repo(copy.store).writable_session(BRANCH)
    version = zarr.open_group(session.store, mode="a")[version_path(CORPUS, fv)]
    version.attrs["implementation"] = dict(version.attrs["implementation"]) | {"faces": "0"}
    commit(session, "pretend an older extractor", {}, store=copy.store)
    report = copy.audit()
    (finding,) = report.findings
    assert finding.kind == "cannot_reextract"
    assert "faces" in finding.message


def test_compare_arrays_sizes_the_difference() -> None:
    a = np.array([[0.0, np.nan], [1.0, 2.0]], np.float32)
    assert compare_arrays("c", "k", a, a.copy()) == []
    b = a.copy()
    b[1] = [1.25, np.nan]
    (finding,) = compare_arrays("c", "k", a, b)
    assert (finding.differing, finding.max_abs_diff) == (2, np.inf)  # NaN against 2.0
    assert compare_arrays("c", "k", a, b[:1])[0].kind == "shape"
    assert compare_arrays("c", "k", a, a.astype(np.float64))[0].kind == "dtype"
    b[1] = [1.25, 2.0]
    assert compare_arrays("c", "k", a, b, tolerance=0.5) == []


def test_bad_arguments_raise(copy: Copy) -> None:
    with pytest.raises(NotFoundError):
        copy.audit(corpus="nope")
    with pytest.raises(ConfigError):
        copy.audit(sample=-1)
    with pytest.raises(ConfigError):
        audit(copy.store, roots={"nope": copy.root})


def test_the_cli_exits_0_on_a_clean_store_and_1_on_differences(copy: Copy) -> None:
    assert audit_cmds.DEFAULT_SAMPLE == DEFAULT_SAMPLE
    clean = copy.cli("--json", "--sample", "3", "--seed", "1")
    assert clean.exit_code == 0, clean.output
    (line,) = clean.stdout.splitlines()
    data = json.loads(line)
    assert data["passed"]
    assert data["findings"] == []
    assert len(data["corpora"][0]["sampled"]) == 3
    assert "audit: re-extraction: 3" in clean.stderr  # progress, one line per phase

    (copy.root / "basic/Image/original/train_00003.jpg").write_bytes(b"not a jpeg")
    dirty = copy.cli()
    assert dirty.exit_code == 1
    assert f"source_changed: {ALTERED}" in dirty.stdout
    assert "audit found" in dirty.stdout
    assert "error (audit_failed)" in dirty.stderr


def test_the_cli_error_exits(copy: Copy) -> None:
    unknown = copy.cli("--corpus", "nope")
    assert unknown.exit_code == 1
    assert "error (not_found)" in unknown.stderr
    both = copy.cli("--snapshot", "main", "--tag", "v2")
    assert both.exit_code == 1
    assert "error (config_invalid)" in both.stderr
    passed = runner.invoke(
        app, ["audit", "--store", str(copy.store), "--tag", "v1", "--root", str(copy.root)]
    )
    assert passed.exit_code == 0, passed.output
    assert "audit passed: 4 of 4 clips" in passed.stdout
