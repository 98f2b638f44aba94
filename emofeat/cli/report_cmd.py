"""``emofeat report``: the quality-control report of a snapshot, as an HTML page with figures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emofeat.audit.report_tables import SAMPLE, TIMELINES
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


def report(
    store: StoreOpt,
    out: Annotated[Path, typer.Option("--out", help="Directory of the report (index.html and PNGs).")],
    corpus: CorpusOpt = None,
    sample: Annotated[int, typer.Option("--sample", min=0, help="Clips on each contact sheet.")] = SAMPLE,
    timelines: Annotated[
        int, typer.Option("--timelines", min=0, help="Clips with a timeline, per corpus.")
    ] = TIMELINES,
    seed: Annotated[int, typer.Option("--seed", help="Seeds the samples.")] = 0,
    snapshot: SnapshotOpt = None,
    tag: TagOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write a quality-control report to OUT/index.html: per corpus, a contact sheet of face
    crops, tags over the waveform, label / duration / face-ratio histograms, folds by subject
    and the failures by stage and kind. It opens from disk, offline.

    Progress goes to stderr. Only the sampled clips are read.
    """
    from emofeat.audit.report import build_report
    from emofeat.cli.progress import open_progress

    with errors_exit():
        snap, release = reference(snapshot, tag)
        with open_progress() as progress:
            summary = build_report(
                store,
                out,
                corpus=corpus,
                sample=sample,
                timelines=timelines,
                seed=seed,
                snapshot=snap,
                tag=release,
                progress=progress,
            )
    if as_json:
        emit_json(summary)
        return
    for name, entry in summary["corpora"].items():
        clips = ", ".join(f"{v} {k}" for k, v in entry["clips"].items())
        typer.echo(f"{name}  {entry['feature_version']}  {clips}")
    typer.echo(f"report of snapshot {summary['snapshot']}: {summary['index']}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command(name="report")(report)
