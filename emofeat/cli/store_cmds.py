"""``emofeat tag``, ``tags``, ``versions`` (and ``versions drop``) and ``gc``: what a store keeps."""

from __future__ import annotations

from typing import Annotated

import typer

from emofeat.cli.common import (
    CorpusOpt,
    JsonOpt,
    SnapshotOpt,
    StoreOpt,
    TagOpt,
    emit_json,
    errors_exit,
    reference,
)


def register(app: typer.Typer) -> None:
    app.command()(versions)
    app.command("tag")(tag_command)
    app.command()(tags)


def versions(
    store: StoreOpt,
    corpus: CorpusOpt = None,
    snapshot: SnapshotOpt = None,
    tag: TagOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the feature versions in the store, with their config and clip counts."""
    from emofeat.store import open_store

    with errors_exit():
        found = open_store(store, *reference(snapshot, tag)).feature_versions(corpus)
    if as_json:
        for v in found:
            emit_json(v)
    else:
        for v in found:
            typer.echo(
                f"{v['feature_version']}  {v['corpus']}  ok={v['clips']['ok']} failed={v['clips']['failed']}"
            )


def tag_command(
    name: Annotated[str, typer.Argument(help="The release's name (letters, digits, '_', '.', '-').")],
    store: StoreOpt,
    snapshot: SnapshotOpt = None,
    message: Annotated[str | None, typer.Option("--message", "-m", help="What the release is.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Name a snapshot (default: the tip) as a release. Tags are immutable: a name is used once."""
    from emofeat.store.tags import tag as make_tag

    with errors_exit():
        made = make_tag(store, name, snapshot, message)
    if as_json:
        emit_json(made.to_dict())
    else:
        typer.echo(f"tagged {made.snapshot} as {made.name}")


def tags(store: StoreOpt, as_json: JsonOpt = False) -> None:
    """The store's release tags, oldest first, with their snapshot and message."""
    from emofeat.store.tags import list_tags

    with errors_exit():
        found = list_tags(store)
    for t in found:
        if as_json:
            emit_json(t.to_dict())
        else:
            typer.echo(f"{t.name:16s} {t.snapshot}  {t.written_at}  {t.message}")
