"""Progress without a terminal: the calls a run makes, and the line per checkpoint they print."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from typer.testing import CliRunner

from emofeat.cli.app import app
from emofeat.cli.progress import LineProgress, Meter, format_duration, format_rate, open_progress
from emofeat.options import RunOptions
from emofeat.pipeline import ingest
from tests.mediagen import corrupt, face_frames, write_video

runner = CliRunner()


class Recorder:
    """A :class:`~emofeat.pipeline.progress.Progress` that keeps every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def phase(self, name: str, total: int | None) -> None:
        self.calls.append(("phase", name, total))

    def advance(self, ok: int = 0, failed: int = 0) -> None:
        self.calls.append(("advance", ok, failed))

    def checkpoint(self, index: int, total: int, counts: Mapping[str, int]) -> None:
        self.calls.append(("checkpoint", index, total, dict(counts)))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_corpus(root: Path, good: int = 3) -> Path:
    root.mkdir()
    for i in range(good):
        write_video(root / f"c{i}.mp4", face_frames(2, size=(96, 128), seed=i), fps=2)
    corrupt(root / "bad.mp4", "text")
    return root


def test_format_duration_and_rate() -> None:
    assert [format_duration(s) for s in (0, 44.6, 130, 3 * 3600 + 7 * 60 + 5, -3)] == [
        "0s",
        "45s",
        "2m10s",
        "3h07m",
        "0s",
    ]
    assert [format_rate(r) for r in (0.0, 1.26, 0.042, 12.0)] == ["0.0", "1.3", "0.042", "12.0"]


def test_meter_rate_and_eta() -> None:
    meter = Meter(total=10, started=0.0)
    assert meter.rate(5.0) is None
    assert meter.eta(5.0) is None
    meter.done = 4
    assert meter.rate(2.0) == 2.0
    assert meter.eta(2.0) == 3.0
    meter.done = 10
    assert meter.eta(9.0) == 0.0
    assert Meter(total=None, started=0.0).eta(1.0) is None


def test_line_progress_prints_one_line_per_phase_and_checkpoint() -> None:
    out, clock = io.StringIO(), Clock()
    progress = LineProgress(out, clock=clock)
    progress.phase("scan", None)
    progress.phase("hash", 130)
    progress.advance(130)
    progress.phase("ingest", 40)
    clock.now += 20.0
    progress.advance(24, 1)  # no line: the checkpoint reports
    progress.checkpoint(3, 10, {"ok": 24, "failed": 1, "skipped": 120})
    clock.now += 10.0
    progress.checkpoint(10, 10, {"ok": 38, "failed": 2, "skipped": 120})
    assert out.getvalue().splitlines() == [
        "scanning the corpus",
        "hashing sources: 130 sources",
        "ingesting clips: 40 clips",
        "checkpoint 3/10: 24 ok, 1 failed, 120 skipped, 1.2 clips/s, ETA 12s",
        "checkpoint 10/10: 38 ok, 2 failed, 120 skipped, 1.3 clips/s, ETA 0s",
    ]


def test_line_progress_with_nothing_processed_yet() -> None:
    out = io.StringIO()
    progress = LineProgress(out, clock=Clock())
    progress.phase("ingest", 0)
    progress.checkpoint(1, 1, {"ok": 0, "failed": 0, "skipped": 6})
    assert out.getvalue().splitlines()[-1] == "checkpoint 1/1: 0 ok, 0 failed, 6 skipped, 0.0 clips/s, ETA 0s"


def test_open_progress_without_a_terminal_is_the_line_log() -> None:
    out = io.StringIO()
    with open_progress(out) as progress:
        assert isinstance(progress, LineProgress)


def test_ingest_reports_phases_advances_and_checkpoints(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "corpus")
    recorder = Recorder()
    options = RunOptions(batch_size=1, checkpoint_every=2, workers=2)  # two batches at once
    summary = ingest("folder", root, tmp_path / "store", options=options, progress=recorder)
    assert summary.clips == {"ok": 3, "failed": 1, "skipped": 0}
    phases = [c for c in recorder.calls if c[0] == "phase"]
    assert phases == [("phase", "scan", None), ("phase", "hash", 4), ("phase", "ingest", 4)]
    hash_at, ingest_at = recorder.calls.index(phases[1]), recorder.calls.index(phases[2])
    # every source hashed is one unit (the broken file is readable bytes: hashing succeeds)
    assert recorder.calls[hash_at + 1 : ingest_at] == [("advance", 1, 0)] * 4
    after = recorder.calls[ingest_at + 1 :]
    # one advance per batch (of one clip), in job order: bad.mp4, c0, c1, c2
    assert [c for c in after if c[0] == "advance"] == [("advance", 0, 1)] + [("advance", 1, 0)] * 3
    checkpoints = [c for c in after if c[0] == "checkpoint"]
    assert checkpoints == [
        ("checkpoint", 1, 2, {"ok": 1, "failed": 1, "skipped": 0}),
        ("checkpoint", 2, 2, {"ok": 3, "failed": 1, "skipped": 0}),
    ]
    # each checkpoint follows the advances of its own batches
    assert [c[0] for c in after] == ["advance", "advance", "checkpoint"] * 2


def test_cli_without_a_terminal_prints_a_line_per_checkpoint(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "corpus")
    args = ["ingest", "folder", str(root), "--store", str(tmp_path / "s"), "--engine", "local"]
    args += ["--batch-size", "1", "--checkpoint-every", "1", "--workers", "1", "--json"]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("checkpoint ")]
    assert len(lines) == 4
    assert lines[-1].startswith("checkpoint 4/4: 3 ok, 1 failed, 0 skipped, ")
    assert lines[-1].endswith(" clips/s, ETA 0s")
    assert "hashing sources: 4 sources" in result.stderr
    assert "checkpoint" not in result.stdout  # stdout stays one JSON object
    assert result.stdout.lstrip().startswith("{")


@pytest.fixture
def root_log_level() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    yield
    root.setLevel(level)


@pytest.mark.usefixtures("root_log_level")
def test_verbose_is_accepted_after_the_subcommand(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    write_video(root / "a.mp4", face_frames(2, size=(96, 128)), fps=2)
    args = ["ingest", "folder", str(root), "--store", str(tmp_path / "s"), "--engine", "local"]
    assert runner.invoke(app, args, catch_exceptions=False).exit_code == 0
    assert not [r for r in caplog.records if "clips to process" in r.getMessage()]
    again = runner.invoke(app, [*args, "-v"], catch_exceptions=False)
    assert again.exit_code == 0, again.output
    logged = [r.getMessage() for r in caplog.records if "clips to process" in r.getMessage()]
    assert len(logged) == 1
    assert logged[0].startswith("folder: 0 clips to process, 1 already stored")
