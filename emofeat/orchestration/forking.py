"""Let a process that ran a Prefect flow fork children that exit cleanly.

Prefect registers a thread-exit hook for each of its queue services (the events and logs
workers) when the service starts, and resets every service in a forked child. The hook of a
reset service then fails its own assertion when the child exits (Prefect 3.8:
``_QueueServiceBase._drain`` asserts ``_done_event is not None``), so every forked child
(PyTorch's DataLoader workers, after ``emofeat train`` ran its folds as a flow, or after an
in-process ingestion) exits with status 1, which the DataLoader reports as a worker that
"exited unexpectedly". :func:`make_forks_exit_cleanly` makes the hook do nothing where the
service was reset by a fork (nothing runs there to drain). It must run before a service
starts (the hook is bound then): every module here that imports Prefect calls it.
"""

from __future__ import annotations

from typing import Any


def make_forks_exit_cleanly() -> None:
    """Patch Prefect's queue-service exit hook once (see the module docstring)."""
    from prefect._internal.concurrency import services

    base: Any = services._QueueServiceBase
    original = base._at_exit
    if getattr(original, "_emofeat_fork_safe", False):
        return

    def _at_exit(self: Any) -> None:
        if getattr(self, "_done_event", None) is None:  # reset in a forked child: nothing to drain
            return
        original(self)

    _at_exit._emofeat_fork_safe = True  # type: ignore[attr-defined]
    base._at_exit = _at_exit
