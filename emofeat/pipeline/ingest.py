"""The ingestion driver: manifest, plan, batches, checkpoint commits, summary.

:func:`ingest` is the one implementation of a run. Where batches execute is pluggable
(``map_batches``): a local thread pool by default, Prefect tasks (``emofeat.orchestration``),
or a Dask cluster. Batches flow through a rolling window: a worker that finishes one takes
the next at once. Every ``checkpoint_every`` finished batches the driver merges their forked
sessions and commits, so an interrupted run loses at most that much work and a re-run skips
what is already stored.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emofeat.config import IMPLEMENTATION_VERSIONS, FeatureConfig, feature_version_id
from emofeat.corpora import CorpusAdapter, Manifest, SkippedFile, get_adapter
from emofeat.corpora.base import named, scan_corpus
from emofeat.corpora.folds import FOLD_SCHEME, assign_folds, fold_balance
from emofeat.corpora.rows import clip_row
from emofeat.errors import CorpusError
from emofeat.options import RunOptions
from emofeat.pipeline import stopping, timing
from emofeat.pipeline.audio_features import feature_names
from emofeat.pipeline.batch import BatchJob, BatchResult, detector_for, run_batch
from emofeat.pipeline.plan import Plan, PlannedClip, batches, make_plan
from emofeat.pipeline.progress import INGEST, NO_PROGRESS, SCAN, Progress
from emofeat.pipeline.timing import StageTimes
from emofeat.pipeline.window import rolling
from emofeat.pipeline.workers import run_isolated
from emofeat.provenance import environment
from emofeat.store import (
    BRANCH,
    commit,
    corpus_identity,
    open_repo,
    prepare_version,
    read_catalog,
    read_ledger,
    read_root,
    record,
    set_corpus_identity,
)

if TYPE_CHECKING:
    from icechunk import Repository  # opened by emofeat.store; only its type is named here

log = logging.getLogger(__name__)

#: Runs a lazy stream of batch jobs, yielding each result as soon as it is done (any order):
#: draw a job only when a worker is free (:func:`emofeat.pipeline.window.rolling`).
MapBatches = Callable[[Iterable[BatchJob]], Iterable[BatchResult]]

#: Ignored files listed by name per reason in a summary (corpora ignore up to millions).
IGNORED_EXAMPLES = 3


def summarise_ignored(skipped: Iterable[SkippedFile], examples: int = IGNORED_EXAMPLES) -> dict[str, Any]:
    """Ignored files as counts per reason, each with its first ``examples`` sources:
    ``{"count": n, "by_reason": {reason: {"count": k, "examples": [source, ...]}}}``."""
    by_reason: dict[str, dict[str, Any]] = {}
    for item in skipped:
        entry = by_reason.setdefault(item.reason, {"count": 0, "examples": []})
        entry["count"] += 1
        if len(entry["examples"]) < examples:
            entry["examples"].append(item.source)
    return {"count": sum(e["count"] for e in by_reason.values()), "by_reason": by_reason}


@dataclass
class IngestSummary:
    """The outcome of a run (``--json`` prints :meth:`to_dict`)."""

    corpus: str
    store: str
    feature_version: str
    snapshot: str
    clips: dict[str, int]
    ignored: dict[str, Any] = field(default_factory=lambda: summarise_ignored(()))
    failures: list[dict[str, Any]] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: The run's id, recorded in every ledger row it wrote and in its commits' metadata.
    run: str = ""
    #: Clips and subjects per fold (:func:`emofeat.corpora.folds.fold_balance`).
    folds: dict[str, Any] = field(default_factory=dict)
    #: Busy seconds per stage, summed over threads and workers (:mod:`emofeat.pipeline.timing`).
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RunPlan:
    """What a run will do: the corpus's manifest, the feature version, todo and done clips."""

    adapter: CorpusAdapter
    manifest: Manifest
    weights: dict[str, str]
    weights_sha256: str
    feature_version: str
    plan: Plan
    #: Stored catalog rows whose source is gone from the root (to mark ``removed``).
    removed: tuple[dict[str, Any], ...] = ()


