"""Entry point of the ingestion flow for deployments.

Serve it against a Prefect server (``PREFECT_API_URL`` set), then start runs from the UI or
with ``prefect deployment run 'emofeat-ingest/emofeat-ingest'``::

    python -m flows.ingest

The flow itself lives in :mod:`emofeat.orchestration.prefect_flow`.
"""

from __future__ import annotations

from emofeat.orchestration.prefect_flow import ingest_flow, run_ingest_flow

__all__ = ["ingest_flow", "run_ingest_flow"]


def serve() -> None:
    """Serve :func:`ingest_flow` as the deployment ``emofeat-ingest`` until interrupted."""
    ingest_flow.serve(name="emofeat-ingest")


if __name__ == "__main__":
    serve()
