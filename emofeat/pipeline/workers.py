"""Batches in supervised worker processes: a clip that kills its process is a recorded failure.

A native crash (a segfault in a decoder or in ONNX Runtime) or the kernel's OOM killer ends
the process it happens in. Run on the driver's threads, one such clip would end the whole
run; run here, it ends one worker process, and the run goes on.

Design:

- **Spawn, never fork.** A worker is a fresh interpreter (``python -c``, the parent's
  ``sys.path``, the pipe's socket inherited): a forked child inherits icechunk's runtime
  threads and locks in whatever state they were in and can hang. It is started as
  multiprocessing's ``spawn`` method does, less one step: ``spawn`` runs the parent's main
  script again in every child, so a script that calls :func:`emofeat.ingest` without an
  ``if __name__ == "__main__":`` guard would run again in each worker (and fail there);
  a worker imports only the pipeline (no Prefect, nothing of the caller). It loads its face
  detector on its first batch (:func:`~emofeat.pipeline.batch.detector_for` caches it per
  process).
- **Reused.** The pool is process-wide: a worker serves batch after batch, run after run, so
  spawning, importing and loading the model is paid once per worker per process (1.3-1.4 s
  each on a 2-core machine). It grows lazily to the number of batches run at once and is
  shut down at interpreter exit (or by :func:`shutdown`).
- **Supervised.** :func:`run_isolated` sends a :class:`~emofeat.pipeline.batch.BatchJob`
  over a pipe; the worker reports each clip as it starts it (the ``on_clip`` hook of
  :func:`~emofeat.pipeline.batch.run_batch`) and sends back the
  :class:`~emofeat.pipeline.batch.BatchResult` (the fork session it wrote its part into, and
  the ledger rows). If the pipe reaches its end or the process is gone, the clip it had
  started is the suspect: the batch runs again, once, in a fresh worker, from the original
  job (the fork session in the driver was never written to, so it is a clean start). If the
  same clip kills the worker again, the batch runs once more without it and the clip gets a
  failed row: stage ``worker``, kind ``worker_died``, a message naming how the process
  ended (``killed by SIGKILL: out of memory?``). Every clip gets at most two deaths, so a
  batch ends. ``worker_died`` is not one of the kinds a plain re-run retries
  (:data:`~emofeat.pipeline.plan.RETRIED_KINDS`): the clip would most likely kill the next
  run's worker too; ``--retry-failed`` processes it again (after, say, adding memory).
- **Deaths outside any clip.** A worker that dies before its first clip (starting up,
  unpickling the job, loading the face model) is replaced and the batch runs again; a
  second such death in the same batch raises :class:`WorkerError` (kind ``worker_died``,
  stage ``worker``), which ends the run like any error of the run itself (committed
  checkpoints stay). A death while writing the batch's last part, after its last clip, is
  counted against that last clip (the worker reports clip starts only).
- **Stopping.** Workers ignore SIGINT and SIGTERM (a terminal's Ctrl-C reaches the whole
  process group; the driver coordinates). When the driver's stop flag is set
  (:mod:`emofeat.pipeline.stopping`), the supervisor tells its worker, whose listener
  thread sets the worker's own flag: the batch ends after its current clip and returns its
  partial result, exactly as on a thread. A worker that dies while a stop is requested is
  not replaced: its batch records nothing (the next run processes its clips). A second
  Ctrl-C kills every child (:func:`~emofeat.pipeline.stopping.kill_children`).
- **No orphans.** A worker never outlives the driver, whatever signal ends it (SIGKILL
  included): on Linux it asks the kernel for SIGKILL when its parent dies
  (``prctl(PR_SET_PDEATHSIG)``; the kernel ties that to the parent *thread*, so workers are
  started from one long-lived thread), and a watchdog thread exits when its parent pid
  changes (other systems, or a race at start). It also exits when its pipe closes.
- **Logs.** A worker's log records are sent to the driver and handled by its loggers, at
  the driver's level: they look as if the batch ran on a thread.

In a daemonic process (a Dask worker), which cannot start children, :func:`run_isolated`
runs the batch in that process.
"""

from __future__ import annotations

import atexit
import ctypes
import dataclasses
import json
import logging
import multiprocessing
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import suppress
from multiprocessing.connection import Connection
from typing import Any

from emofeat.errors import EmofeatError
from emofeat.pipeline import stopping
from emofeat.pipeline.batch import BatchJob, BatchResult, run_batch
from emofeat.pipeline.plan import PlannedClip

log = logging.getLogger(__name__)

