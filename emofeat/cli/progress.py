"""Progress of a run on stderr: a live bar on a terminal, one line per phase and checkpoint
otherwise (logs, CI, pipes). Both implement :class:`emofeat.pipeline.progress.Progress`.

Rates and ETAs are the same in both: units done in the phase over the time since it began.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, ProgressColumn, Task, TaskID, TextColumn
from rich.progress import Progress as RichProgress
from rich.text import Text

from emofeat.pipeline.progress import HASH, INGEST, SCAN, SERVER, Progress

#: phase -> (while running, once done, unit counted); unknown phases show their name.
LABELS: dict[str, tuple[str, str, str]] = {
    SERVER: ("starting Prefect's temporary server", "started Prefect's temporary server", ""),
    SCAN: ("scanning the corpus", "scanned the corpus", ""),
    HASH: ("hashing sources", "hashed sources", "sources"),
    INGEST: ("ingesting clips", "ingested clips", "clips"),
    # emofeat.audit.verify's phases (the others count clips)
    "audit: checksums": ("audit: checking parts", "audit: checked parts", "parts"),
}


def label(name: str) -> tuple[str, str, str]:
    """What a phase is called while it runs and once done, and what it counts (any phase
    not in :data:`LABELS`, such as an audit's or a report's, counts clips)."""
    return LABELS.get(name, (name, f"{name}: done", "clips"))


def format_duration(seconds: float) -> str:
    """``45s``, ``2m10s``, ``3h07m``."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def format_rate(rate: float) -> str:
    """``1.3``; slow rates keep two significant digits (``0.042``)."""
    return f"{rate:.1f}" if rate >= 0.1 or rate == 0 else f"{rate:.2g}"


@dataclass
class Meter:
    """Units done in one phase since it began, and what that says about the rest."""

    total: int | None
    started: float
    done: int = 0
    failed: int = 0

    def rate(self, now: float) -> float | None:
        """Units per second so far (``None`` before the first unit)."""
        elapsed = now - self.started
        return self.done / elapsed if self.done and elapsed > 0 else None

    def eta(self, now: float) -> float | None:
        """Seconds to the end at the rate so far (``None`` when unknown)."""
        if self.total is None:
            return None
        remaining = max(0, self.total - self.done)
        if remaining == 0:
            return 0.0
        rate = self.rate(now)
        return remaining / rate if rate else None


class LineProgress:
    """One line per phase and per checkpoint, e.g.
    ``checkpoint 3/10: 24 ok, 1 failed, 120 skipped, 1.3 clips/s, ETA 2m10s``."""

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream
        self._clock = clock
        self._ingest = Meter(None, clock())

    def _line(self, text: str) -> None:
        self._stream.write(text + "\n")
        self._stream.flush()

    def phase(self, name: str, total: int | None) -> None:
        running, _, unit = label(name)
        if name == INGEST:
            self._ingest = Meter(total, self._clock())
        self._line(running if total is None else f"{running}: {total} {unit}")

    def advance(self, ok: int = 0, failed: int = 0) -> None:
        pass  # a line per checkpoint is enough; the checkpoint's counts are the totals

    def checkpoint(self, index: int, total: int, counts: Mapping[str, int]) -> None:
        ok, failed, skipped = (counts.get(k, 0) for k in ("ok", "failed", "skipped"))
        now = self._clock()
        self._ingest.done = ok + failed
        rate = self._ingest.rate(now)
        eta = self._ingest.eta(now)
        self._line(
            f"checkpoint {index}/{total}: {ok} ok, {failed} failed, {skipped} skipped, "
            f"{format_rate(rate or 0.0)} clips/s, ETA {'?' if eta is None else format_duration(eta)}"
        )


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        rate, unit = task.fields.get("rate"), task.fields.get("unit", "")
        if not unit:
            return Text("")
        return Text(f"{'-' if rate is None else format_rate(rate)} {unit}/s", style="progress.data.speed")


class _EtaColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        if task.finished and task.finished_time is not None:
            return Text(f"took {format_duration(task.finished_time)}", style="progress.elapsed")
        eta_at = task.fields.get("eta_at")
        if task.total is None:
            return Text(format_duration(task.elapsed or 0.0), style="progress.elapsed")
        wait = "?" if eta_at is None else format_duration(eta_at - time.monotonic())
        return Text(f"ETA {wait}", style="progress.remaining")


class _FailedColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        if not task.fields.get("unit"):
            return Text("")
        failed = int(task.fields.get("failed", 0))
        return Text(f"{failed} failed", style="red" if failed else "dim")


class TerminalProgress:
    """A live bar per phase (done/total, rate, ETA, failures so far) on a terminal console.

    Use it as a context manager: the display stops (and the cursor comes back) on exit,
    whatever ends the run.
    """

    def __init__(self, console: Console) -> None:
        self._bar = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            _RateColumn(),
            _EtaColumn(),
            _FailedColumn(),
            console=console,
        )
        self._task: TaskID | None = None
        self._name = ""
        self._meter = Meter(None, time.monotonic())

    def __enter__(self) -> TerminalProgress:
        self._bar.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self._end_phase()
        finally:
            self._bar.stop()

    def _end_phase(self) -> None:
        if self._task is None:
            return
        if self._meter.total is None:  # a phase without a count leaves one line, not a bar
            self._bar.remove_task(self._task)
            self._bar.refresh()  # or the line below would print above a stale frame of the task
            took = format_duration(time.monotonic() - self._meter.started)
            self._bar.console.print(f"{label(self._name)[1]} in {took}")
        else:
            self._bar.stop_task(self._task)
        self._task = None

    def phase(self, name: str, total: int | None) -> None:
        self._end_phase()
        running, _, unit = label(name)
        self._name = name
        self._meter = Meter(total, time.monotonic())
        self._task = self._bar.add_task(running, total=total, unit=unit, failed=0, rate=None, eta_at=None)

    def advance(self, ok: int = 0, failed: int = 0) -> None:
        if self._task is None:
            return
        now = time.monotonic()
        self._meter.done += ok + failed
        self._meter.failed += failed
        eta = self._meter.eta(now)
        self._bar.update(
            self._task,
            advance=ok + failed,
            failed=self._meter.failed,
            rate=self._meter.rate(now),
            eta_at=None if eta is None else now + eta,
        )

    def checkpoint(self, index: int, total: int, counts: Mapping[str, int]) -> None:
        if self._task is not None:
            self._bar.update(self._task, description=f"{label(self._name)[0]} (checkpoint {index}/{total})")


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal that can redraw a bar (not ``TERM=dumb``)."""
    return stream.isatty() and os.environ.get("TERM", "") not in ("dumb", "unknown")


@contextmanager
def open_progress(stream: TextIO | None = None) -> Iterator[Progress]:
    """The progress for ``stream`` (default: stderr): a bar on a terminal, lines otherwise."""
    stream = stream if stream is not None else sys.stderr
    if is_terminal(stream):
        with TerminalProgress(Console(file=stream)) as bar:
            yield bar
    else:
        yield LineProgress(stream)
