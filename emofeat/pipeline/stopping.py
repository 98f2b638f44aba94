"""Stopping a run cleanly: a process-wide stop flag, read between units of work.

The CLI maps SIGINT and SIGTERM to :func:`request` (:func:`signals_stop_runs`); the driver
(:func:`emofeat.pipeline.ingest`) commits the batches already finished and raises
:class:`RunInterrupted`, and :func:`emofeat.pipeline.run_batch` stops between clips, leaving
the clips it did not reach unrecorded for the next run. A second signal stops at once: the
process's children (Prefect's temporary server, worker processes) are killed first.

The flag is a :class:`threading.Event`: batches running on threads see it. Batches running
in other processes (a Dask cluster) do not; the driver waits for them.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import Any

from emofeat.errors import EmofeatError

_STOP = threading.Event()
_signal = signal.SIGINT  # the signal that set the flag
_installed: dict[signal.Signals, Any] = {}  # signal -> the handler it had before signals_stop_runs
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class RunInterrupted(EmofeatError):
    """The run was asked to stop (a signal): finished batches are committed, the rest is not."""

    kind = "interrupted"
    stage = "run"


def request(signum: int = signal.SIGINT) -> None:
    """Ask the run in this process to stop at its next check."""
    global _signal
    _signal = signal.Signals(signum)
    _STOP.set()


def requested() -> bool:
    """Whether a stop was requested."""
    return _STOP.is_set()


def reset() -> None:
    """Clear the flag (a new run starts)."""
    _STOP.clear()


def signal_name() -> str:
    """The name of the signal that asked to stop (``SIGINT`` when none did)."""
    return signal.Signals(_signal).name


def exit_code() -> int:
    """The shell's exit status for the signal that asked to stop: 130 (SIGINT), 143 (SIGTERM)."""
    return 128 + int(_signal)


def check(what: str = "the run") -> None:
    """Raise :class:`RunInterrupted` when a stop was requested.

    Raises
    ------
    RunInterrupted
        When :func:`request` was called.
    """
    if _STOP.is_set():
        raise RunInterrupted(f"{what} stopped on {signal_name()}")


def kill_children() -> None:
    """SIGKILL every child process of this one (Prefect's temporary server first)."""
    server = getattr(sys.modules.get("prefect.server.api.server"), "SubprocessASGIServer", None)
    for instance in list(getattr(server, "_instances", {}).values()):  # Prefect's one per port
        process = getattr(instance, "server_process", None)
        if process is not None:
            with suppress(OSError):
                process.kill()
    for pid in _child_pids():
        with suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _child_pids() -> list[int]:
    pids: list[int] = []
    with suppress(OSError):
        for task in Path(f"/proc/{os.getpid()}/task").iterdir():
            with suppress(OSError):
                pids += [int(p) for p in (task / "children").read_text().split()]
    return pids


def _handle(signum: int, frame: FrameType | None) -> None:
    if _STOP.is_set():  # the second signal: stop now
        os.write(2, f"\nemofeat: {signal.Signals(signum).name} again: stopping now\n".encode())
        kill_children()
        os._exit(128 + signum)
    request(signum)
    os.write(
        2,
        f"\nemofeat: {signal.Signals(signum).name}: stopping after the clips in progress "
        "(send it again to stop at once)\n".encode(),
    )


def _install() -> None:
    for signum in SIGNALS:
        signal.signal(signum, _handle)


@contextmanager
def signals_stop_runs() -> Iterator[None]:
    """Within this block (in the main thread), SIGINT and SIGTERM request a stop; a second
    one kills the process's children and exits at once (status 128 + signal).

    Outside the main thread (signals cannot be handled there) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    reset()
    _installed.update({signum: signal.getsignal(signum) for signum in SIGNALS})
    try:
        with _stop_handlers():
            yield
    finally:
        _installed.clear()
        reset()


@contextmanager
def keep_stop_handlers() -> Iterator[None]:
    """Reinstall the handlers of :func:`signals_stop_runs` for this block when it is active.

    Prefect's flow engine replaces the SIGTERM handler with its own while a flow runs (it
    would raise wherever the main thread is, a commit included); within this block a SIGTERM
    requests a stop instead. Does nothing outside :func:`signals_stop_runs` or the main thread.
    """
    if not _installed or threading.current_thread() is not threading.main_thread():
        yield
        return
    with _stop_handlers():
        yield


@contextmanager
def _stop_handlers() -> Iterator[None]:
    """Install the stop handlers for this block; the handlers found are put back after it."""
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
    _install()
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
