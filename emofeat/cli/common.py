"""What every command shares: its options, the way it fails, and its JSON output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer

from emofeat.errors import ConfigError, EmofeatError

StoreOpt = Annotated[
    str, typer.Option("--store", help="The feature store: a path, or s3://bucket/prefix (gs://, az://).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
SnapshotOpt = Annotated[
    str | None, typer.Option("--snapshot", help="Snapshot id, tag or branch to read (default: main).")
]
TagOpt = Annotated[str | None, typer.Option("--tag", help="A release tag to read (see `emofeat tags`).")]
CorpusOpt = Annotated[str | None, typer.Option("--corpus", help="Only this corpus.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Say what would change; change nothing.")]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Log progress (before or after the command).")
]


def fail(exc: EmofeatError, code: int = 1) -> NoReturn:
    """The one way a command exits on error: a readable line on stderr and a non-zero code."""
    typer.echo(f"emofeat: error ({exc.kind}): {exc.message}", err=True)
    raise typer.Exit(code)


@contextmanager
def errors_exit() -> Iterator[None]:
    """Turn an :class:`~emofeat.errors.EmofeatError` raised inside into :func:`fail`."""
    try:
        yield
    except EmofeatError as exc:
        fail(exc)


def reference(snapshot: str | None, tag: str | None) -> tuple[str | None, str | None]:
    """The ``(snapshot, tag)`` a read command was given: at most one of the two.

    Raises
    ------
    ConfigError
        When both are given.
    """
    if snapshot is not None and tag is not None:
        raise ConfigError("give --snapshot or --tag, not both")
    return snapshot, tag


def emit_json(obj: Any) -> None:
    """One JSON object on one line of stdout (keys sorted)."""
    typer.echo(json.dumps(obj, ensure_ascii=False, sort_keys=True, default=str))
