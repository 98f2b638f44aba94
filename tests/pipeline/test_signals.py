"""SIGINT and SIGTERM stop a real ``emofeat ingest`` process cleanly, and a re-run resumes.

Each test starts the CLI as a subprocess on a corpus that takes ~10 s, signals it once the
first checkpoint is committed (its line on stderr), and checks the exit status, the resume
hint, the committed clips and that a re-run stores every clip exactly once, and that no child
process (the batches' worker processes, Prefect's temporary server) outlives the run, even
when the run itself is SIGKILLed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import emofeat
from emofeat.pipeline import BatchJob, BatchResult, RunOptions, ingest, run_batch, stopping
from tests.mediagen import face_frames, write_video

CLIPS = 24
EMOFEAT = str(Path(sys.executable).parent / "emofeat")
ARGS = ("--batch-size", "2", "--checkpoint-every", "1", "--workers", "2")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("signals") / "corpus"
    root.mkdir()
    for i in range(CLIPS):
        write_video(root / f"clip{i:02d}.mp4", face_frames(6, size=(96, 128), seed=i), fps=6)
    return root


@dataclass
class Run:
    """A running ``emofeat ingest`` with its stderr collected line by line."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            assert self.process.poll() is None, f"exited {self.process.returncode}: {self.stderr}"
            assert time.monotonic() < deadline, f"no {text!r} in {timeout} s: {self.stderr}"
            time.sleep(0.05)

    @property
    def stderr(self) -> str:
        return "".join(self.lines)