def plan_run(
    corpus: str,
    source_dir: str | Path,
    config: FeatureConfig,
    options: RunOptions,
    repo: Repository | None,
    *,
    progress: Progress = NO_PROGRESS,
) -> RunPlan:
    """Scan the corpus, fix the feature version and split its clips against the store's ledger
    (``repo`` ``None``: no store yet, everything is to do). Writes nothing. ``progress`` sees
    the ``"scan"`` and ``"hash"`` phases.

    Raises
    ------
    CorpusError
        When the corpus name is unknown or ``source_dir`` is not a readable directory.
    FaceModelError
        When the face detector cannot be loaded.
    """
    adapter = get_adapter(corpus)
    progress.phase(SCAN, None)
    manifest = named(scan_corpus(adapter, Path(source_dir)), options.name or adapter.name)
    detector = detector_for(config.faces)
    weights = {detector.name: detector.weights_sha256}
    fv = feature_version_id(config, weights)
    tip = read_root(repo.readonly_session(branch=BRANCH).store) if repo is not None else None
    check_identity(corpus_identity(tip, manifest.corpus), adapter.name, manifest, options.root_moved)
    plan = make_plan(
        manifest,
        read_ledger(tip, manifest.corpus, fv),
        retry_failed=options.retry_failed,
        workers=options.workers,
        progress=progress,
    )
    return RunPlan(adapter, manifest, weights, detector.weights_sha256, fv, plan, removed_rows(tip, manifest))


def check_identity(known: dict[str, str], adapter: str, manifest: Manifest, root_moved: bool) -> None:
    """Refuse to mix two corpora under one name: the store records each name's adapter and
    root, and another root under the same name needs ``root_moved`` (``--root-moved``).

    Raises
    ------
    CorpusError
        Kind ``corpus_root_mismatch``, naming ``--name``.
    """
    name, root = manifest.corpus, str(manifest.root.resolve())
    if known.get("adapter", adapter) != adapter:
        raise CorpusError(
            f"the store's corpus {name!r} was ingested with the {known['adapter']!r} adapter, not "
            f"{adapter!r}: give this corpus its own name with --name",
            kind="corpus_root_mismatch",
        )
    if known.get("root", root) != root and not root_moved:
        raise CorpusError(
            f"the store's corpus {name!r} comes from {known['root']!r}, not {root!r}: give this "
            "root its own name with --name NAME, or pass --root-moved if the same corpus moved",
            kind="corpus_root_mismatch",
        )


def removed_rows(tip: Any, manifest: Manifest) -> tuple[dict[str, Any], ...]:
    """The stored catalog rows whose source is no longer under the root, marked ``removed``
    (rows already marked keep their mark; a source that came back is unmarked by its new row).
    They are never deleted: older snapshots, and this one, still read their features."""
    catalog = read_catalog(tip, manifest.corpus)
    present = {c.clip_id for c in manifest.clips}
    gone = catalog[~catalog["clip_id"].isin(present) & catalog["removed"].isna()]
    return tuple(
        {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
        for row in gone.to_dict("records")
    )


def map_threads(workers: int, isolate: bool = True) -> MapBatches:
    """Run ``workers`` batches at once from a local thread pool, in a rolling window
    (:func:`emofeat.pipeline.window.rolling`); each result is yielded as soon as it is done.

    With ``isolate`` each thread hands its batch to a supervised worker process
    (:func:`emofeat.pipeline.workers.run_isolated`: a clip that crashes its process is a
    ``worker_died`` row); without, the thread runs it (decoders and ONNX Runtime release the
    GIL).
    """
    one = run_isolated if isolate else run_batch

    def run(jobs: Iterable[BatchJob]) -> Iterator[BatchResult]:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="emofeat-batch") as pool:

            def submit(job: BatchJob) -> Future[BatchResult]:
                return pool.submit(one, job)

            def first_done(pending: set[Future[BatchResult]]) -> set[Future[BatchResult]]:
                return wait(pending, return_when=FIRST_COMPLETED).done

            yield from rolling(jobs, workers + 1, submit, first_done, Future.result)

    return run


