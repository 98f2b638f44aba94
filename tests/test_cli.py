"""The CLI: ingest through the Prefect flow, read commands, and every error exit.

The CLI runs in-process (Typer's runner, not a terminal: progress is a line per checkpoint
on stderr) against the session's one Prefect server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from emofeat.cli.app import app
from tests.corpusgen import AV, VIDEO_ONLY_NO_FACE, Corpus
from tests.mediagen import corrupt, face_frames, write_video

runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@dataclass(frozen=True)
class FlowRuns:
    store: Path
    first: dict[str, Any]
    second: dict[str, Any]
    first_stderr: str


@pytest.fixture(scope="module")
def flow_runs(ravdess: Corpus, tmp_path_factory: pytest.TempPathFactory, prefect_api: str) -> FlowRuns:
    store = tmp_path_factory.mktemp("cli") / "store"
    args = (
        "ingest",
        "ravdess",
        ravdess.root,
        "--store",
        store,
        "--workers",
        "2",
        "--batch-size",
        "2",
        "--json",
    )
    first = invoke(*args)
    assert first.exit_code == 0, first.output
    second = invoke(*args)
    assert second.exit_code == 0, second.output
    return FlowRuns(store, json.loads(first.stdout), json.loads(second.stdout), first.stderr)


@pytest.mark.prefect
def test_ingest_json_through_the_prefect_flow(flow_runs: FlowRuns) -> None:
    first, second = flow_runs.first, flow_runs.second
    assert first["clips"]["failed"] == 0
    assert first["clips"]["ok"] >= 5
    assert first["feature_version"].startswith("fv-")
    assert len(first["snapshot"]) == 20
    assert second["clips"] == {"ok": 0, "failed": 0, "skipped": first["clips"]["ok"]}
    assert second["snapshot"] == first["snapshot"]
    assert first["ignored"] == {
        "count": 1,
        "by_reason": {
            "name is not MM-VV-EE-II-SS-RR-AA.mp4|wav": {"count": 1, "examples": ["Actor_01/README.txt"]}
        },
    }


@pytest.mark.prefect
def test_progress_reaches_the_library_through_the_flow(flow_runs: FlowRuns) -> None:
    lines = [line for line in flow_runs.first_stderr.splitlines() if line.startswith("checkpoint ")]
    assert lines, flow_runs.first_stderr
    ok = flow_runs.first["clips"]["ok"]
    assert lines[-1].startswith(f"checkpoint {len(lines)}/{len(lines)}: {ok} ok, 0 failed, 0 skipped, ")
    assert "hashing sources: " in flow_runs.first_stderr


@pytest.mark.prefect
def test_catalog_json_lines(flow_runs: FlowRuns) -> None:
    result = invoke("catalog", "--store", flow_runs.store, "--corpus", "ravdess", "--json")
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == flow_runs.first["clips"]["ok"]
    by_id = {r["clip_id"]: r for r in rows}
    av = by_id[f"ravdess/{AV}"]
    for key in ("clip_id", "corpus", "source", "subject", "sex", "label", "status", "error_kind", "error"):
        assert key in av
    assert (av["corpus"], av["source"], av["subject"], av["sex"], av["label"]) == (
        "ravdess",
        AV,
        "Actor_01",
        "male",
        "happy",
    )
    assert (av["status"], av["error_kind"], av["error"]) == ("ok", None, None)
    assert by_id[f"ravdess/{VIDEO_ONLY_NO_FACE}"]["face_ratio"] <= 0.1


@pytest.mark.prefect
def test_versions_and_history(flow_runs: FlowRuns) -> None:
    result = invoke("versions", "--store", flow_runs.store, "--features", "--json")
    assert result.exit_code == 0
    versions = [json.loads(line) for line in result.stdout.splitlines()]
    assert [v["feature_version"] for v in versions] == [flow_runs.first["feature_version"]]
    assert versions[0]["clips"]["ok"] == flow_runs.first["clips"]["ok"]
    assert versions[0]["config"]["video"]["frames"] == 16
    history = invoke("history", "--store", flow_runs.store, "--json")
    commits = [json.loads(line) for line in history.stdout.splitlines()]
    assert commits[0]["snapshot"] == flow_runs.first["snapshot"]
    assert commits[0]["metadata"]["emofeat"]["final"] is True


def test_failures_are_reported_and_exit_zero(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    write_video(root / "good.mp4", face_frames(3, size=(96, 128)), fps=3)
    corrupt(root / "bad.mp4", "text")
    result = invoke("ingest", "folder", root, "--store", tmp_path / "s", "--engine", "local")
    assert result.exit_code == 0
    assert "ok 1, failed 1, skipped 0" in result.stdout
    assert "failed folder/bad.mp4 at probe (unreadable)" in result.stdout
    rows = [json.loads(x) for x in invoke("catalog", "--store", tmp_path / "s", "--json").stdout.splitlines()]
    assert {r["source"]: r["sex"] for r in rows} == {"bad.mp4": None, "good.mp4": None}
    assert {r["source"]: r["status"] for r in rows} == {"bad.mp4": "failed", "good.mp4": "ok"}


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    write_video(root / "a.mp4", face_frames(2, size=(96, 128)), fps=2)
    result = invoke("ingest", "folder", root, "--store", tmp_path / "s", "--dry-run", "--json")
    assert result.exit_code == 0
    planned = json.loads(result.stdout)
    assert planned["clips"] == {"todo": 1, "skipped": 0}
    # The audio cost of this config, measured on this machine (timings: no order between them).
    cost = planned["audio_cost_ms_per_s"]
    assert set(cost) == {"all", "egemaps"}
    assert cost["all"] > 0
    assert cost["egemaps"] > 0
    assert not (tmp_path / "s").exists()
    text = invoke("ingest", "folder", root, "--store", tmp_path / "s", "--dry-run").stdout
    assert "ms per s of audio here (egemaps " in text


def test_ignored_files_are_counted_per_reason_with_a_few_examples(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    (root / "frames").mkdir(parents=True)
    write_video(root / "a.mp4", face_frames(2, size=(96, 128)), fps=2)
    for i in range(5):
        (root / "frames" / f"{i:05d}.npy").write_bytes(b"x")
    (root / "labels.csv").write_text("source,label\na.mp4,happy\ngone.mp4,sad\n")
    args = ("ingest", "folder", root, "--store", tmp_path / "s", "--dry-run")
    ignored = json.loads(invoke(*args, "--json").stdout)["ignored"]
    assert ignored == {
        "count": 7,
        "by_reason": {
            "label file": {"count": 1, "examples": ["labels.csv"]},
            "not a media file (unknown suffix)": {
                "count": 5,
                "examples": ["frames/00000.npy", "frames/00001.npy", "frames/00002.npy"],
            },
            "listed in labels.csv but no such media file": {"count": 1, "examples": ["gone.mp4"]},
        },
    }
    lines = invoke(*args).stdout.splitlines()
    assert lines[1].startswith("  audio features: ")
    assert lines[2:] == [
        "  ignored 7 files:",
        "    5  not a media file (unknown suffix): frames/00000.npy, frames/00001.npy, frames/00002.npy, ...",
        "    1  label file: labels.csv",
        "    1  listed in labels.csv but no such media file: gone.mp4",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ingest", "nosuch", "{root}", "--store", "{store}"), "unknown corpus 'nosuch'"),
        (("ingest", "folder", "{root}/missing", "--store", "{store}"), "is not a directory"),
        (("ingest", "folder", "{root}", "--store", "{store}", "--config", "{root}/c.toml"), "unknown key"),
        (("ingest", "folder", "{root}", "--store", "{store}", "--engine", "spark"), "--engine must be"),
        (("catalog", "--store", "{root}/nostore"), "no emofeat store"),
        (("versions", "--store", "{root}/nostore"), "no emofeat store"),
        (("catalog", "--store", "{store}", "--snapshot", "nope"), "no snapshot, tag or branch"),
        (("catalog", "--store", "{store}", "--corpus", "ravdess"), "not in this store"),
    ],
)
def test_error_exits_are_readable(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "c.toml").write_text("[audio]\nmfcc = 3\n")
    store = tmp_path / "store"
    write_video(root / "a.mp4", face_frames(2, size=(96, 128)), fps=2)
    assert invoke("ingest", "folder", root, "--store", store, "--engine", "local").exit_code == 0
    result = invoke(*(a.format(root=root, store=store) for a in args))
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stderr.startswith("emofeat: error (")
    assert "Traceback" not in result.output


PAPER_CORPORA = {
    "enterface",
    "ravdess",
    "cremad",
    "savee",
    "emodb",
    "afew",
    "ckplus",
    "affwild2",
    "recola",
    "fgemotions",
    "rafdb",
    "affectnet",
}


def test_corpora_lists_every_adapter_with_layout_and_labels() -> None:
    result = invoke("corpora", "--json")
    rows = {r["name"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert PAPER_CORPORA | {"folder"} <= set(rows)
    for name in PAPER_CORPORA:
        assert rows[name]["layout"]
        assert rows[name]["licence"]
        assert set(rows[name]["unified"]) == set(rows[name]["labels"])
    assert rows["emodb"]["unified"]["boredom"] == "boredom"


def test_manifest_lists_clips_and_skips_without_opening_media(tmp_path: Path) -> None:
    root = tmp_path / "wav"
    root.mkdir()
    (root / "03a01Fa.wav").write_bytes(b"not audio at all")  # never opened
    (root / "08b02Tc.wav").write_bytes(b"")
    (root / "notes.txt").write_text("x")
    result = invoke("manifest", "emodb", tmp_path, "--json")
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    clips = {r["source"]: r for r in rows if "skip_reason" not in r}
    skips = {r["source"]: r["skip_reason"] for r in rows if "skip_reason" in r}
    assert set(clips) == {"wav/03a01Fa.wav", "wav/08b02Tc.wav"}
    first = clips["wav/03a01Fa.wav"]
    assert (first["subject"], first["sex"], first["label"], first["unified"]) == (
        "03",
        "male",
        "happiness",
        "happy",
    )
    assert clips["wav/08b02Tc.wav"]["sex"] == "female"
    assert {r["fold"] for r in clips.values()} <= set(range(5))
    assert "wav/notes.txt" in skips
    assert invoke("manifest", "nosuch", tmp_path).exit_code == 1


def test_max_megapixels_refuses_larger_frames(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    write_video(root / "a.mp4", face_frames(2, size=(96, 128)), fps=2)  # 0.012 megapixels
    store = tmp_path / "s"
    args = ("ingest", "folder", root, "--store", store, "--engine", "local", "--json")
    refused = invoke(*args, "--max-megapixels", "0.01")
    assert refused.exit_code == 0, refused.output
    assert [f["error_kind"] for f in json.loads(refused.stdout)["failures"]] == ["too_large"]
    bad = invoke(*args, "--max-megapixels", "0")
    assert bad.exit_code == 1
    assert "max_megapixels must be > 0" in bad.stderr


@pytest.mark.prefect
def test_max_megapixels_reaches_the_prefect_flow(tmp_path: Path, prefect_api: str) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    write_video(root / "a.mp4", face_frames(2, size=(96, 128)), fps=2)
    result = invoke("ingest", "folder", root, "--store", tmp_path / "s", "--max-megapixels", "0.01", "--json")
    assert result.exit_code == 0, result.output
    assert [f["error_kind"] for f in json.loads(result.stdout)["failures"]] == ["too_large"]
