"""Deployment entry points: each module re-exports a flow of :mod:`emofeat.orchestration`.

The CLI reaches Prefect through the library (``emofeat.orchestration``); this package only
gives deployments (``prefect deploy``, ``flow.serve(...)``) a stable import path. Importing
it applies emofeat's Prefect settings before Prefect is imported.
"""

from emofeat.orchestration import settings

__all__ = ["settings"]
