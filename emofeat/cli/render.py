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
        cost = result.get("audio_cost_ms_per_s", {})
        if cost:
            parts = ", ".join(f"{k} {v:g}" for k, v in cost.items() if k != "all")
            typer.echo(
                f"  audio features: {cost['all']:g} ms per s of audio here ({parts or 'no openSMILE set'})"
            )
    else:
        typer.echo(f"{result['corpus']} -> {result['store']}")
        typer.echo(f"  feature version {result['feature_version']}, snapshot {result['snapshot']}")
        typer.echo(f"  clips: {counts} in {result['seconds']:.1f} s")
        if stages := result.get("stage_seconds"):
            typer.echo(f"  stages (busy s): {stage_line(stages)}")
        for f in result.get("failures", []):
            typer.echo(f"  failed {f['clip_id']} at {f['stage']} ({f['error_kind']}): {f['error']}")
    print_ignored(result.get("ignored", {}))


def print_ignored(ignored: dict[str, Any]) -> None:
    """Ignored files: one line per reason (most frequent first) with a few examples."""
    total = ignored.get("count", 0)
    if not total:
        return
    typer.echo(f"  ignored {total} file{'s' if total != 1 else ''}:")
    by_reason = sorted(ignored["by_reason"].items(), key=lambda kv: (-kv[1]["count"], kv[0]))
    width = len(str(by_reason[0][1]["count"]))
    for reason, entry in by_reason:
        examples = ", ".join(entry["examples"])
        more = ", ..." if entry["count"] > len(entry["examples"]) else ""
        typer.echo(f"    {entry['count']:>{width}}  {reason}: {examples}{more}")


def stage_line(seconds: dict[str, float]) -> str:
    """``plan 0.41  probe 0.02  decode 1.90 ...``: seconds per stage, in pipeline order."""
    return "  ".join(f"{stage} {value:.2f}" for stage, value in seconds.items())


def timings_line(timings: dict[str, Any]) -> str:
    """One line of a commit's recorded timings (see :mod:`emofeat.pipeline.timing`): the
    clips processed so far, the wall time, each stage's busy seconds and ms per clip."""
    from emofeat.pipeline.timing import StageTimes  # stored metadata keeps no key order

    clips = int(timings.get("clips", 0))
    stages = StageTimes(timings.get("stage_seconds", {})).as_dict()
    head = f"{clips} clips, {float(timings.get('wall_seconds', 0.0)):.1f} s wall"
    if not clips:
        return f"{head}; busy s: {stage_line(stages)}"
    per_clip = "  ".join(f"{stage} {1000 * value / clips:.0f}" for stage, value in stages.items())
    return f"{head}; ms per clip: {per_clip}"
