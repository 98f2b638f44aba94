"""Opening the versioned repository (icechunk) behind a store path, and its commit lock."""

from __future__ import annotations

import atexit
import fcntl
import logging
import os
import shutil
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import icechunk
import zarr
import zarr.errors

from emofeat.errors import NotFoundError, StoreError
from emofeat.store import layout, location
from emofeat.store.location import UNSUPPORTED

BRANCH = "main"

#: The file (inside the store directory) whose ``flock`` serialises commits.
LOCK_NAME = ".emofeat-commit.lock"
#: How long a commit waits for another process's commit before giving up (seconds).
LOCK_TIMEOUT_S = 120.0
#: How long a run whose creation of a store on object storage lost to another run's waits for
#: that store to appear (seconds).
CREATE_WAIT_S = 10.0

# The local-filesystem storage logs a warning on every open: it is not safe for concurrent
# commits. emofeat serialises every commit with :func:`commit_lock`. Keep the CLI's output clean.
icechunk.set_logs_filter(os.environ.get("ICECHUNK_LOG", "icechunk=error"))


def exit_without_finalizing(code: int) -> NoReturn:
    """End the process with ``code`` after its exit handlers, without finalizing the
    interpreter.

    icechunk's runtime threads may still be finishing a callback into Python when the
    interpreter finalizes; a thread that then asks for the GIL is ended with
    ``pthread_exit``, which cannot unwind through Rust frames, and the process aborts
    (SIGABRT, exit status 134: a few percent of processes that read a store, on Python
    3.11). So the ``atexit`` handlers run (emofeat's worker pool and Prefect's temporary
    server are stopped there), the logs and standard streams are flushed, and the process
    exits at once. The console script and the test session end this way.
    """
    atexit._run_exitfuncs()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def local_path(path: str | Path, purpose: str = "this") -> Path:
    """The directory of a local store.

    Raises
    ------
    StoreError
        Kind ``unsupported_store`` when ``path`` is on object storage (``purpose`` names what
        needs a local store).
    """
    where = location.parse(path)
    if where.path is None:
        raise StoreError(f"{purpose} needs a store on a local filesystem, not {where}", kind=UNSUPPORTED)
    return where.path


def _storage(path: Path) -> icechunk.Storage:
    return icechunk.local_filesystem_storage(str(path.resolve()))


