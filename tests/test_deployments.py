"""Deployments (``flows/prefect.yaml``) and the audit flow.

Every deployment of ``flows/prefect.yaml`` names a real flow and parameters it takes; the
file deploys with Prefect's own CLI against a real server and a process worker, started
outside the repository, runs a statistics run from the checkout the pull step names; the
audit flow ends Completed on an untouched store and Failed when the audit finds differences.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.schedules import CronSchedule
from prefect.deployments import run_deployment
from prefect.deployments.steps.core import StepExecutionError, run_steps
from prefect.exceptions import ObjectAlreadyExists
from prefect.flows import Flow, load_flow_from_entrypoint
from prefect.logging.handlers import APILogWorker

from emofeat.data.stats import ALL, compute_stats, read_stats
from emofeat.errors import ConfigError, NotFoundError
from emofeat.store import open_store
from tests.corpusgen import Corpus, Ingested

ROOT = Path(__file__).resolve().parents[1]
PREFECT_FILE = ROOT / "flows" / "prefect.yaml"
PREFECT = str(Path(sys.executable).with_name("prefect"))
POOL = "emofeat"
PULL = "emofeat.orchestration.checkout.enter_checkout"
#: Generous for a loaded 2-core machine; a healthy run takes a fraction of these.
DEPLOY_TIMEOUT_S, WORKER_TIMEOUT_S = 240, 300


def prefect_file() -> dict[str, Any]:
    loaded = yaml.safe_load(PREFECT_FILE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def deployments() -> list[dict[str, Any]]:
    return list(prefect_file()["deployments"])


def load(entrypoint: str) -> Flow[..., Any]:
    path, func = entrypoint.split(":")
    return load_flow_from_entrypoint(f"{ROOT / path}:{func}")


@pytest.mark.parametrize("deployment", deployments(), ids=lambda d: str(d["name"]))
def test_each_deployment_names_a_real_flow_and_its_parameters(deployment: dict[str, Any]) -> None:
    flow = load(deployment["entrypoint"])
    assert isinstance(flow, Flow)
    assert flow.name == f"emofeat-{deployment['name']}"
    accepted = set(inspect.signature(flow.fn).parameters)
    assert set(deployment.get("parameters") or {}) <= accepted
    for schedule in deployment.get("schedules") or []:
        assert set(schedule.get("parameters") or {}) <= accepted
    assert deployment["work_pool"]["name"] == POOL


def checkout_variable() -> str:
    """The environment variable the one pull step takes the working directory from."""
    (step,) = prefect_file()["pull"]
    variable = step[PULL]["variable"]
    assert isinstance(variable, str)
    assert re.fullmatch(r"[A-Z_]+", variable), f"not an environment variable's name: {variable!r}"
    return variable


def test_the_file_is_offline_and_runs_from_the_checkout() -> None:
    config = prefect_file()
    assert not config.get("build")
    assert not config.get("push")
    assert checkout_variable().startswith("EMOFEAT_")
    assert sorted(d["name"] for d in config["deployments"]) == ["audit", "ingest", "stats", "train"]


def nightly() -> dict[str, Any]:
    (audit,) = [d for d in deployments() if d["name"] == "audit"]
    (schedule,) = audit["schedules"]
    return dict(schedule)


def test_the_nightly_audit_is_a_valid_cron_deployed_inactive() -> None:
    schedule = nightly()
    assert schedule["active"] is False
    cron = CronSchedule(cron=schedule["cron"], timezone=schedule["timezone"])
    minute, hour, *every = cron.cron.split()
    assert every == ["*", "*", "*"]
    assert minute.isdigit()
    assert hour.isdigit()
    others = [d for d in deployments() if d["name"] != "audit"]
    assert all(not d.get("schedules") for d in others)


def run_pull_steps() -> dict[str, Any]:
    """The file's pull steps, run by Prefect's own step runner, as a worker runs them."""
    return asyncio.run(run_steps(prefect_file()["pull"]))


def test_the_pull_step_enters_the_checkout_the_worker_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(checkout_variable(), str(ROOT))
    assert run_pull_steps()["directory"] == str(ROOT)
    assert Path.cwd() == ROOT


@pytest.mark.parametrize("value", [None, "", "missing", "not-a-checkout"])
def test_a_worker_without_a_checkout_fails_the_run_saying_what_to_set(
    value: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "not-a-checkout").mkdir()
    variable = checkout_variable()
    if value is None:
        monkeypatch.delenv(variable, raising=False)
    else:
        monkeypatch.setenv(variable, str(tmp_path / value) if value else value)
    with pytest.raises(StepExecutionError) as raised:
        run_pull_steps()
    cause = raised.value.__cause__
    assert isinstance(cause, ConfigError)
    assert variable in cause.message
    assert "prefect worker start" in cause.message
    assert Path.cwd() == tmp_path  # the run did not move anywhere


def cli_env() -> dict[str, str]:
    """This process's environment (API URL, Prefect home, settings) with one BLAS thread."""
    env = dict(os.environ)
    env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = "1"
    env.pop(checkout_variable(), None)
    assert env.get("PREFECT_API_URL")
    assert env.get("PREFECT_HOME")
    return env


