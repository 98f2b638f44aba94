"""The progress sink of the flow run in this context (kept out of the flow module, whose
tasks are pickled by value onto Dask workers: a context variable does not pickle)."""

from __future__ import annotations

from contextvars import ContextVar

from emofeat.pipeline.progress import NO_PROGRESS, Progress

#: The progress of the flow run in this context (set by ``run_ingest_flow``).
current_progress: ContextVar[Progress] = ContextVar("emofeat_progress", default=NO_PROGRESS)