@contextmanager
def commit_lock(path: str | Path, *, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the store's commit lock: an exclusive ``flock`` on ``<store>/.emofeat-commit.lock``.

    Every process and thread that commits to the store takes it around the commit (and its
    rebase), so commits never race: icechunk's local-filesystem storage has no atomic
    compare-and-swap of a branch. A store on object storage needs no lock (this holds
    nothing): there icechunk moves a branch with a conditional write, and a writer whose
    parent moved meanwhile rebases or fails with a conflict (:func:`writer.commit`).

    The kernel releases the lock when its holder dies, so a
    killed run never leaves the store locked. The holder writes its pid into the file.

    Raises
    ------
    StoreError
        Kind ``store_locked`` when another holder keeps the lock longer than ``timeout``
        seconds (the message names it); kind ``store_error`` when the lock file cannot be opened.
    """
    if not location.parse(path).is_local:  # icechunk's conditional writes serialise commits
        yield
        return
    lock = local_path(path) / LOCK_NAME
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise StoreError(f"cannot open the commit lock {str(lock)!r}: {exc.strerror or exc}") from exc
    try:
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 256, 0).decode(errors="replace").strip() or "unknown"
                    raise StoreError(
                        f"the store {str(lock.parent)!r} is locked by another commit ({holder}) for more "
                        f"than {timeout:g} s; wait for that run to finish, or stop it, and run again",
                        kind="store_locked",
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
        holder = f"pid {os.getpid()} on {socket.gethostname()} since {datetime.now(UTC).isoformat()}"
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def open_repo(path: str | Path, *, create: bool = False) -> icechunk.Repository:
    """Open the repository at ``path``; with ``create``, make it if it does not exist.

    A new store is made whole (root group and layout version ``emofeat_store``, one commit)
    before it appears at ``path``, so runs that start together on a new store never both
    create the root group, which would make the later one's first commit conflict.

    Raises
    ------
    NotFoundError
        When there is no store at ``path`` and ``create`` is false.
    StoreError
        When the path exists but is not an emofeat store, or cannot be opened.
    """
    where = location.parse(path)
    if where.path is None:
        return _open_object(where, create)
    p = where.path
    missing = NotFoundError(f"no emofeat store at {str(p)!r}; run `emofeat ingest ... --store {p}` first")
    if p.exists() and not p.is_dir():
        raise StoreError(f"{str(p)!r} is a file, not a store directory; choose another --store path")
    if not create and not p.is_dir():
        raise missing  # checked first: opening the storage would create the directory
    storage = _storage(p)
    try:
        if icechunk.Repository.exists(storage):
            repo = icechunk.Repository.open(storage)
            if create and not _initialised(repo):  # a store an older release left bare
                with commit_lock(p):
                    _initialise(repo)
            return repo
        if not create:
            raise missing
        if p.exists() and any(p.iterdir()):
            if icechunk.Repository.exists(storage):  # another run's new store appeared meanwhile
                return icechunk.Repository.open(storage)
            raise StoreError(f"{str(p)!r} is not empty and not an emofeat store; choose another --store path")
        _create(p)
        if not icechunk.Repository.exists(storage):
            raise StoreError(f"{str(p)!r} is not empty and not an emofeat store; choose another --store path")
        return icechunk.Repository.open(storage)
    except icechunk.IcechunkError as exc:
        raise StoreError(f"cannot open the store at {str(p)!r}: {exc}") from exc


def _open_object(where: location.Location, create: bool) -> icechunk.Repository:
    """Open (with ``create``, make) the repository at an object-storage location.

    Of runs that create the same store at once, icechunk's conditional write of the first
    branch lets one win; the others wait for the store to appear and open it. Of runs that
    then initialise it at once, one commit lands and the others find it done.

    Raises
    ------
    NotFoundError
        When there is no store there and ``create`` is false.
    StoreError
        Kind ``unsupported_store`` when the prefix holds other objects; kind ``store_error``
        when the storage fails (the message names the location and the service's error only).
    """
    storage = location.storage(where)
    try:
        if icechunk.Repository.exists(storage):
            repo = icechunk.Repository.open(storage)
        elif not create:
            hint = f"run `emofeat ingest ... --store {where}` first"
            raise NotFoundError(f"no emofeat store at {where}; {hint}")
        else:
            try:
                repo = icechunk.Repository.create(storage)
            except (icechunk.IcechunkError, icechunk.ConflictError):
                if not _appears(storage):
                    raise StoreError(
                        f"{where} holds objects but no emofeat store; choose an empty prefix for a new store",
                        kind=UNSUPPORTED,
                    ) from None
                repo = icechunk.Repository.open(storage)  # another run created it meanwhile
        if create and not _initialised(repo):
            try:
                _initialise(repo)
            except icechunk.ConflictError:  # another run initialised it meanwhile
                repo = icechunk.Repository.open(storage)
        return repo
    except (icechunk.IcechunkError, icechunk.ConflictError) as exc:
        raise StoreError(
            f"cannot open the store at {where}: {_first_line(exc)}; check that the bucket exists and that "
            f"the {location.SCHEMES[where.scheme]} credentials and endpoint in the environment are right",
        ) from None


def _appears(storage: icechunk.Storage) -> bool:
    """Whether a repository appears at ``storage`` within :data:`CREATE_WAIT_S`: another run
    creating it writes its objects first and its branch last (``exists`` looks for the branch)."""
    deadline = time.monotonic() + CREATE_WAIT_S
    while not icechunk.Repository.exists(storage):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _first_line(exc: BaseException) -> str:
    """The first line of an icechunk error (its context trace follows), without secrets:
    icechunk's messages name the object and the service's error, never a credential."""
    lines = [line.strip(" x|") for line in str(exc).splitlines() if line.strip(" x|")]
    return lines[0] if lines else type(exc).__name__


def _create(p: Path) -> None:
    """Make a new store at ``p``, initialised, in one step: built in a sibling directory, then
    renamed into place. Of runs that create the same store at once, one rename wins; the
    others find the store made and open it."""
    p.parent.mkdir(parents=True, exist_ok=True)
    staging = p.parent / f".{p.name}.creating-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        _initialise(icechunk.Repository.create(_storage(staging)))
        with suppress(OSError):  # ENOTEMPTY / EEXIST: another run's store is there now
            os.rename(staging, p)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _initialised(repo: icechunk.Repository) -> bool:
    try:
        root = zarr.open_group(repo.readonly_session(branch=BRANCH).store, mode="r")
    except (FileNotFoundError, zarr.errors.GroupNotFoundError):
        return False
    return "emofeat_store" in root.attrs


def _initialise(repo: icechunk.Repository) -> None:
    """Commit the root group with the layout version, unless it is there (hold the lock, or
    own the repository alone)."""
    if _initialised(repo):
        return
    session = repo.writable_session(BRANCH)
    root = zarr.open_group(session.store, mode="a")
    if "emofeat_store" in root.attrs:  # another run initialised it since the check above
        return
    root.attrs["emofeat_store"] = layout.LAYOUT_VERSION
    session.commit(
        f"emofeat store (layout {layout.LAYOUT_VERSION})",
        metadata={"emofeat_store": layout.LAYOUT_VERSION},
    )


@contextmanager
def scratch_repo(prefix: str = "emofeat-scratch-") -> Iterator[icechunk.Repository]:
    """A throw-away repository in a temporary directory, removed on exit.

    For work whose output is read and dropped, never kept (an audit's re-extraction): its
    sessions are never committed beyond the initial root group. It lives on the local disk,
    not in memory, because worker processes (:mod:`emofeat.pipeline.workers`) write chunks
    into its forked sessions, and an in-memory storage is private to one process.

    Raises
    ------
    StoreError
        When the temporary repository cannot be created.
    """
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        try:
            repo = icechunk.Repository.create(_storage(Path(tmp) / "repo"))
            _initialise(repo)
        except (icechunk.IcechunkError, OSError) as exc:
            raise StoreError(f"cannot create a scratch repository under {tmp!r}: {exc}") from exc
        yield repo


def resolve_snapshot(repo: icechunk.Repository, ref: str | None, *, tag: str | None = None) -> str:
    """The snapshot id named by ``ref``: a snapshot id, a tag or a branch (default ``main``),
    or by ``tag``, which must be a tag.

    Raises
    ------
    NotFoundError
        When ``ref`` names nothing in the repository, or ``tag`` is not a tag.
    ValueError
        When both are given.
    """
    if tag is not None:
        if ref is not None:
            raise ValueError("give a snapshot or a tag, not both")
        tags = sorted(repo.list_tags())
        if tag not in tags:
            raise NotFoundError(f"no tag named {tag!r} in this store (tags: {', '.join(tags) or 'none'})")
        return repo.lookup_tag(tag)
    if ref is None:
        return repo.lookup_branch(BRANCH)
    if ref in repo.list_tags():
        return repo.lookup_tag(ref)
    if ref in repo.list_branches():
        return repo.lookup_branch(ref)
    try:
        repo.lookup_snapshot(ref)
    except (icechunk.IcechunkError, ValueError) as exc:
        raise NotFoundError(f"no snapshot, tag or branch named {ref!r} in this store") from exc
    return ref