@contextmanager
def process_group(
    args: list[str], cwd: Path, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``args`` in its own process group, output to ``log``; the whole group (flow-run
    processes included) is killed on the way out, whatever happened."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            process_group=0,
        )
        try:
            yield proc
        finally:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run_to_end(args: list[str], cwd: Path, env: dict[str, str], log: Path, timeout: float) -> int:
    """Run ``args`` to its end (killed with its group after ``timeout`` s): its exit status."""
    with process_group(args, cwd, env, log) as proc:
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{' '.join(args)} ran past {timeout} s:\n{tail(log)}")


def tail(log: Path, chars: int = 6000) -> str:
    return log.read_text(errors="replace")[-chars:]


@pytest.fixture
def store_copy(ravdess_ingested: Ingested, tmp_path: Path) -> Path:
    """A private copy of the session's store (a statistics run commits to it)."""
    return Path(shutil.copytree(ravdess_ingested.store, tmp_path / "store"))


@pytest.mark.slow
@pytest.mark.prefect
def test_deployed_stats_run_on_a_process_worker(prefect_api: str, store_copy: Path, tmp_path: Path) -> None:
    env = cli_env()
    with get_client(sync_client=True) as client, suppress(ObjectAlreadyExists):
        client.create_work_pool(WorkPoolCreate(name=POOL, type="process"))

    deploy_log = tmp_path / "deploy.log"
    status = run_to_end(
        [PREFECT, "--no-prompt", "deploy", "--all", "--prefect-file", str(PREFECT_FILE.relative_to(ROOT))],
        ROOT,
        env,
        deploy_log,
        DEPLOY_TIMEOUT_S,
    )
    assert status == 0, tail(deploy_log)

    with get_client(sync_client=True) as client:
        deployed = {d.name: d for d in client.read_deployments() if d.work_pool_name == POOL}
        assert set(deployed) >= {"ingest", "stats", "audit", "train"}
        stats = client.read_deployment_by_name("emofeat-stats/stats")
        # Read on the worker when a run starts: it was not set where the file was deployed.
        assert stats.pull_steps == prefect_file()["pull"]
        (in_file,) = [d for d in deployments() if d["name"] == "stats"]
        assert stats.parameters == in_file["parameters"]
        (scheduled,) = client.read_deployment_by_name("emofeat-audit/audit").schedules
        assert scheduled.active is False
        assert isinstance(scheduled.schedule, CronSchedule)
        assert scheduled.schedule.cron == nightly()["cron"]

    before = open_store(store_copy)
    fv = before.latest_version("ravdess")
    with pytest.raises(NotFoundError):
        read_stats(before, "ravdess", fv, ALL)

    flow_run = run_deployment(
        "emofeat-stats/stats", parameters={"store": str(store_copy), "keys": ["mfcc"]}, timeout=0
    )

    elsewhere = tmp_path / "worker-cwd"  # not the checkout: the pull step must move the run there
    elsewhere.mkdir()
    worker_log = tmp_path / "worker.log"
    worker = [PREFECT, "worker", "start", "--pool", POOL, "--type", "process", "--run-once"]
    worker_env = {**env, checkout_variable(): str(ROOT)}
    status = run_to_end(worker, elsewhere, worker_env, worker_log, WORKER_TIMEOUT_S)

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(flow_run.id).state
    assert state is not None
    assert state.type == StateType.COMPLETED, f"{state.type} {state.message}\n{tail(worker_log)}"
    assert status == 0, tail(worker_log)

    after = open_store(store_copy)
    back = read_stats(after, "ravdess", fv, ALL)
    assert back.computed_from == before.snapshot
    assert dict(back) == dict(compute_stats(before, "ravdess", fv, ["mfcc"])[ALL])


@pytest.fixture
def corpus_copy(ravdess: Corpus, tmp_path: Path) -> Path:
    """A private copy of the session's corpus (one test corrupts it)."""
    return Path(shutil.copytree(ravdess.root, tmp_path / "RAVDESS"))


@pytest.mark.slow
@pytest.mark.prefect
def test_the_audit_flow_completes_on_an_untouched_store(prefect_api: str, ravdess_ingested: Ingested) -> None:
    from emofeat.orchestration.audit_flow import audit_flow

    state = audit_flow(str(ravdess_ingested.store), sample=1, return_state=True)
    assert state.type == StateType.COMPLETED, state.message
    summary = state.result()
    assert summary["passed"] is True
    assert summary["findings"] == []
    assert summary["snapshot"] == open_store(ravdess_ingested.store).snapshot
    (one,) = summary["corpora"]
    assert one["corpus"] == "ravdess"
    assert len(one["sampled"]) == 1
    assert one["checked"]["reextracted"] == 1


@pytest.mark.slow
@pytest.mark.prefect
def test_an_audit_that_finds_differences_fails_the_run(
    prefect_api: str, ravdess_ingested: Ingested, corpus_copy: Path
) -> None:
    from emofeat.audit.verify import AuditFailed
    from emofeat.orchestration.audit_flow import audit_flow

    for path in sorted(p for p in corpus_copy.rglob("*") if p.is_file()):  # every source changes
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    params: dict[str, Any] = {
        "store": str(ravdess_ingested.store),
        "corpus": "ravdess",
        "root": str(corpus_copy),
        "sample": 1,
        "seed": 3,
    }

    state = audit_flow(**params, return_state=True)
    assert state.type == StateType.FAILED
    assert state.message is not None
    assert re.search(r"found [0-9]+ findings \(.*source_changed", state.message), state.message
    with pytest.raises(AuditFailed, match=r"found [0-9]+ findings"):
        state.result()
    APILogWorker.drain_all(timeout=30)  # the findings logged, sent while the session's server runs