WORKER_DIED = "worker_died"
#: Seconds between the supervisor's checks of its worker's life and of the stop flag.
POLL_SECONDS = 0.1
#: Seconds a worker gets to exit on its own at shutdown before it is killed.
EXIT_SECONDS = 2.0
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class WorkerError(EmofeatError):
    """A worker process died twice outside any clip of one batch (at start, or loading the
    face model): the run cannot go on."""

    kind = WORKER_DIED
    stage = "worker"


# --------------------------------------------------------------------------- the driver side


def run_isolated(job: BatchJob) -> BatchResult:
    """:func:`~emofeat.pipeline.batch.run_batch` for ``job`` in a worker process of the pool,
    supervised: a clip on which the worker dies twice becomes a ``worker_died`` row and the
    batch goes on without it (see the module's docstring).

    Raises
    ------
    WorkerError
        When the worker dies twice outside any clip.
    FaceModelError
        When the worker cannot load the face detector, or its weights differ from the run's.
    StoreError
        When the worker cannot write its part.
    """
    if multiprocessing.current_process().daemon:  # a Dask worker: it may not have children
        return run_batch(job)
    died: dict[str, dict[str, Any]] = {}  # clip id -> its worker_died row
    suspects: set[str] = set()
    deaths_outside = 0
    clips = job.clips
    while clips:
        worker = _POOL.acquire()
        try:
            outcome = _attempt(worker, dataclasses.replace(job, clips=clips))
        finally:
            _POOL.release(worker)
        if isinstance(outcome, BatchResult):
            return _merged(job, outcome.session, [*outcome.rows, *died.values()], outcome.times)
        clip, how = outcome
        if stopping.requested():
            log.warning("a worker process died (%s) while the run stops: its batch records nothing", how)
            break
        if clip is None:
            deaths_outside += 1
            if deaths_outside > 1:
                raise WorkerError(
                    f"the worker process died twice before its first clip ({how}): "
                    "see its messages above, or run with --in-process to debug"
                )
            log.warning("a worker process died before its first clip (%s): starting another", how)
        elif clip in suspects:
            log.error(
                "%s: the worker process died twice on this clip (%s): recorded as %s", clip, how, WORKER_DIED
            )
            died[clip] = _died_row(job, next(p for p in clips if p.record.clip_id == clip), how)
            clips = tuple(p for p in clips if p.record.clip_id != clip)
        else:
            log.warning("%s: the worker process died on this clip (%s): running its batch again", clip, how)
            suspects.add(clip)
    return _merged(job, job.session, list(died.values()))


def busy() -> dict[int, str]:
    """The clip each busy worker process is on, by pid (read-only; for tests and monitoring)."""
    return {worker.pid: clip for worker in _POOL.all() if (clip := worker.clip) is not None}


def shutdown() -> None:
    """Stop every worker process of the pool (those still running are killed after
    :data:`EXIT_SECONDS`). Later batches start new ones. Runs at interpreter exit."""
    _POOL.close_all()


def _died_row(job: BatchJob, planned: PlannedClip, how: str) -> dict[str, Any]:
    return {
        "clip_id": planned.record.clip_id,
        "source_sha256": planned.sha256,
        "audio_sha256": planned.audio_sha256,
        "labels_sha256": planned.labels_sha256,
        "run": job.run_id,
        "status": "failed",
        "stage": "worker",
        "error_kind": WORKER_DIED,
        "error": f"the worker process died twice on this clip ({how})",
    }


def _merged(
    job: BatchJob, session: Any, rows: list[dict[str, Any]], times: dict[str, float] | None = None
) -> BatchResult:
    """The result with its rows in the job's clip order."""
    order = {planned.record.clip_id: index for index, planned in enumerate(job.clips)}
    return BatchResult(session, tuple(sorted(rows, key=lambda row: order[row["clip_id"]])), dict(times or {}))


def describe_exit(exitcode: int | None) -> str:
    """How a worker process ended, for a message: ``killed by SIGKILL: out of memory?``."""
    if exitcode is None:
        return "it closed its pipe"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"killed by {name}" + (": out of memory?" if -exitcode == signal.SIGKILL else "")
    return f"exited with status {exitcode}"


_Death = tuple[str | None, str]  # the clip it was on (None: outside any clip), how it ended


