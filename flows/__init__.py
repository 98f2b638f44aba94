"""Deployment entry points: each module re-exports a flow of :mod:`emofeat.orchestration`.

The CLI reaches Prefect through the library (``emofeat.orchestration``); this package only
gives deployments (``prefect deploy``, ``flow.serve(...)``) a stable import path. Importing
it applies emofeat's Prefect settings before Prefect is imported.

``prefect.yaml`` here deploys the four flows (ingestion, statistics, audit, training) to the
process work pool ``emofeat``: ``prefect deploy --all --prefect-file flows/prefect.yaml``,
run from the repository root.
"""

from emofeat.orchestration import settings

__all__ = ["settings"]
