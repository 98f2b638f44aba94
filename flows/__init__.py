"""Prefect flows: thin wiring around emofeat's library calls.

Importing this package applies emofeat's Prefect settings (no telemetry, a generous start-up
timeout for the temporary server) before any flow module imports Prefect, which reads its
settings from the environment once, at import.
"""

from flows import settings

settings.apply()