def _attempt(worker: _Worker, job: BatchJob) -> BatchResult | _Death:
    """Run ``job`` on ``worker``: its result, or the clip it died on and how it ended.

    Raises
    ------
    Exception
        Whatever ``run_batch`` raised in the worker.
    """
    stop_sent = stopping.requested()
    try:
        try:
            worker.conn.send(("run", job, stop_sent, logging.getLogger().getEffectiveLevel()))
        except OSError:  # it died while idle
            return None, worker.ended()
        while True:
            if stopping.requested() and not stop_sent:
                with suppress(OSError):  # a worker that just died is seen below
                    worker.conn.send(("stop",))
                stop_sent = True
            try:
                if not worker.conn.poll(POLL_SECONDS):
                    if worker.process.is_alive():
                        continue
                    if not worker.conn.poll(0):  # what it sent before dying is read first
                        raise EOFError
                kind, payload = worker.conn.recv()
            except (EOFError, OSError):
                return worker.clip, worker.ended()
            if kind == "clip":
                worker.clip = payload
            elif kind == "log":
                _handle(payload)
            elif kind == "done":
                result: BatchResult = payload
                return result
            elif kind == "error":
                raise payload
    finally:
        worker.clip = None


def _handle(record: logging.LogRecord) -> None:
    logger = logging.getLogger(record.name)
    if logger.isEnabledFor(record.levelno):
        logger.handle(record)


class _Worker:
    """The driver's handle on one worker process."""

    def __init__(self, process: _Process, conn: Connection):
        self.process = process
        self.conn = conn
        self.clip: str | None = None  # the clip it reported starting, during a batch
        self.dead = False

    @property
    def pid(self) -> int:
        return self.process.pid or 0

    def alive(self) -> bool:
        return not self.dead and self.process.is_alive()

    def ended(self) -> str:
        """Mark it dead, reap it, and say how it ended."""
        self.dead = True
        self.conn.close()
        self.process.join(EXIT_SECONDS)
        if self.process.exitcode is None:  # its pipe closed but it lives on: end it
            self.process.kill()
            self.process.join(EXIT_SECONDS)
            return "it closed its pipe"
        return describe_exit(self.process.exitcode)

    def stop(self) -> None:
        if not self.dead:
            with suppress(OSError):
                self.conn.send(("exit",))
        self.dead = True
        self.conn.close()
        self.process.join(EXIT_SECONDS)
        if self.process.exitcode is None:
            self.process.kill()
            self.process.join(EXIT_SECONDS)


class _Pool:
    """Worker processes, started on demand and kept for the next batch."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.idle: list[_Worker] = []
        self.workers: list[_Worker] = []
        self.requests: queue.SimpleQueue[Future[_Worker]] | None = None

    def all(self) -> list[_Worker]:
        with self.lock:
            return list(self.workers)

    def acquire(self) -> _Worker:
        with self.lock:
            while self.idle:
                worker = self.idle.pop()
                if worker.alive():
                    return worker
                self._forget(worker)
        worker = self._spawn()
        with self.lock:
            self.workers.append(worker)
        return worker

    def release(self, worker: _Worker) -> None:
        with self.lock:
            keep = worker.alive() and worker in self.workers
            if keep:
                self.idle.append(worker)
            else:
                self._forget(worker)
        if not keep:
            worker.stop()

    def _forget(self, worker: _Worker) -> None:
        with suppress(ValueError):
            self.workers.remove(worker)

    def close_all(self) -> None:
        with self.lock:
            workers, self.workers, self.idle = self.workers, [], []
        for worker in workers:
            worker.stop()

    def _spawn(self) -> _Worker:
        """A new worker, started by the spawner thread (see :func:`_spawner`)."""
        with self.lock:
            if self.requests is None:
                self.requests = queue.SimpleQueue()
                threading.Thread(
                    target=_spawner, args=(self.requests,), name="emofeat-worker-spawner", daemon=True
                ).start()
                atexit.register(shutdown)
            requests = self.requests
        future: Future[_Worker] = Future()
        requests.put(future)
        return future.result()


def _spawner(requests: queue.SimpleQueue[Future[_Worker]]) -> None:
    """Start workers for the pool, for the life of this process.

    A worker's ``PR_SET_PDEATHSIG`` fires when the *thread* that started it ends: a thread
    of a batch pool would take its workers with it. This one lives as long as the process.
    """
    while True:
        future = requests.get()
        try:
            ours, theirs = multiprocessing.Pipe(duplex=True)  # a socket pair
            with theirs:  # the worker holds the only other end: its death is an end of file here
                args = [json.dumps(sys.path), str(theirs.fileno()), str(os.getpid())]
                popen = subprocess.Popen(
                    [sys.executable, "-c", _BOOT, *args], stdin=subprocess.DEVNULL, pass_fds=[theirs.fileno()]
                )
            future.set_result(_Worker(_Process(popen), ours))
        except BaseException as exc:  # handed to the waiting batch
            future.set_exception(exc)


class _Process:
    """A worker's process, as much of :class:`multiprocessing.Process` as the pool uses."""

    def __init__(self, popen: subprocess.Popen[bytes]):
        self.popen = popen
        self.pid = popen.pid

    def is_alive(self) -> bool:
        return self.popen.poll() is None

    @property
    def exitcode(self) -> int | None:
        """``None`` while it runs; ``-N`` when signal ``N`` ended it."""
        return self.popen.poll()

    def join(self, timeout: float) -> None:
        with suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout)

    def kill(self) -> None:
        with suppress(OSError):
            self.popen.kill()


