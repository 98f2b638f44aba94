"""Human-readable output of the CLI."""

from __future__ import annotations

from typing import Any

import typer


def print_summary(result: dict[str, Any]) -> None:
    """Print an ingest (or dry-run) summary."""
    clips = result["clips"]
    counts = ", ".join(f"{k} {v}" for k, v in clips.items())
    if result.get("dry_run"):
        typer.echo(f"{result['corpus']} {result['feature_version']} (dry run): {counts}")
    else:
        typer.echo(f"{result['corpus']} -> {result['store']}")
        typer.echo(f"  feature version {result['feature_version']}, snapshot {result['snapshot']}")
        typer.echo(f"  clips: {counts} in {result['seconds']:.1f} s")
        for f in result.get("failures", []):
            typer.echo(f"  failed {f['clip_id']} at {f['stage']} ({f['error_kind']}): {f['error']}")
    for item in result.get("ignored", []):
        typer.echo(f"  ignored {item['source']}: {item['reason']}")
