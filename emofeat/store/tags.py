"""Release tags: immutable names of snapshots, each with a message and a time.

A tag is an icechunk tag (a name that pins one snapshot: garbage collection never frees a
tagged snapshot). icechunk tags carry no text, so each tag's message and creation time are
kept in the root attributes of a branch of their own, :data:`TAGS_BRANCH`, which holds no
data: its commits change only that attribute. Tags are never moved or deleted by emofeat;
re-using a name is an error.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import icechunk
import zarr

from emofeat.errors import StoreError
from emofeat.store import layout
from emofeat.store.repo import BRANCH, commit_lock, open_repo, resolve_snapshot

#: The branch whose root attribute :data:`TAGS_ATTR` holds every tag's message and time.
TAGS_BRANCH = "emofeat-tags"
TAGS_ATTR = "emofeat_tags"


@dataclass(frozen=True)
class Tag:
    """One release tag."""

    name: str
    snapshot: str
    message: str
    created: str | None  # when the tag was made (None for a tag made outside emofeat)
    written_at: str  # when the tagged snapshot was committed
    commit_message: str  # the tagged snapshot's own commit message

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def tag(path: str | Path, name: str, snapshot: str | None = None, message: str | None = None) -> Tag:
    """Name ``snapshot`` (an id, tag or branch; default: the tip of ``main``) ``name``.

    Raises
    ------
    StoreError
        Kind ``tag_exists`` when the name is taken (tags are immutable), ``bad_name`` when
        it is not a safe name.
    NotFoundError
        When there is no store at ``path`` or no such snapshot.
    """
    try:
        layout.check_name(name, "tag name")
    except ValueError as exc:
        raise StoreError(str(exc), kind="bad_name") from exc
    repo = open_repo(path)
    target = resolve_snapshot(repo, snapshot)
    created = datetime.now(UTC).isoformat()
    with commit_lock(path):
        if name in repo.list_tags():
            raise StoreError(
                f"tag {name!r} exists (snapshot {repo.lookup_tag(name)}); tags are immutable: "
                "choose another name",
                kind="tag_exists",
            )
        _record(repo, name, {"snapshot": target, "message": message or "", "created": created})
        try:
            repo.create_tag(name, target)
        except icechunk.IcechunkError as exc:  # a name deleted outside emofeat cannot be re-used
            raise StoreError(f"cannot create tag {name!r}: {exc}", kind="tag_exists") from exc
    return next(t for t in list_tags(path) if t.name == name)


def list_tags(path: str | Path) -> list[Tag]:
    """Every tag of the store, oldest snapshot first.

    Raises
    ------
    NotFoundError
        When there is no store at ``path``.
    """
    repo = open_repo(path)
    notes = _notes(repo)
    out = []
    for name in repo.list_tags():
        snapshot = repo.lookup_tag(name)
        info = repo.lookup_snapshot(snapshot)
        note = notes.get(name, {})
        out.append(
            Tag(
                name,
                snapshot,
                str(note.get("message", "")),
                note.get("created"),
                info.written_at.isoformat(),
                info.message,
            )
        )
    return sorted(out, key=lambda t: (t.written_at, t.name))


def _notes(repo: icechunk.Repository) -> dict[str, dict[str, Any]]:
    if TAGS_BRANCH not in repo.list_branches():
        return {}
    root = zarr.open_group(repo.readonly_session(branch=TAGS_BRANCH).store, mode="r")
    notes = root.attrs.get(TAGS_ATTR, {})
    return dict(notes) if isinstance(notes, dict) else {}


def _record(repo: icechunk.Repository, name: str, note: dict[str, Any]) -> None:
    """Add ``name``'s note to the tags branch (made from the store's first snapshot)."""
    if TAGS_BRANCH not in repo.list_branches():
        first = list(repo.ancestry(branch=BRANCH))[-1].id
        repo.create_branch(TAGS_BRANCH, first)
    session = repo.writable_session(TAGS_BRANCH)
    root = zarr.open_group(session.store, mode="a")
    stored = root.attrs.get(TAGS_ATTR, {})
    notes: dict[str, Any] = dict(stored) if isinstance(stored, dict) else {}
    notes[name] = note
    root.attrs[TAGS_ATTR] = notes
    session.commit(f"tag {name}", metadata={"emofeat": {"kind": "tag", "tag": name, **note}})
