"""Opening the versioned repository (icechunk) behind a store path."""

from __future__ import annotations

import os
from pathlib import Path

import icechunk

from emofeat.errors import NotFoundError, StoreError

BRANCH = "main"

# The local-filesystem storage logs a warning on every open (it is not safe for concurrent
# *commits*; emofeat commits from one process only). Keep the CLI's output clean.
icechunk.set_logs_filter(os.environ.get("ICECHUNK_LOG", "icechunk=error"))


def _storage(path: str | Path) -> icechunk.Storage:
    text = str(path)
    if "://" in text and not text.startswith("file://"):
        raise StoreError(
            f"store {text!r}: only local paths are supported in this release", kind="unsupported_store"
        )
    return icechunk.local_filesystem_storage(str(Path(text.removeprefix("file://")).resolve()))


def open_repo(path: str | Path, *, create: bool = False) -> icechunk.Repository:
    """Open the repository at ``path``; with ``create``, make it if it does not exist.

    Raises
    ------
    NotFoundError
        When there is no store at ``path`` and ``create`` is false.
    StoreError
        When the path exists but is not an emofeat store, or cannot be opened.
    """
    p = Path(str(path).removeprefix("file://"))
    missing = NotFoundError(f"no emofeat store at {str(p)!r}; run `emofeat ingest ... --store {p}` first")
    if p.exists() and not p.is_dir():
        raise StoreError(f"{str(p)!r} is a file, not a store directory; choose another --store path")
    if not create and not p.is_dir():
        raise missing  # checked first: opening the storage would create the directory
    storage = _storage(path)
    try:
        if icechunk.Repository.exists(storage):
            return icechunk.Repository.open(storage)
        if not create:
            raise missing
        if p.exists() and any(p.iterdir()):
            raise StoreError(f"{str(p)!r} is not empty and not an emofeat store; choose another --store path")
        p.mkdir(parents=True, exist_ok=True)
        return icechunk.Repository.create(storage)
    except icechunk.IcechunkError as exc:
        raise StoreError(f"cannot open the store at {str(p)!r}: {exc}") from exc


def resolve_snapshot(repo: icechunk.Repository, ref: str | None) -> str:
    """The snapshot id named by ``ref``: a snapshot id, a tag or a branch (default ``main``).

    Raises
    ------
    NotFoundError
        When ``ref`` names nothing in the repository.
    """
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
