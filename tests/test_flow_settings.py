"""Prefect wiring: settings applied before Prefect reads them, the server start as a progress
phase, and the library never importing the deployment entry points in ``flows/``."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings

from emofeat.orchestration import server
from emofeat.orchestration.prefect_flow import start_server

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json
import {module}
from prefect.settings import get_current_settings
s = get_current_settings()
print(json.dumps({{"analytics": s.server.analytics_enabled,
                  "timeout": s.server.ephemeral.startup_timeout_seconds,
                  "logging": s.logging.level}}))
"""


@pytest.mark.parametrize(
    "module",
    [
        "emofeat.orchestration.prefect_flow",
        "flows.ingest",
        "emofeat.orchestration.stats_flow",
        "flows.stats",
        "emofeat.orchestration.train_flow",
        "flows.train",
        "emofeat.orchestration.audit_flow",
        "flows.audit",
    ],
)
def test_cold_import_turns_telemetry_off(tmp_path: Path, module: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_") and k != "DO_NOT_TRACK"}
    env["PREFECT_HOME"] = str(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    settings = json.loads(out.stdout.strip().splitlines()[-1])
    assert settings == {"analytics": False, "timeout": 180, "logging": "WARNING"}


def imported_modules(path: Path) -> set[str]:
    """Every module a source file imports (absolute names; relative imports as written)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def imports_of(package: str) -> dict[str, set[str]]:
    files = sorted((ROOT / package.replace(".", "/")).rglob("*.py"))
    assert files, package
    return {str(f.relative_to(ROOT)): imported_modules(f) for f in files}


def offenders(package: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    found = {
        path: sorted(n for n in names if any(n == f or n.startswith(f + ".") for f in forbidden))
        for path, names in imports_of(package).items()
    }
    return {path: names for path, names in found.items() if names}


def test_the_library_never_imports_flows() -> None:
    assert offenders("emofeat", ("flows",)) == {}


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("emofeat.pipeline", ("emofeat.orchestration", "emofeat.cli", "prefect")),
        ("emofeat.orchestration", ("emofeat.cli",)),
        ("emofeat.data", ("emofeat.pipeline", "emofeat.orchestration", "emofeat.cli", "prefect")),
        ("emofeat.train", ("emofeat.pipeline", "emofeat.orchestration", "emofeat.cli", "prefect")),
        ("emofeat.audit", ("emofeat.orchestration", "emofeat.cli", "emofeat.train", "prefect")),
        ("emofeat.store", ("emofeat.pipeline", "emofeat.audit", "emofeat.data", "emofeat.cli", "prefect")),
    ],
)
def test_layers_import_downwards_only(package: str, forbidden: tuple[str, ...]) -> None:
    assert offenders(package, forbidden) == {}


def test_the_import_check_sees_function_local_imports(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from flows.ingest import ingest_flow\n    import flows\n")
    assert imported_modules(source) >= {"flows", "flows.ingest", "flows.ingest.ingest_flow"}


class Phases:
    def __init__(self) -> None:
        self.names: list[str] = []

    def phase(self, name: str, total: int | None) -> None:
        self.names.append(name)

    def advance(self, ok: int = 0, failed: int = 0) -> None:
        pass

    def checkpoint(self, index: int, total: int, counts: Mapping[str, int]) -> None:
        pass


def test_server_start_is_a_phase_only_without_an_api_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """No server is started here: the start is replaced by a recorder (the test session may
    already hold Prefect's one server per port)."""
    started: list[object] = []
    monkeypatch.setattr(server, "start_temporary_server", lambda: started.append(True))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        phases = Phases()
        start_server(phases)
        assert phases.names == ["server"]
        assert len(started) == 1
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:1/api"}):
        phases = Phases()
        start_server(phases)
        assert phases.names == []
        assert len(started) == 1


def _nothing() -> None:
    pass


@pytest.mark.prefect
def test_a_process_that_ran_a_flow_forks_children_that_exit_cleanly(prefect_api: str) -> None:
    """Prefect's services leave a broken exit hook in forked children (they exit 1 and a
    DataLoader reports its workers dead); emofeat.orchestration.forking disarms it."""
    import multiprocessing

    from prefect import flow

    @flow(name="emofeat-fork-check", persist_result=False)
    def tiny() -> int:
        return 1

    assert tiny() == 1
    child = multiprocessing.get_context("fork").Process(target=_nothing)
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
