"""Entry point of the audit flow for deployments.

Serve it against a Prefect server (``PREFECT_API_URL`` set), then start runs from the UI or
with ``prefect deployment run 'emofeat-audit/emofeat-audit' -p store=PATH``::

    python -m flows.audit

A run whose audit found differences ends Failed. The flow itself lives in
:mod:`emofeat.orchestration.audit_flow`.
"""

from __future__ import annotations

from emofeat.orchestration.audit_flow import audit_flow

__all__ = ["audit_flow"]


def serve() -> None:
    """Serve :func:`audit_flow` as the deployment ``emofeat-audit`` until interrupted."""
    audit_flow.serve(name="emofeat-audit")


if __name__ == "__main__":
    serve()
