"""Prefect wiring of the pipeline (layer 8: above :mod:`emofeat.pipeline`, below the CLI).

Importing this package applies emofeat's Prefect settings (no telemetry, a generous start-up
timeout for the temporary server, quiet flow-run logs) before any module of it imports
Prefect, which reads its settings from the environment once, at its first import. Prefect
itself is imported only by :mod:`emofeat.orchestration.prefect_flow`.
"""

from emofeat.orchestration import settings

settings.apply()
