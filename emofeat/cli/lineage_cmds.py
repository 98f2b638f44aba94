"""``emofeat diff A B`` (what changed between two snapshots) and ``emofeat lineage CLIP_ID``
(where a clip's arrays came from)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

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

if TYPE_CHECKING:
    from emofeat.audit.diff import Change, CorpusDiff, StoreDiff
    from emofeat.audit.lineage import Lineage

LimitOpt = Annotated[
    int, typer.Option("--limit", min=0, help="Clips shown per section (0: all; --json lists all).")
]


def register(app: typer.Typer) -> None:
    """Add ``diff`` and ``lineage`` to ``app``."""
    app.command("diff")(diff_command)
    app.command("lineage")(lineage_command)


def diff_command(
    a: Annotated[str, typer.Argument(help="The earlier snapshot: a tag, branch or snapshot id.")],
    b: Annotated[str, typer.Argument(help="The later snapshot: a tag, branch or snapshot id.")],
    store: StoreOpt,
    corpus: CorpusOpt = None,
    limit: LimitOpt = 50,
    as_json: JsonOpt = False,
) -> None:
    """What changed from A to B: clips added, removed or changed, feature versions, config,
    implementation and weight changes side by side, label and fold changes, per corpus."""
    from emofeat.audit.diff import diff

    with errors_exit():
        found = diff(store, a, b, corpus)
    if as_json:
        emit_json(found.to_dict())
    else:
        print_diff(found, limit)


def lineage_command(
    clip_id: Annotated[str, typer.Argument(help="The clip: <corpus>/<source> (see `emofeat catalog`).")],
    store: StoreOpt,
    snapshot: SnapshotOpt = None,
    tag: TagOpt = None,
    feature_version: Annotated[
        str | None, typer.Option("--feature-version", help="The feature version (default: the latest).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Where a clip's stored arrays came from: source files and digests, stream offsets,
    config and feature version, implementation versions, weight digests, the run, its commit
    and its library versions (FFmpeg/PyAV, onnxruntime, openSMILE, numpy, emofeat)."""
    from emofeat.audit.lineage import lineage

    with errors_exit():
        snap, name = reference(snapshot, tag)
        found = lineage(store, clip_id, snapshot=snap, tag=name, feature_version=feature_version)
    if as_json:
        emit_json(found.to_dict())
    else:
        print_lineage(found)


# --------------------------------------------------------------------------- diff output


def print_diff(found: StoreDiff, limit: int) -> None:
    """The diff as readable sections, one block per corpus."""
    typer.echo(f"diff {found.a} ({found.snapshot_a}) -> {found.b} ({found.snapshot_b})")
    if found.empty:
        typer.echo("no differences")
        return
    for c in found.corpora:
        _print_corpus(c, limit)


def _print_corpus(c: CorpusDiff, limit: int) -> None:
    where = {"both": "in both", "added": "added in B", "removed": "removed in B"}[c.presence]
    typer.echo(f"\n{c.corpus} ({where}; latest feature version {c.latest_a or '-'} -> {c.latest_b or '-'})")
    if c.empty:
        typer.echo("  no differences")
        return
    _listing("clips added", [f"+ {clip}" for clip in c.clips_added], limit)
    _listing("clips removed", [f"- {clip}" for clip in c.clips_removed], limit)
    changed = [
        f"~ {ch.clip_id}: " + ", ".join(f"{f.key} {_show(f.a)} -> {_show(f.b)}" for f in ch.fields)
        for ch in c.clips_changed
    ]
    _listing("clips changed", changed, limit)
    versions = [f"+ {v}" for v in c.versions_added] + [f"- {v}" for v in c.versions_removed]
    _listing("feature versions", versions, 0)
    heading = f"{c.latest_a or '-'} | {c.latest_b or '-'}"
    for title, items in (("config", c.config), ("implementation", c.implementation), ("weights", c.weights)):
        _listing(f"{title} of {heading}", _side_by_side(items), 0, none="unchanged")
    _listing("labels changed", _side_by_side(c.labels, "->"), limit)
    _listing("folds changed", _side_by_side(c.folds, "->"), limit)