def start(corpus: Path, store: Path, *extra: str) -> Run:
    env = os.environ.copy()
    env.pop("PREFECT_API_URL", None)  # the CLI starts (and must stop) its own temporary server
    process = subprocess.Popen(
        [EMOFEAT, "ingest", "folder", str(corpus), "--store", str(store), *ARGS, *extra],
        start_new_session=True,  # its own process group, as a shell's foreground job
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    return Run(process)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc: each task's ``children``)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = [int(p) for p in (task / "children").read_text().split()]
            except OSError:
                continue
            found += children
            todo += children
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def stop(run: Run, signum: int, expected: int, within: float = 20.0) -> float:
    """Send ``signum`` and wait for the exit status ``expected``; returns the seconds it took."""
    sent = time.monotonic()
    run.process.send_signal(signum)
    try:
        code = run.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        run.process.kill()
        raise
    took = time.monotonic() - sent
    assert code == expected, run.stderr
    assert took < within, f"took {took:.1f} s to stop"
    return took


def check_partial_then_resume(corpus: Path, store: Path, stderr: str) -> None:
    assert "run the same command again to resume" in stderr
    partial = emofeat.open_store(store)
    cat = partial.catalog("folder")
    assert 0 < len(cat) < CLIPS, "the first checkpoint is committed, not the whole corpus"
    assert (cat["status"] == "ok").all(), cat[["clip_id", "status"]]
    for clip_id in cat["clip_id"]:
        assert partial.read(clip_id)["face"].shape[0] == 16
    committed = len(cat)

    rerun = subprocess.run(
        [EMOFEAT, "ingest", "folder", str(corpus), "--store", str(store), *ARGS, "--engine=local", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["clips"] == {"ok": CLIPS - committed, "failed": 0, "skipped": committed}
    final = emofeat.open_store(store).catalog("folder")
    assert sorted(final["source"]) == [f"clip{i:02d}.mp4" for i in range(CLIPS)]
    assert final["clip_id"].is_unique
    assert (final["status"] == "ok").all()


def test_a_stop_request_commits_what_finished_and_records_nothing_else(corpus: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"

    def stop_after_the_first_batch(jobs: Iterable[BatchJob]) -> Iterator[BatchResult]:
        for number, job in enumerate(jobs):  # no job is made after the stop
            assert number == 0
            yield run_batch(job)
            stopping.request(signal.SIGTERM)

    options = RunOptions(batch_size=3, checkpoint_every=2, workers=1)
    try:
        with pytest.raises(stopping.RunInterrupted, match="stopped on SIGTERM"):
            ingest("folder", corpus, store, options=options, map_batches=stop_after_the_first_batch)
    finally:
        stopping.reset()
    cat = emofeat.open_store(store).catalog("folder")
    assert sorted(cat["source"]) == ["clip00.mp4", "clip01.mp4", "clip02.mp4"]
    assert (cat["status"] == "ok").all()
    resumed = ingest("folder", corpus, store, options=options)
    assert resumed.clips == {"ok": CLIPS - 3, "failed": 0, "skipped": 3}


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_commits_finished_batches_and_a_rerun_resumes(
    corpus: Path, tmp_path: Path, signum: int, code: int
) -> None:
    store = tmp_path / "store"
    run = start(corpus, store, "--engine", "local")
    run.wait_for("checkpoint 1/", timeout=120)
    children = descendants(run.process.pid)
    assert children, "the batches run in worker processes"
    stop(run, signum, code)
    assert f"stopped on {signal.Signals(signum).name}" in run.stderr
    assert wait_dead(children, timeout=5) == []
    check_partial_then_resume(corpus, store, run.stderr)


@pytest.mark.slow
def test_a_second_sigint_stops_at_once(corpus: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    run = start(corpus, store, "--engine", "local")
    run.wait_for("checkpoint 1/", timeout=120)
    children = descendants(run.process.pid)
    run.process.send_signal(signal.SIGINT)
    run.wait_for("stopping after the clips in progress", timeout=10)
    stop(run, signal.SIGINT, 130, within=5.0)
    assert "stopping now" in run.stderr
    assert wait_dead(children, timeout=5) == []  # SIGKILLed with the second signal
    check_partial_then_resume(corpus, store, "run the same command again to resume")


def wait_dead(pids: list[int], timeout: float) -> list[int]:
    """The processes of ``pids`` still alive after up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while (left := [pid for pid in pids if alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@pytest.mark.slow
@pytest.mark.prefect
@pytest.mark.parametrize(
    ("signum", "group", "code"),
    [(signal.SIGTERM, False, 143), (signal.SIGINT, True, 130)],
    ids=["sigterm", "ctrl-c-to-the-process-group"],
)
def test_a_signal_during_a_prefect_run_leaves_no_child_process(
    corpus: Path, tmp_path: Path, signum: int, group: bool, code: int
) -> None:
    store = tmp_path / "store"
    run = start(corpus, store)  # the Prefect engine, with its own temporary server
    run.wait_for("checkpoint 1/", timeout=240)
    children = descendants(run.process.pid)
    assert children, "Prefect's temporary server runs as a child process"
    if group:  # a terminal's Ctrl-C: the whole foreground process group gets SIGINT
        sent = time.monotonic()
        os.killpg(run.process.pid, signum)
        assert run.process.wait(timeout=60) == code, run.stderr
        assert time.monotonic() - sent < 30
    else:
        stop(run, signum, code, within=30.0)
    assert wait_dead(children, timeout=5) == []
    check_partial_then_resume(corpus, store, run.stderr)


@pytest.mark.slow
def test_sigkill_of_a_run_takes_its_worker_processes_down(corpus: Path, tmp_path: Path) -> None:
    run = start(corpus, tmp_path / "store", "--engine", "local")
    run.wait_for("checkpoint 1/", timeout=120)
    children = descendants(run.process.pid)
    assert len(children) == 2, "one worker process per concurrent batch (--workers 2)"
    run.process.kill()  # no exit handler runs: the kernel ends them (PR_SET_PDEATHSIG)
    run.process.wait(timeout=10)
    assert wait_dead(children, timeout=10) == []


@pytest.mark.slow
@pytest.mark.prefect
def test_sigkill_of_a_prefect_run_takes_its_server_down(corpus: Path, tmp_path: Path) -> None:
    run = start(corpus, tmp_path / "store")
    run.wait_for("checkpoint 1/", timeout=240)
    children = descendants(run.process.pid)
    assert children
    run.process.kill()
    run.process.wait(timeout=10)
    assert wait_dead(children, timeout=10) == []
