"""A rolling window of batches: a worker that finishes takes the next batch at once.

The driver hands an executor (threads, Prefect tasks, a Dask cluster) a lazy stream of batch
jobs; :func:`rolling` keeps ``width`` of them submitted and yields each result as soon as it
is done, in completion order, topping the window up before it yields. No worker waits for
the slowest batch of a group, nor for the driver while it commits a checkpoint: the window
holds one job more than there are workers, so one is always queued.

Jobs are made when they are submitted, in the caller's thread, so each takes its fork of the
store's session from the branch tip of that moment (see :func:`emofeat.pipeline.ingest`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

J = TypeVar("J")
F = TypeVar("F")
R = TypeVar("R")


def rolling(
    jobs: Iterable[J],
    width: int,
    submit: Callable[[J], F],
    first_done: Callable[[set[F]], set[F]],
    result: Callable[[F], R],
) -> Iterator[R]:
    """Run ``jobs`` with at most ``width`` submitted at once; yield results as they finish.

    Parameters
    ----------
    jobs : iterable
        Consumed lazily: the next job is drawn only when the window has room.
    width : int
        How many jobs are submitted at once (>= 1).
    submit : callable
        Starts one job and returns its future.
    first_done : callable
        Blocks until at least one of the given futures is done; returns the done ones.
    result : callable
        The result of a done future (raises what the job raised).

    Raises
    ------
    ValueError
        When ``width`` < 1.
    """
    if width < 1:
        raise ValueError(f"width must be >= 1, not {width}")
    source = iter(jobs)
    pending: set[F] = set()
    exhausted = False

    def fill() -> None:
        nonlocal exhausted
        while not exhausted and len(pending) < width:
            job = next(source, _END)
            if job is _END:
                exhausted = True
            else:
                pending.add(submit(job))  # type: ignore[arg-type]

    fill()
    while pending:
        done = first_done(set(pending))
        pending.difference_update(done)
        fill()
        for future in done:
            yield result(future)


_END = object()