def ingest(
    corpus: str,
    source_dir: str | Path,
    store: str | Path,
    config: FeatureConfig | None = None,
    options: RunOptions | None = None,
    map_batches: MapBatches | None = None,
    *,
    progress: Progress = NO_PROGRESS,
) -> IngestSummary:
    """Ingest a corpus into the store at ``store`` (created if missing).

    Per-clip failures are recorded in the ledger and returned in the summary; they do not
    stop the run. ``progress`` sees the ``"scan"``, ``"hash"`` and ``"ingest"`` phases (one
    unit per clip, advanced as each batch's results arrive) and every checkpoint.

    A stop request (:mod:`emofeat.pipeline.stopping`: the CLI maps SIGINT and SIGTERM to one)
    ends the batches in progress after their current clip; the clips they finished are
    committed, then :class:`~emofeat.pipeline.stopping.RunInterrupted` is raised. A re-run
    skips what is committed.

    Raises
    ------
    RunInterrupted
        When a stop was requested; what finished before it is committed.
    CorpusError
        When the corpus name is unknown or ``source_dir`` is not a readable directory.
    FaceModelError
        When the face detector cannot be loaded.
    StoreError
        When the store cannot be opened or a commit fails.
    """
    started = time.perf_counter()
    config = config or FeatureConfig()
    options = options or RunOptions()
    map_batches = map_batches or map_threads(options.workers, options.isolate)
    repo = open_repo(store, create=True)
    stopping.check()
    times = StageTimes()
    with times.timed("plan"):
        run = plan_run(corpus, source_dir, config, options, repo, progress=progress)
    adapter, manifest, weights, fv, plan = (
        run.adapter,
        run.manifest,
        run.weights,
        run.feature_version,
        run.plan,
    )
    name = manifest.corpus
    # Folds hash the adapter's name, so a corpus keeps its folds whatever --name it is given.
    fold_of = assign_folds(
        [dataclasses.replace(c, corpus=adapter.name) for c in manifest.clips], options.folds
    )
    balance = fold_balance(fold_of, manifest.clips, options.folds)
    run_id = f"run-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    version_attrs = {
        "feature_version": fv,
        "corpus": name,
        "adapter": adapter.name,
        "created": datetime.now(UTC).isoformat(),
        "config": config.to_dict(),
        "implementation": IMPLEMENTATION_VERSIONS,
        "weights": weights,
        "provenance": environment(),
        "names": feature_names(config.audio),
    }
    log.info("%s: %d clips to process, %d already stored (%s)", name, len(plan.todo), len(plan.done), fv)
    counts = {"ok": 0, "failed": 0, "skipped": len(plan.done)}
    failures: list[dict[str, Any]] = []
    commits: list[str] = []
    todo = list(batches(plan.todo, options.batch_size))
    checkpoints = max(1, -(-len(todo) // options.checkpoint_every))
    planned_of = {p.record.clip_id: p for p in plan.todo}

    # The first checkpoint also carries the catalog rows of the clips that were skipped.
    def catalog_row(planned: PlannedClip) -> dict[str, Any]:
        row = clip_row(adapter, planned.record, fold_of[planned.record.clip_id])
        return row | {
            "source_sha256": planned.sha256,
            "audio_sha256": planned.audio_sha256 or None,
            "meta": json.dumps(row["meta"], sort_keys=True),
        }

    def jobs() -> Iterator[BatchJob]:
        """The batches, each made when the window has room for it: a stop ends the stream."""
        for clips in todo:
            if stopping.requested():
                return
            yield BatchJob(
                name,
                str(manifest.root),
                fv,
                config,
                clips,
                repo.writable_session(BRANCH).fork(),  # the tip of now: parts never collide
                run.weights_sha256,
                max_pixels=int(options.max_megapixels * 1_000_000),
                run_id=run_id,
            )

    pending_catalog = [catalog_row(p) for p in plan.done]
    pending_catalog += [row | {"removed": run_id} for row in run.removed]
    if run.removed:
        log.info("%s: %d sources are gone from the root, marked removed", name, len(run.removed))

    def checkpoint(index: int, results: list[BatchResult]) -> None:
        """Merge finished batches into a session at the tip, record their rows, commit."""
        nonlocal pending_catalog
        session = repo.writable_session(BRANCH)
        if results:
            session.merge(*[r.session for r in results])
        rows = [row for r in results for row in r.rows]
        for result in results:
            times.merge(result.times)
        for row in rows:
            counts[row["status"]] += 1
            if row["status"] != "ok":
                failures.append({k: row[k] for k in ("clip_id", "stage", "error_kind", "error")})
        catalog_rows = pending_catalog + [catalog_row(planned_of[row["clip_id"]]) for row in rows]
        pending_catalog = []
        with times.timed("commit"):
            record(session, name, fv, version_attrs, catalog_rows, rows)
            metadata = _run_metadata(manifest, fv, config, weights, counts, index, checkpoints, options.folds)
            metadata["emofeat"]["run"] = run_id
            done, wall = counts["ok"] + counts["failed"], time.perf_counter() - started
            metadata["emofeat"]["timings"] = timing.summary(times.as_dict(), done, wall)
            message = f"ingest {name} {fv}: checkpoint {index}/{checkpoints}"
            snapshot = commit(session, message, metadata, store=store)
        if snapshot is not None:
            commits.append(snapshot)
            log.info("committed %s (%s)", snapshot, json.dumps(counts))
        progress.checkpoint(index, checkpoints, dict(counts))

    # Every fork adds only its own part: the groups the parts share exist before the first.
    start = repo.writable_session(BRANCH)
    set_corpus_identity(start, name, adapter.name, str(manifest.root.resolve()))
    prepare_version(start, name, fv, version_attrs)
    metadata = _run_metadata(manifest, fv, config, weights, counts, 0, checkpoints, options.folds)
    metadata["emofeat"]["run"] = run_id
    with times.timed("commit"):
        snapshot = commit(start, f"ingest {name} {fv}: start", metadata, store=store)
    if snapshot is not None:
        commits.append(snapshot)
    progress.phase(INGEST, len(plan.todo))
    index, finished, processed = 0, [], 0
    for result in map_batches(jobs()) if todo else ():
        finished.append(result)
        processed += len(result.rows)
        batch_failed = sum(row["status"] != "ok" for row in result.rows)
        progress.advance(ok=len(result.rows) - batch_failed, failed=batch_failed)
        if len(finished) == options.checkpoint_every:
            index += 1
            checkpoint(index, finished)
            finished = []
    if finished or index == 0:
        index += 1
        checkpoint(index, finished)
    if processed < len(plan.todo):  # stopped: what finished is committed, the rest is not
        stopping.check(_stopped(index, counts))
    return IngestSummary(
        corpus=name,
        store=str(store),
        feature_version=fv,
        snapshot=repo.lookup_branch(BRANCH),
        clips=counts,
        ignored=summarise_ignored(manifest.skipped),
        run=run_id,
        folds=dict(balance),
        failures=failures,
        commits=commits,
        seconds=round(time.perf_counter() - started, 3),
        stage_seconds=times.as_dict(),
    )


def _stopped(checkpoints: int, counts: dict[str, int]) -> str:
    done = counts["ok"] + counts["failed"]
    return f"the run ({checkpoints} checkpoint(s) committed, {done} clips processed)"


def _run_metadata(
    manifest: Manifest,
    fv: str,
    config: FeatureConfig,
    weights: dict[str, str],
    counts: dict[str, int],
    checkpoint: int,
    checkpoints: int,
    folds: int,
) -> dict[str, Any]:
    return {
        "emofeat": {
            "kind": "ingest",
            "corpus": manifest.corpus,
            "source_dir": str(manifest.root),
            "feature_version": fv,
            "config": config.to_dict(),
            "implementation": IMPLEMENTATION_VERSIONS,
            "weights": weights,
            "counts": dict(counts),
            "ignored_files": len(manifest.skipped),
            "folds": folds,
            "fold_scheme": FOLD_SCHEME,
            "checkpoint": checkpoint,
            "checkpoints": checkpoints,
            "final": checkpoint == checkpoints,
            "environment": environment(),
        }
    }
