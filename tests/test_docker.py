"""The container files: the compose file validates with Debian's docker-compose, and every
image target it builds is a stage of the Dockerfile (no engine runs here: nothing is built)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

DOCKER = Path(__file__).resolve().parents[1] / "docker"
SERVICES = {"prefect", "prefect-worker", "scheduler", "worker", "s3", "emofeat"}


def compose(*args: str, password: str | None = "not-a-real-secret") -> subprocess.CompletedProcess[str]:
    tool = shutil.which("docker-compose")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("docker-compose is missing: `make test` installs it (Debian's docker-compose)")
        pytest.skip("docker-compose is not installed (make test installs it)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMOFEAT_S3_")}
    if password is not None:
        env["EMOFEAT_S3_PASSWORD"] = password
    return subprocess.run(
        [tool, "-f", str(DOCKER / "compose.yaml"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_the_compose_file_validates() -> None:
    result = compose("config", "-q")
    assert result.returncode == 0, result.stderr


def test_it_runs_prefect_dask_a_worker_and_object_storage() -> None:
    result = compose("config")
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    assert set(config["services"]) == SERVICES
    stages = set(re.findall(r"^FROM \S+ AS (\S+)$", (DOCKER / "Dockerfile").read_text(), re.MULTILINE))
    assert {"cpu", "cuda"} <= stages
    for name, service in config["services"].items():
        if "build" in service:
            assert service["build"]["target"] in stages, name
    assert config["services"]["worker"]["environment"]["PREFECT_API_URL"] == "http://prefect:4200/api"


def test_no_credential_is_written_in_the_file() -> None:
    result = compose("config", password=None)
    assert result.returncode != 0
    assert "EMOFEAT_S3_PASSWORD" in result.stderr
    assert "not-a-real-secret" not in (DOCKER / "compose.yaml").read_text()
