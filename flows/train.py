"""Entry point of the training flow for deployments.

Serve it against a Prefect server (``PREFECT_API_URL`` set), then start runs from the UI or
with ``prefect deployment run 'emofeat-train/emofeat-train'``::

    python -m flows.train

The flow itself lives in :mod:`emofeat.orchestration.train_flow`.
"""

from __future__ import annotations

from emofeat.orchestration.train_flow import train_flow

__all__ = ["train_flow"]


def serve() -> None:
    """Serve :func:`train_flow` as the deployment ``emofeat-train`` until interrupted."""
    train_flow.serve(name="emofeat-train")


if __name__ == "__main__":
    serve()
