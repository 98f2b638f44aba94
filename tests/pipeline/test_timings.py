"""Per-stage timings: measured by the batches and the driver, recorded in every checkpoint's
commit metadata, shown by ``emofeat history``."""

from __future__ import annotations

import threading
import time

import pytest
from typer.testing import CliRunner

from emofeat.cli.app import app
from emofeat.pipeline.timing import STAGES, StageTimes, summary
from emofeat.store import open_store
from tests.corpusgen import Ingested

WORKED = ("plan", "probe", "decode", "detect", "align", "audio_features", "validate", "write", "commit")


def test_stage_times_add_up_from_many_threads() -> None:
    times = StageTimes()

    def work() -> None:
        for _ in range(1000):
            times.add("decode", 0.001)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    def fails() -> None:
        time.sleep(0.01)
        raise RuntimeError("counted all the same")

    with pytest.raises(RuntimeError):
        times.call("detect", fails)
    assert times.get("decode") == pytest.approx(4.0)
    assert times.get("detect") >= 0.01
    times.merge({"write": 0.5, "mystery": 1.0})
    assert list(times.as_dict()) == ["decode", "detect", "write", "mystery"]  # known stages first
    assert summary(times.as_dict(), 3, 1.23456) == {
        "stage_seconds": times.as_dict(),
        "clips": 3,
        "wall_seconds": 1.235,
    }
    assert set(WORKED) == set(STAGES)


def test_a_run_records_every_stage(ravdess_ingested: Ingested) -> None:
    first = ravdess_ingested.first
    stages = first.stage_seconds
    assert list(stages) == list(WORKED)
    for stage in WORKED:
        assert stages[stage] > 0, stage
    # The detector runs 16 times a clip at 640 px: it costs more than choosing and warping.
    assert stages["detect"] > stages["align"]
    # A re-run that skips everything only plans and commits.
    assert set(ravdess_ingested.second.stage_seconds) <= {"plan", "commit"}


def test_checkpoints_carry_the_run_so_far(ravdess_ingested: Ingested) -> None:
    first = ravdess_ingested.first
    commits = [c for c in open_store(ravdess_ingested.store).history() if c.snapshot in first.commits]
    timed = [c.metadata["emofeat"]["timings"] for c in commits if "timings" in c.metadata["emofeat"]]
    assert len(timed) == len(first.commits) - 1  # every checkpoint; the run's "start" commit has none
    newest = timed[0]
    assert newest["clips"] == first.clips["ok"] + first.clips["failed"]
    assert 0 < newest["wall_seconds"] <= first.seconds
    recorded = newest["stage_seconds"]
    for stage in WORKED:  # the summary adds the last commit itself
        assert recorded[stage] <= first.stage_seconds[stage], stage
        if stage != "commit":
            assert recorded[stage] == pytest.approx(first.stage_seconds[stage]), stage
    clips = [t["clips"] for t in reversed(timed)]  # oldest first: the run so far grows
    assert clips == sorted(clips)
    assert clips[-1] == newest["clips"]


def test_history_shows_the_timings(ravdess_ingested: Ingested) -> None:
    result = CliRunner().invoke(app, ["history", "--store", str(ravdess_ingested.store)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    final = next(i for i, line in enumerate(lines) if "checkpoint" in line)
    shown = lines[final + 1]
    clips = ravdess_ingested.first.clips["ok"] + ravdess_ingested.first.clips["failed"]
    assert shown.startswith(f"    {clips} clips, ")
    assert "ms per clip:" in shown
    shown_stages = shown.split("ms per clip: ")[1].split()[::2]
    assert shown_stages == list(WORKED)  # in pipeline order
