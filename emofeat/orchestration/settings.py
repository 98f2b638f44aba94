"""Prefect settings emofeat needs before Prefect is imported.

Prefect reads its settings from the environment when it is first imported, so
``emofeat/orchestration/__init__.py`` applies these before any module of the package imports
``prefect``. Values already set by the user win. No Prefect import here.
"""

from __future__ import annotations

import os

DEFAULTS = {
    # The temporary local server takes 15-20 s to start here and can time out under load.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    # No telemetry: nothing may leave the machine.
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    # Results stay in memory: the store is the record of what was computed.
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
    # Flow and task-run chatter only with `emofeat -v`; the CLI prints its own summary.
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


def apply() -> None:
    """Set every default the user has not set."""
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
