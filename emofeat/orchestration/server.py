"""Prefect's temporary server, started so that it never outlives the process that started it.

Prefect starts it as a plain child (``SubprocessASGIServer``: a uvicorn process) and stops it
at exit (``atexit``). That misses two cases, both handled here:

- a Ctrl-C on a terminal reaches the whole foreground process group: the server would stop
  while the run commits its finished batches. It runs in its own process group instead;
- a SIGKILL of the parent runs no exit handler. A watchdog (a tiny child process) kills the
  server when its parent is gone.

Importing this module imports Prefect's server app (heavy): only when a server is needed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from types import SimpleNamespace
from typing import Any

import prefect.server.api.server as prefect_server

#: Waits for its parent to go away (or the server to exit), then SIGKILLs the server.
#: A pidfd names the server race-free (its pid could be reused once it exits).
WATCHDOG = """
import os, select, signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
parent, server = int(sys.argv[1]), int(sys.argv[2])
try:
    fd = os.pidfd_open(server)
except (AttributeError, OSError):
    fd = None
while os.getppid() == parent:
    if fd is None:
        time.sleep(0.5)
    elif select.select([fd], [], [], 0.5)[0]:
        sys.exit(0)
try:
    if fd is None:
        os.kill(server, signal.SIGKILL)
    else:
        signal.pidfd_send_signal(fd, signal.SIGKILL)
except OSError:
    pass
"""


@contextmanager
def _own_process_group() -> Iterator[None]:
    """Prefect's server module starts its process in a new process group within this block."""
    real = prefect_server.subprocess
    shim = SimpleNamespace(**{k: getattr(real, k) for k in dir(real) if not k.startswith("__")})
    shim.Popen = partial(subprocess.Popen, process_group=0)
    prefect_server.subprocess = shim  # type: ignore[assignment]
    try:
        yield
    finally:
        prefect_server.subprocess = real


class TemporaryServer(prefect_server.SubprocessASGIServer):
    """Prefect's temporary server in its own process group (Prefect's own calls for a
    temporary server find this instance: Prefect keeps one per port)."""

    def _run_uvicorn_command(self) -> subprocess.Popen[Any]:
        with _own_process_group():
            return super()._run_uvicorn_command()


def start_temporary_server() -> None:
    """Start (once per process) Prefect's temporary server, with a watchdog that kills it
    if this process dies without stopping it.

    Raises
    ------
    RuntimeError
        When the server does not answer within
        ``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS``.
    """
    server = TemporaryServer()
    if server.running:
        return
    server.start()
    if server.server_process is not None:
        subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", WATCHDOG, str(os.getpid()), str(server.server_process.pid)],
            stdin=subprocess.DEVNULL,
            close_fds=True,
        )