def _listing(title: str, lines: Sequence[str], limit: int, none: str = "none") -> None:
    if not lines:
        typer.echo(f"  {title}: {none}")
        return
    typer.echo(f"  {title} ({len(lines)}):")
    shown = lines if limit == 0 else lines[:limit]
    for line in shown:
        typer.echo(f"    {line}")
    if len(shown) < len(lines):
        typer.echo(f"    ... and {len(lines) - len(shown)} more (--limit 0 or --json for all)")


def _side_by_side(items: Sequence[Change], sep: str = "|") -> list[str]:
    width = max((len(c.key) for c in items), default=0)
    return [f"{c.key:<{width}}  {_show(c.a)} {sep} {_show(c.b)}" for c in items]


def _show(value: Any) -> str:
    return "-" if value is None else str(value)


# --------------------------------------------------------------------------- lineage output


def print_lineage(found: Lineage) -> None:
    """The lineage as readable sections."""
    from emofeat.audit.diff import flatten
    from emofeat.audit.lineage import KEY_LIBRARIES

    cat = found.catalog
    typer.echo(f"{found.clip_id}")
    typer.echo(f"  snapshot {found.snapshot}, feature version {found.feature_version}")
    typer.echo(
        f"  label {_show(cat.get('label'))} (unified {_show(cat.get('unified'))}), "
        f"split {_show(cat.get('split'))}, fold {_show(cat.get('fold'))}, subject {_show(cat.get('subject'))}"
    )
    typer.echo("sources:")
    for s in found.sources:
        starts = ", ".join(f"{k} starts at {_show(v)} s" for k, v in s.streams.items() if v is not None)
        typer.echo(f"  {s.role}  {s.absolute or s.path}")
        typer.echo(f"    sha256 {_show(s.sha256)}; {starts or 'no stream offsets recorded'}")
    typer.echo(f"config ({found.feature_version}):")
    for line in _side_by_side_one(flatten(found.config)):
        typer.echo(f"  {line}")
    typer.echo("implementation: " + ", ".join(f"{k} {v}" for k, v in sorted(found.implementation.items())))
    typer.echo("weights:")
    for name, digest in sorted(found.weights.items()):
        typer.echo(f"  {name}  sha256 {digest}")
    if found.status is None:
        typer.echo(f"arrays: none (feature version {found.feature_version} has not processed this clip)")
    elif found.failure is not None:
        f = found.failure
        typer.echo(f"failed at stage {f['stage']} ({f['error_kind']}): {f['error']}")
    else:
        typer.echo("arrays:")
        width = max((len(a.key) for a in found.arrays), default=0)
        for a in found.arrays:
            kind = "  per clip" if a.per_clip else ""
            typer.echo(f"  {a.key:<{width}}  {tuple(a.shape)} {a.dtype}{kind}")
    if found.commit is not None:
        c = found.commit
        typer.echo(f"written by run {found.run} in commit {c.snapshot} at {c.written_at} ({c.message})")
    else:
        typer.echo(f"written by run {_show(found.run)} (no commit of it in this snapshot's history)")
    _print_environment(found, KEY_LIBRARIES)


def _print_environment(found: Lineage, first: Sequence[str]) -> None:
    env = found.environment
    if not env:
        typer.echo("environment: not recorded")
        return
    source = "the commit" if found.environment_from == "commit" else "the feature version's first run"
    typer.echo(f"environment (from {source}):")
    libraries = {str(k): v for k, v in (env.get("libraries") or {}).items()}
    ffmpeg = dict(env.get("ffmpeg") or {})
    for name in first:
        typer.echo(f"  {name:<12} {_show(libraries.get(name))}")
        if name == "av":
            libs = ", ".join(f"{k} {v}" for k, v in sorted(ffmpeg.items()) if k != "version")
            typer.echo(f"  {'ffmpeg':<12} {_show(ffmpeg.get('version'))}" + (f" ({libs})" if libs else ""))
    others = ", ".join(f"{k} {_show(v)}" for k, v in sorted(libraries.items()) if k not in first)
    if others:
        typer.echo(f"  {'others':<12} {others}")
    for key in ("python", "platform", "code_sha256"):
        typer.echo(f"  {key:<12} {_show(env.get(key))}")


def _side_by_side_one(values: dict[str, Any]) -> list[str]:
    width = max((len(k) for k in values), default=0)
    return [f"{k:<{width}}  {_show(v)}" for k, v in sorted(values.items())]
