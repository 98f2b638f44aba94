"""What a store keeps: the snapshot listing, dropping a feature version from the tip, and
garbage collection (icechunk's snapshot expiry, then deletion of what nothing reaches).

Retention rules:

* A snapshot a tag or a branch tip names is never expired or freed: tags (releases) and
  the tags branch :data:`~emofeat.store.tags.TAGS_BRANCH` stay readable whatever the age.
* :func:`gc` expires every other snapshot older than ``older_than`` and frees the objects
  (snapshots, manifests, chunks, transaction logs) that no kept snapshot reaches. Expiry
  shortens history: a kept snapshot's parent becomes the oldest kept ancestor (often the
  repository's first snapshot), so ``history`` lists fewer commits afterwards.
* Nothing younger than ``grace_hours`` (default 24) is expired or deleted, even with
  ``older_than`` zero: a running ingestion writes its batches' chunks before it commits
  them, and rebases its commits over the snapshots committed meanwhile; both must still be
  there when it commits. Pass ``grace_hours=0`` only when no run writes to the store.
* :func:`drop_version` removes a feature version from the tip in one commit; older
  snapshots (and the tags naming them) still read it until they expire.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import icechunk
import zarr

from emofeat.errors import NotFoundError, StoreError
from emofeat.store import layout
from emofeat.store.repo import BRANCH, LOCK_NAME, commit_lock, local_path, open_repo
from emofeat.store.writer import commit, existing_group, read_root

#: The default grace period (hours): objects younger than this are never expired or deleted.
GRACE_HOURS = 24.0

#: The icechunk directories a dry run copies (the ones expiry rewrites); the others are linked.
_REWRITTEN = ("refs", "snapshots")

Phase = Callable[[str], None]


def _no_phase(name: str) -> None:
    pass


@dataclass(frozen=True)
class Snapshot:
    """One snapshot of the store, as :func:`list_snapshots` lists it."""

    snapshot: str
    written_at: str
    message: str
    kind: str | None  # metadata["emofeat"]["kind"]: ingest, stats, drop, ... (None: no emofeat run)
    corpus: str | None
    feature_version: str | None
    counts: dict[str, int] | None
    tags: list[str]
    on_branch: bool  # in the history of main (False: a tagged snapshot that expiry took off it)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def list_snapshots(path: str | Path) -> list[Snapshot]:
    """The snapshots of ``main``'s history and every tagged snapshot, newest first, with the
    run recorded in each commit's metadata (``metadata["emofeat"]``).

    Raises
    ------
    NotFoundError
        When there is no store at ``path``.
    """
    repo = open_repo(path)
    named: dict[str, list[str]] = {}
    for name in sorted(repo.list_tags()):
        named.setdefault(repo.lookup_tag(name), []).append(name)
    infos = {info.id: (info, True) for info in repo.ancestry(branch=BRANCH)}
    for snapshot in named:
        if snapshot not in infos:
            infos[snapshot] = (repo.lookup_snapshot(snapshot), False)
    out = [_entry(info, named.get(sid, []), on_branch) for sid, (info, on_branch) in infos.items()]
    return sorted(out, key=lambda s: s.written_at, reverse=True)


def _entry(info: icechunk.SnapshotInfo, tags: list[str], on_branch: bool) -> Snapshot:
    run = info.metadata.get("emofeat")
    run = run if isinstance(run, dict) else {}
    counts = run.get("counts")
    return Snapshot(
        info.id,
        info.written_at.isoformat(),
        info.message,
        _text(run.get("kind")),
        _text(run.get("corpus")),
        _text(run.get("feature_version")),
        {str(k): int(v) for k, v in counts.items()} if isinstance(counts, dict) else None,
        tags,
        on_branch,
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class Dropped:
    """What :func:`drop_version` removed (or would remove, with ``dry_run``)."""

    corpus: str
    feature_version: str
    dropped_from: str  # the tip that still had it
    snapshot: str | None  # the new tip without it (None for a dry run)
    tags: list[str]  # the tags whose snapshots still read it
    dry_run: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def drop_version(
    path: str | Path, feature_version: str, corpus: str | None = None, *, dry_run: bool = False
) -> Dropped:
    """Remove ``/<corpus>/features/<feature_version>`` from the tip of ``main`` in one commit
    (metadata ``emofeat.kind = "drop"``). Older snapshots, and the tags naming them, still
    read it until :func:`gc` expires them; its chunks are freed once no kept snapshot has it.

    A run ingesting into the dropped version meanwhile fails its next commit with kind
    ``commit_conflict``.

    Raises
    ------
    NotFoundError
        When there is no store at ``path``, or the tip has no such feature version (for
        ``corpus``, when given).
    StoreError
        Kind ``ambiguous_feature_version`` when several corpora have it and ``corpus`` is
        not given; ``store_locked`` or ``commit_failed`` as :func:`writer.commit`.
    """
    repo = open_repo(path)
    with commit_lock(path):
        tip = repo.lookup_branch(BRANCH)
        owner = _owner(read_root(repo.readonly_session(snapshot_id=tip).store), feature_version, corpus)
        tags = [
            name
            for name in sorted(repo.list_tags())
            if _has_version(repo.readonly_session(tag=name), owner, feature_version)
        ]
        if dry_run:
            return Dropped(owner, feature_version, tip, None, tags, True)
        session = repo.writable_session(BRANCH)
        del zarr.open_group(session.store, mode="a")[layout.version_path(owner, feature_version)]
        metadata = {
            "emofeat": {
                "kind": "drop",
                "corpus": owner,
                "feature_version": feature_version,
                "dropped_from": tip,
            }
        }
        made = commit(session, f"drop {owner} {feature_version}", metadata)
    if made is None:  # pragma: no cover - deleting an existing group always changes the session
        raise StoreError(f"dropping {feature_version!r} changed nothing", kind="commit_failed")
    return Dropped(owner, feature_version, tip, made, tags, False)


def _owner(root: zarr.Group | None, feature_version: str, corpus: str | None) -> str:
    """The corpus whose ``features/`` holds ``feature_version`` at the tip."""
    try:
        layout.check_name(feature_version, "feature version")
        if corpus is not None:
            layout.check_name(corpus, "corpus name")
    except ValueError as exc:
        raise NotFoundError(f"{exc}; `emofeat versions --features --store ...` lists them") from None
    if root is None:
        raise NotFoundError(f"the store is empty: it has no feature version {feature_version!r}")
    corpora = sorted(name for name, _ in root.groups()) if corpus is None else [corpus]
    having = [c for c in corpora if _group_has(root, c, feature_version)]
    if not having:
        known = sorted({fv for c in corpora for fv, _ in _versions_of(root, c)})
        where = f"corpus {corpus!r}" if corpus else "any corpus"
        raise NotFoundError(
            f"no feature version {feature_version!r} in {where} at the tip of {BRANCH} "
            f"(it has: {', '.join(known) or 'none'}); `emofeat versions --features --store ...` lists them"
        )
    if len(having) > 1:
        raise StoreError(
            f"feature version {feature_version!r} is in several corpora ({', '.join(having)}); "
            "choose one with --corpus",
            kind="ambiguous_feature_version",
        )
    return having[0]


def _versions_of(root: zarr.Group, corpus: str) -> list[tuple[str, Any]]:
    features = existing_group(root, layout.features_path(corpus))
    return sorted(features.groups()) if features is not None else []


def _group_has(root: zarr.Group | None, corpus: str, feature_version: str) -> bool:
    return root is not None and existing_group(root, layout.version_path(corpus, feature_version)) is not None


def _has_version(session: icechunk.Session, corpus: str, feature_version: str) -> bool:
    return _group_has(read_root(session.store), corpus, feature_version)


@dataclass(frozen=True)
class Collected:
    """What :func:`gc` expired and freed (or would, with ``dry_run``)."""

    dry_run: bool
    expired_before: str  # snapshots older than this (and not named) were expired
    deleted_before: str  # unreachable objects older than this were deleted
    expired: list[str]  # the snapshots expired (no longer readable once freed)
    kept: dict[str, str]  # "tag <name>" / "branch <name>" -> the snapshot it keeps
    snapshots_deleted: int
    manifests_deleted: int
    chunks_deleted: int
    attributes_deleted: int
    transaction_logs_deleted: int
    bytes_deleted: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def gc(
    path: str | Path,
    *,
    older_than: timedelta = timedelta(0),
    grace_hours: float = GRACE_HOURS,
    now: datetime | None = None,
    dry_run: bool = False,
    phase: Phase = _no_phase,
) -> Collected:
    """Expire the snapshots no tag or branch names that are older than ``older_than`` (and
    than ``grace_hours``), then delete every object no kept snapshot reaches that is older
    than ``grace_hours``. Tags are always kept (see the module's retention rules).

    With ``dry_run`` the expiry and a dry-run collection run on a scratch copy of the
    store's refs and snapshots (chunks, manifests and transaction logs are linked, not
    copied, and never written): the store itself is not changed. ``phase`` is called with
    the name of each phase as it starts. The store's commit lock is held throughout: a
    commit that waits for it longer than its timeout meanwhile fails (kind ``store_locked``;
    run it again).

    Raises
    ------
    NotFoundError
        When there is no store at ``path``.
    StoreError
        Kind ``bad_argument`` for a negative ``older_than`` or ``grace_hours``;
        ``unsupported_store`` for ``dry_run`` on object storage; ``store_locked`` when a
        commit holds the lock too long; ``gc_failed`` when icechunk fails.
    """
    if older_than < timedelta(0) or grace_hours < 0:
        raise StoreError("--older-than and --grace-hours must not be negative", kind="bad_argument")
    now = now or datetime.now(UTC)
    deleted_before = now - timedelta(hours=grace_hours)
    expired_before = min(now - older_than, deleted_before)
    if dry_run:
        local_path(path, _DRY_RUN_NEEDS)  # unsupported_store before anything else
    open_repo(path)  # NotFoundError before anything else
    with commit_lock(path), _target(path, dry_run, phase) as repo:
        kept = {f"tag {t}": repo.lookup_tag(t) for t in sorted(repo.list_tags())}
        kept |= {f"branch {b}": repo.lookup_branch(b) for b in sorted(repo.list_branches())}
        try:
            phase(f"expiring snapshots older than {expired_before.isoformat(timespec='seconds')}")
            expired = repo.expire_snapshots(expired_before)
            phase(f"deleting unreachable objects older than {deleted_before.isoformat(timespec='seconds')}")
            summary = repo.garbage_collect(deleted_before, dry_run=dry_run)
        except icechunk.IcechunkError as exc:
            raise StoreError(f"garbage collection failed: {exc}", kind="gc_failed") from exc
    return Collected(
        dry_run,
        expired_before.isoformat(),
        deleted_before.isoformat(),
        sorted(set(expired) - set(kept.values())),
        kept,
        summary.snapshots_deleted,
        summary.manifests_deleted,
        summary.chunks_deleted,
        summary.attributes_deleted,
        summary.transaction_logs_deleted,
        summary.bytes_deleted,
    )


#: What needs a local store (in the message of its ``unsupported_store`` error).
_DRY_RUN_NEEDS = "a dry run of gc (it copies the store's refs beside it; run gc without --dry-run)"


@contextmanager
def _target(path: str | Path, dry_run: bool, phase: Phase) -> Iterator[icechunk.Repository]:
    """The repository to collect: the store itself, or for a dry run a scratch copy beside
    it whose refs and snapshots are copies and whose other directories link to the store's."""
    if not dry_run:
        yield open_repo(path)
        return
    phase("copying the store's refs and snapshots for a dry run")
    store = local_path(path, _DRY_RUN_NEEDS).resolve()
    try:
        scratch = Path(tempfile.mkdtemp(prefix=f".{store.name}.gc-dry-run-", dir=store.parent))
    except OSError:  # the store's parent is read-only: use the system's temporary directory
        scratch = Path(tempfile.mkdtemp(prefix=f"{store.name}.gc-dry-run-"))
    try:
        try:
            for entry in store.iterdir():
                if entry.name in _REWRITTEN:
                    shutil.copytree(entry, scratch / entry.name)
                elif entry.is_dir():
                    (scratch / entry.name).symlink_to(entry, target_is_directory=True)
                elif entry.name != LOCK_NAME:
                    shutil.copy2(entry, scratch / entry.name)
            copy = icechunk.Repository.open(icechunk.local_filesystem_storage(str(scratch)))
        except (OSError, icechunk.IcechunkError) as exc:
            raise StoreError(f"cannot copy the store for a dry run: {exc}", kind="gc_failed") from exc
        yield copy
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # unlinks the links; never follows them
