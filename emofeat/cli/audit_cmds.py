"""``emofeat audit``: do the stored features still match their sources, checksums and config?"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from emofeat.audit import DEFAULT_SAMPLE
from emofeat.cli.common import (
    CorpusOpt,
    JsonOpt,
    SnapshotOpt,
    StoreOpt,
    TagOpt,
    emit_json,
    errors_exit,
    fail,
    reference,
)

if TYPE_CHECKING:
    from emofeat.audit.verify import AuditReport


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("audit")(audit_command)


def audit_command(
    store: StoreOpt,
    corpus: CorpusOpt = None,
    feature_version: Annotated[
        str | None, typer.Option("--feature-version", help="Audit this version (default: the latest).")
    ] = None,
    sample: Annotated[
        int, typer.Option("--sample", help="Clips checked per corpus, drawn at random (0: every clip).")
    ] = DEFAULT_SAMPLE,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sample.")] = 0,
    root: Annotated[
        Path | None,
        typer.Option("--root", help="Where the corpus is now, if it moved (one corpus: give --corpus)."),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes re-extracting at once.")] = 1,
    snapshot: SnapshotOpt = None,
    tag: TagOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Audit a snapshot: re-hash the sources, verify the stored arrays' dtypes, shapes and
    write-time checksums, and extract the clips again to check they reproduce bit for bit.

    Checks a random sample of each corpus's clips (--sample, --seed; 0 checks every clip).

    Prints every difference (clip, array, size) and exits with status 1 when there is any.

    Progress goes to stderr.
    """
    from emofeat.audit.verify import AuditFailed, audit
    from emofeat.cli.progress import open_progress
    from emofeat.errors import ConfigError
    from emofeat.store import open_store

    with errors_exit():
        ref = reference(snapshot, tag)
        roots = None
        if root is not None:
            names = [corpus] if corpus is not None else open_store(store, *ref).corpora()
            if len(names) != 1:
                raise ConfigError(f"--root needs --corpus: the store has {len(names)} corpora")
            roots = {names[0]: root}
        with open_progress() as progress:
            report = audit(
                store,
                corpus=corpus,
                feature_version=feature_version,
                sample=sample,
                seed=seed,
                snapshot=ref[0],
                tag=ref[1],
                roots=roots,
                workers=workers,
                progress=progress,
            )
    if as_json:
        emit_json(report.to_dict())
    else:
        print_report(report)
    if not report.passed:
        fail(AuditFailed(f"the audit found {len(report.findings)} differences (listed above)"))


def print_report(report: AuditReport) -> None:
    """Each finding and note on a line, then one summary line."""
    for finding in report.findings:
        typer.echo(f"{finding.kind}: {finding.message}")
    for note in report.notes:
        typer.echo(f"note: {note.message}")
    sampled = sum(len(c.sampled) for c in report.corpora)
    clips = sum(c.clips for c in report.corpora)
    versions = ", ".join(f"{c.corpus} {c.feature_version}" for c in report.corpora) or "nothing"
    if report.passed:
        typer.echo(
            f"audit passed: {sampled} of {clips} clips ({versions}) at snapshot {report.snapshot}: "
            "sources, checksums and re-extraction match"
        )
    else:
        where = len({f.clip for f in report.findings if f.clip is not None})
        typer.echo(
            f"audit found {len(report.findings)} differences ({where} clips affected) in {sampled} "
            f"sampled of {clips} clips ({versions}) at snapshot {report.snapshot}"
        )