_POOL = _Pool()

#: A worker's command line: the parent's ``sys.path``, then the pipe's fd and the parent's pid.
#: SIGINT and SIGTERM are ignored from the start (the imports take a second or two).
_BOOT = (
    "import signal; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
    "from emofeat.pipeline.workers import _main; _main(int(sys.argv[2]), int(sys.argv[3]))"
)


# --------------------------------------------------------------------------- the worker side


def _main(fd: int, parent: int) -> None:
    """A worker process's main function: run the batch jobs that arrive on the pipe ``fd``
    one at a time, until the pipe closes or the driver says ``exit``."""
    for signum in stopping.SIGNALS:
        signal.signal(signum, signal.SIG_IGN)  # the driver coordinates stopping
    _die_with(parent)
    conn = Connection(fd)
    send = _sender(conn)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(_Forward(send))
    jobs: queue.SimpleQueue[BatchJob | None] = queue.SimpleQueue()
    threading.Thread(
        target=_listen, args=(conn, jobs, send), name="emofeat-worker-listener", daemon=True
    ).start()
    while (job := jobs.get()) is not None:
        # An exception is re-raised in the driver (a result that does not pickle included:
        # pickling comes before sending, so nothing of it was sent).
        try:
            send(("done", run_batch(job, on_clip=lambda clip_id: send(("clip", clip_id)))))
        except BaseException as exc:
            send(("error", _portable(exc)))
    _exit(0)


def _listen(conn: Connection, jobs: queue.SimpleQueue[BatchJob | None], send: Callable[[Any], None]) -> None:
    """Read the driver's messages: jobs for the main thread, stop requests for the batch."""
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the driver closed the pipe, or is gone
            _exit(0)
        except Exception as exc:  # a job that does not unpickle here
            send(("error", _portable(exc)))
            continue
        if message[0] == "run":  # the worker is idle: no batch reads the flag now
            _, job, stop, level = message
            stopping.reset()
            if stop:
                stopping.request()
            logging.getLogger().setLevel(level)
            jobs.put(job)
        elif message[0] == "stop":
            stopping.request()
        elif message[0] == "exit":
            jobs.put(None)
            return


def _sender(conn: Connection) -> Callable[[Any], None]:
    """``conn.send`` for several threads (the batch, and any thread that logs)."""
    lock = threading.Lock()

    def send(message: Any) -> None:
        with lock:
            try:
                conn.send(message)
            except OSError:  # the driver is gone
                _exit(1)

    return send


def _die_with(parent: int) -> None:
    """Make sure this process ends when ``parent`` does, whatever ends it."""
    if sys.platform.startswith("linux"):
        with suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:  # it died before the request above
        _exit(1)
    threading.Thread(target=_watch, args=(parent,), name="emofeat-worker-watchdog", daemon=True).start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    _exit(1)


def _exit(code: int) -> None:
    """End the worker now (no exit handlers: nothing of the batch is worth finishing)."""
    with suppress(Exception):
        sys.stderr.flush()
    os._exit(code)


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it pickles, else a ``RuntimeError`` with its type, message and trace."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # any pickling failure
        trace = "".join(traceback.format_exception(exc))
        return RuntimeError(f"{type(exc).__name__} in a worker process: {exc}\n{trace}")
    return exc


class _Forward(logging.Handler):
    """Send log records to the driver, formatted to plain data."""

    def __init__(self, send: Callable[[Any], None]):
        super().__init__()
        self.send = send

    def emit(self, record: logging.LogRecord) -> None:
        try:
            attrs = dict(record.__dict__)
            attrs |= {"msg": record.getMessage(), "args": None, "exc_info": None}
            if record.exc_info and not record.exc_text:
                attrs["exc_text"] = logging.Formatter().formatException(record.exc_info)
            self.send(("log", logging.makeLogRecord(attrs)))
        except Exception:  # logging never raises
            self.handleError(record)
