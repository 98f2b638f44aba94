"""How a run reports its progress: a small interface the driver calls and callers implement.

:func:`emofeat.pipeline.ingest.ingest` and :func:`emofeat.pipeline.plan.make_plan` take a
``progress`` keyword argument and call it from the driver thread (never from a batch
worker), in this order::

    phase("scan", None)          # the adapter walks the corpus root
    phase("hash", n_clips)       # sources hashed; advance(1, 0) per readable source,
                                 #   advance(0, 1) per unreadable one
    phase("ingest", n_todo)      # advance(ok, failed) as each batch's results arrive
    checkpoint(i, n, counts)     # after each commit; counts: cumulative ok, failed, skipped

A caller that starts a Prefect server first reports it as ``phase("server", None)``. The
default, :data:`NO_PROGRESS`, ignores every call; the CLI provides a terminal progress bar
and a line-per-checkpoint log (:mod:`emofeat.cli.progress`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Protocol

#: Phase names, in the order a run reaches them.
SERVER: Final = "server"
SCAN: Final = "scan"
HASH: Final = "hash"
INGEST: Final = "ingest"


class Progress(Protocol):
    """What a run reports while it runs (every method returns quickly and raises nothing)."""

    def phase(self, name: str, total: int | None) -> None:
        """A new phase starts; ``total`` units to do (``None``: not known in advance)."""

    def advance(self, ok: int = 0, failed: int = 0) -> None:
        """``ok + failed`` more units of the current phase are finished."""

    def checkpoint(self, index: int, total: int, counts: Mapping[str, int]) -> None:
        """Checkpoint ``index`` of ``total`` is committed; ``counts`` of clips so far by status."""


class NoProgress:
    """The default :class:`Progress`: ignores every call."""

    def phase(self, name: str, total: int | None) -> None:
        pass

    def advance(self, ok: int = 0, failed: int = 0) -> None:
        pass

    def checkpoint(self, index: int, total: int, counts: Mapping[str, int]) -> None:
        pass


NO_PROGRESS: Final[Progress] = NoProgress()
