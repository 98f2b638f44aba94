"""Importing the flow cold applies emofeat's Prefect settings before Prefect reads them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json
import flows.ingest
from prefect.settings import get_current_settings
s = get_current_settings()
print(json.dumps({"analytics": s.server.analytics_enabled,
                  "timeout": s.server.ephemeral.startup_timeout_seconds,
                  "logging": s.logging.level}))
"""


def test_cold_import_turns_telemetry_off(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_") and k != "DO_NOT_TRACK"}
    env["PREFECT_HOME"] = str(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    settings = json.loads(out.stdout.strip().splitlines()[-1])
    assert settings == {"analytics": False, "timeout": 180, "logging": "WARNING"}
