"""Entry point of the normalisation-statistics flow for deployments.

Serve it against a Prefect server (``PREFECT_API_URL`` set), then start runs from the UI or
with ``prefect deployment run 'emofeat-stats/emofeat-stats' -p store=PATH``::

    python -m flows.stats

The flow itself lives in :mod:`emofeat.orchestration.stats_flow`.
"""

from __future__ import annotations

from emofeat.orchestration.stats_flow import stats_flow

__all__ = ["stats_flow"]


def serve() -> None:
    """Serve :func:`stats_flow` as the deployment ``emofeat-stats`` until interrupted."""
    stats_flow.serve(name="emofeat-stats")


if __name__ == "__main__":
    serve()
