"""``emofeat tag``, ``tags``, ``versions`` (and ``versions drop``) and ``gc``: what a store keeps."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from emofeat.cli.common import (
    CorpusOpt,
    DryRunOpt,
    JsonOpt,
    SnapshotOpt,
    StoreOpt,
    TagOpt,
    emit_json,
    errors_exit,
    reference,
)
from emofeat.errors import ConfigError

#: ``emofeat versions``: the snapshot listing, and ``versions drop``.
versions_app = typer.Typer(
    invoke_without_command=True,
    no_args_is_help=False,
    help="The store's snapshots (or, with --features, its feature versions); `drop` removes one.",
)


def register(app: typer.Typer) -> None:
    app.add_typer(versions_app, name="versions")
    app.command("tag")(tag_command)
    app.command()(tags)
    app.command()(gc)


@versions_app.callback()
def versions(
    ctx: typer.Context,
    store: Annotated[
        str | None, typer.Option("--store", help="The feature store: a path or s3://bucket/prefix.")
    ] = None,
    features: Annotated[
        bool, typer.Option("--features", help="List the feature versions of a snapshot instead.")
    ] = False,
    corpus: CorpusOpt = None,
    snapshot: SnapshotOpt = None,
    tag: TagOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the snapshots of main, newest first: time, run kind, corpus, feature version,
    counts and the tags naming each. With --features: the feature versions of one snapshot
    (default: the tip), with their config and clip counts."""
    if ctx.invoked_subcommand is not None:
        return
    if store is None:  # optional here so that `versions drop ... --store S` parses
        raise typer.BadParameter("the store to list is required", param_hint="'--store'")
    with errors_exit():
        if features:
            _list_features(store, corpus, snapshot, tag, as_json)
            return
        if corpus is not None or snapshot is not None or tag is not None:
            raise ConfigError(
                "--corpus, --snapshot and --tag choose what --features lists; "
                "add --features, or leave them out to list every snapshot"
            )
        from emofeat.store.retention import list_snapshots

        found = list_snapshots(store)
    for s in found:
        if as_json:
            emit_json(s.to_dict())
            continue
        counts = " ".join(f"{k}={v}" for k, v in sorted((s.counts or {}).items()))
        named = f"  [{', '.join(s.tags)}]" if s.tags else ""
        off = "" if s.on_branch else "  (tagged, off main's expired history)"
        typer.echo(
            f"{s.snapshot}  {s.written_at}  {s.kind or '-':6s} {s.corpus or '-'}  "
            f"{s.feature_version or '-'}  {counts or '-'}  {s.message}{named}{off}"
        )


def _list_features(
    store: str | Path, corpus: str | None, snapshot: str | None, tag: str | None, as_json: bool
) -> None:
    from emofeat.store import open_store

    found = open_store(store, *reference(snapshot, tag)).feature_versions(corpus)
    for v in found:
        if as_json:
            emit_json(v)
        else:
            typer.echo(
                f"{v['feature_version']}  {v['corpus']}  ok={v['clips']['ok']} failed={v['clips']['failed']}"
            )


@versions_app.command("drop")
def drop(
    feature_version: Annotated[str, typer.Argument(help="The feature version to remove (fv-...).")],
    store: StoreOpt,
    corpus: CorpusOpt = None,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Remove a feature version from the tip of main in one commit. Older snapshots and the
    tags naming them still read it until `emofeat gc` expires them."""
    from emofeat.store.retention import drop_version

    with errors_exit():
        dropped = drop_version(store, feature_version, corpus, dry_run=dry_run)
    if as_json:
        emit_json(dropped.to_dict())
        return
    done = "would drop" if dry_run else "dropped"
    where = f" (new tip {dropped.snapshot})" if dropped.snapshot else ""
    typer.echo(f"{done} {dropped.corpus} {dropped.feature_version} from main{where}")
    named = f"; tags {', '.join(dropped.tags)} still read it" if dropped.tags else ""
    typer.echo(f"snapshots up to {dropped.dropped_from} still read it until they expire{named}")


def gc(
    store: StoreOpt,
    keep_tags: Annotated[
        bool,
        typer.Option("--keep-tags", help="Keep every tagged snapshot (always on: tags are never freed)."),
    ] = True,
    older_than: Annotated[
        float, typer.Option("--older-than", min=0, help="Expire untagged snapshots older than DAYS.")
    ] = 0.0,
    grace_hours: Annotated[
        float,
        typer.Option(
            "--grace-hours",
            min=0,
            help="Never expire or delete anything younger than this (a running ingest's batches "
            "are not committed yet); 0 only when nothing writes to the store.",
        ),
    ] = 24.0,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Expire the snapshots no tag or branch names and free their chunks (icechunk's expiry
    and garbage collection), printing what it frees. Tagged snapshots are never freed."""
    del keep_tags  # the only mode: accepted so that `gc --keep-tags` reads as what it does
    from emofeat.cli.progress import open_progress
    from emofeat.store.retention import gc as collect

    with errors_exit(), open_progress() as progress:
        report = collect(
            store,
            older_than=timedelta(days=older_than),
            grace_hours=grace_hours,
            dry_run=dry_run,
            phase=lambda name: progress.phase(name, None),
        )
    if as_json:
        emit_json(report.to_dict())
        return
    for line in gc_lines(report.to_dict()):
        typer.echo(line)


def gc_lines(report: dict[str, Any]) -> list[str]:
    """The readable summary of a :class:`~emofeat.store.retention.Collected` (as a dict)."""
    would = "would " if report["dry_run"] else ""
    kept = ", ".join(sorted(report["kept"]))
    freed = (
        f"{report['snapshots_deleted']} snapshots, {report['manifests_deleted']} manifests, "
        f"{report['chunks_deleted']} chunks, {report['transaction_logs_deleted']} transaction logs: "
        f"{_size(report['bytes_deleted'])}"
    )
    return [
        f"{would}expire {len(report['expired'])} snapshots older than {report['expired_before']}",
        f"kept: {kept}",
        f"{would}free {freed} (objects older than {report['deleted_before']})",
    ]


def _size(n: int) -> str:
    """``512 B``, ``17.3 KiB``, ``2.0 GiB``."""
    if n < 1024:
        return f"{n} B"
    value = n / 1024
    for unit in ("KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


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
