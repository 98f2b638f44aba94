"""Prefect wiring of the pipeline (layer 8: above :mod:`emofeat.pipeline`, below the CLI).

Importing this package applies emofeat's Prefect settings (no telemetry, a generous start-up
timeout for the temporary server, quiet flow-run logs) before any module of it imports
Prefect, which reads its settings from the environment once, at its first import. Prefect
itself is imported only by the flows: :mod:`emofeat.orchestration.prefect_flow` (ingestion)
and :mod:`emofeat.orchestration.stats_flow` (normalisation statistics).
"""

from emofeat.orchestration import settings

settings.apply()
