"""Scale benchmark: planning a run and checkpointing it when a corpus holds a million clips.

Each measurement runs in a fresh Python process (nothing cached from the one before) and
reports its wall time and peak resident memory (``VmHWM`` of ``/proc/self/status``):

(a) **plan, empty store**: ``--clips`` synthetic clip records enter
    :func:`emofeat.pipeline.plan.make_plan` where a scanned manifest would, against the
    empty ledger of a store with nothing yet; then what :func:`emofeat.pipeline.ingest.ingest`
    does with the plan before its first batch (folds of every clip, fold balance, the
    batches, the catalog rows of done clips), as the same steps.
(b) **plan, resume**: the same against a store whose catalog and ledger hold ``--clips`` rows,
    as a finished run left them (built first, in one commit, timed apart): once with every
    clip done, once with 1% more clips than stored (a corpus that grew). This reads the
    ledger and the catalog from the store, as :func:`emofeat.pipeline.ingest.plan_run` does.
(c) **checkpoint**: ``record`` and ``commit`` of 32 new clips (a default checkpoint: 4 batches
    of 8) into that store, the first of a new process (it builds the key index of both
    tables) and the next one; and the first checkpoint of a resume run, which also carries
    the catalog rows of every clip the run skipped (unchanged: they compare equal and write
    nothing, but are normalised and compared).
(d) **bytes on disk** of the catalog and ledger per clip: the store's files after the build,
    divided by the clips, and each table's stored chunk bytes (``nbytes_stored``).
(e) **feature bytes per clip** (``--feature-clips``, 0 skips it): real 3 s 720p clips (a face
    drifting over a textured background, speech-like audio) ingested with the default
    :class:`~emofeat.config.FeatureConfig`; the stored (compressed) chunk bytes of each array,
    summed over the parts, per clip and per feature set (the name before the first ``.``).

What (a) and (b) leave out: scanning the corpus directory (an adapter walks the tree and
reads its label files) and hashing the sources (reading every byte of every file, on
``workers`` threads): both grow with the corpus on disk, not with the store. The stand-in
digest is the sha256 of the source's name, given to :func:`~emofeat.pipeline.plan.make_plan`
in place of :func:`~emofeat.pipeline.plan.digest_clip`, so what is timed is the plan's own
work (its thread pool, the ledger lookup, the split) and the store reads. Records carry no
time-varying label tracks (their digest would be the tracks' cost, not the plan's). The
synthetic corpus uses the ``folder`` adapter's catalog rows. Usage::

    .venv/bin/python bench/scale.py                  # 1,000,000 clips
    .venv/bin/python bench/scale.py --clips 100000   # a quick check
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from checkpoint import ATTRS, CORPUS, FV, checkpoint, store_bytes  # bench/ is the script's directory

from emofeat.corpora import ClipRecord, Manifest, get_adapter
from emofeat.corpora.folds import DEFAULT_FOLDS, assign_folds, fold_balance
from emofeat.corpora.rows import clip_row
from emofeat.pipeline import plan as plan_module
from emofeat.pipeline.ingest import removed_rows
from emofeat.pipeline.plan import Plan, PlannedClip, batches, make_plan
from emofeat.store import BRANCH, commit, open_repo, prepare_version, read_ledger, read_root, record
from emofeat.store.layout import OFFSETS_SUFFIX, catalog_path, ledger_path
from emofeat.store.writer import existing_group, set_corpus_identity

ADAPTER = get_adapter("folder")
LABELS = ("neutral", "happy", "sad", "surprise", "fear", "disgust", "anger")
SPLITS = ("train", "train", "train", "validation", "test")
RUN = "run-20260101T000000Z-a1b2c3"
#: Clips per batch and batches per checkpoint (the RunOptions defaults).
BATCH, CHECKPOINT = 8, 4


# --------------------------------------------------------------------------- synthetic corpus


def source(i: int) -> str:
    return f"videos/{i % 1000:03d}/clip-{i:08d}.mp4"


def clip(i: int) -> ClipRecord:
    return ClipRecord(
        clip_id=f"{CORPUS}/{source(i)}",
        corpus=CORPUS,
        source=source(i),
        subject=f"s{i // 40:06d}",
        sex=("male", "female")[i % 2],
        label=LABELS[i % len(LABELS)],
        split=SPLITS[i % len(SPLITS)],
    )


def manifest(clips: range) -> Manifest:
    return Manifest(CORPUS, Path("/corpus"), tuple(clip(i) for i in clips), ())


def stand_in_digest(manifest: Manifest, record: ClipRecord) -> PlannedClip:
    """The plan's digest of a clip without its file: the sha256 of the source's name."""
    return PlannedClip(record, hashlib.sha256(record.source.encode()).hexdigest())


def catalog_row(planned: PlannedClip, fold: int) -> dict[str, Any]:
    """The catalog row the ingest writes for a clip (``ingest``'s own ``catalog_row``)."""
    row = clip_row(ADAPTER, planned.record, fold)
    return row | {
        "source_sha256": planned.sha256,
        "audio_sha256": planned.audio_sha256 or None,
        "meta": json.dumps(row["meta"], sort_keys=True),
    }


def ledger_row(planned: PlannedClip, i: int) -> dict[str, Any]:
    """A ledger row as a batch writes it for a clip that succeeded (one in 97 failed)."""
    row = {
        "clip_id": planned.record.clip_id,
        "source_sha256": planned.sha256,
        "audio_sha256": "",
        "labels_sha256": "",
        "run": RUN,
    }
    if i % 97 == 0:
        return row | {
            "status": "failed",
            "stage": "faces",
            "error_kind": "no_face",
            "error": "no face in any frame",
        }
    return row | {
        "status": "ok",
        "part": f"p-{hashlib.sha256(str(i // BATCH).encode()).hexdigest()[:16]}",
        "row": i % BATCH,
        "duration": 3.0 + (i % 7) * 0.5,
        "frames": 16,
        "face_ratio": 1.0 - (i % 5) / 16,
        "audio_start": 0.0,
        "video_start": 0.0,
    }


def folds_of(clips: tuple[ClipRecord, ...]) -> dict[str, int]:
    """Folds as the ingest assigns them (under the adapter's name, whatever the corpus is called)."""
    return assign_folds([dataclasses.replace(c, corpus=ADAPTER.name) for c in clips], DEFAULT_FOLDS)


# --------------------------------------------------------------------------- stages (one process each)


def memory_mb(field: str = "VmHWM") -> float:
    """A memory figure of this process from ``/proc/self/status`` (``VmHWM``: peak resident), in MB."""
    status = Path("/proc/self/status").read_text()
    line = next(x for x in status.splitlines() if x.startswith(field + ":"))
    return int(line.split()[1]) / 1024


class Phases:
    """Seconds per named phase of a stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def __call__(self, name: str, fn: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        out = fn()
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
        return out


def plan_stage(clips: range, store: Path | None) -> dict[str, Any]:
    """Plan ``clips`` against the store (``None``: empty), then ingest's setup before the first batch."""
    phases = Phases()
    m: Manifest = phases("manifest", lambda: manifest(clips))
    plan_module.digest_clip = stand_in_digest  # the seam: no file is opened

    def plan() -> tuple[Plan, tuple[dict[str, Any], ...]]:
        tip = read_root(open_repo(store).readonly_session(branch=BRANCH).store) if store is not None else None
        return make_plan(m, read_ledger(tip, CORPUS, FV), workers=1), removed_rows(tip, m)

    p, removed = phases("plan", plan)

    def setup() -> int:
        fold_of = folds_of(m.clips)
        fold_balance(fold_of, m.clips, DEFAULT_FOLDS)
        todo = list(batches(p.todo, BATCH))
        planned_of = {q.record.clip_id: q for q in p.todo}
        pending = [catalog_row(q, fold_of[q.record.clip_id]) for q in p.done]
        return len(todo) + len(planned_of) + len(pending)

    phases("setup", setup)
    return {"phases": phases.seconds, "todo": len(p.todo), "done": len(p.done), "removed": len(removed)}


def build_stage(n: int, store: Path) -> dict[str, Any]:
    """A store whose catalog and ledger hold ``n`` rows, as a finished run leaves them, in one commit."""
    phases = Phases()
    m = phases("manifest", lambda: manifest(range(n)))

    def rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        fold_of = folds_of(m.clips)
        planned = [stand_in_digest(m, c) for c in m.clips]
        return [catalog_row(q, fold_of[q.record.clip_id]) for q in planned], [
            ledger_row(q, i) for i, q in enumerate(planned)
        ]

    cat, led = phases("rows", rows)

    def write() -> None:
        repo = open_repo(store, create=True)
        session = repo.writable_session(BRANCH)
        set_corpus_identity(session, CORPUS, ADAPTER.name, str(m.root))
        prepare_version(session, CORPUS, FV, ATTRS)
        record(session, CORPUS, FV, ATTRS, cat, led)
        commit(session, f"{n} rows", {}, store=store)

    phases("record+commit", write)
    root = read_root(open_repo(store).readonly_session(branch=BRANCH).store)
    assert root is not None
    tables = {}
    for name, path in (("catalog", catalog_path(CORPUS)), ("ledger", ledger_path(CORPUS, FV))):
        group = existing_group(root, path)
        assert group is not None
        tables[name] = sum(a.nbytes_stored() for _, a in group.arrays())
    return {"phases": phases.seconds, "store_bytes": store_bytes(store), "tables": tables}


def checkpoint_stage(first_new: int, store: Path, resume_rows: int) -> dict[str, Any]:
    """Two checkpoints of 32 new clips in a new process; with ``resume_rows``, the first carries
    the catalog rows of that many skipped (stored, unchanged) clips, as a resume run's does."""
    repo = open_repo(store)
    clips = BATCH * CHECKPOINT
    m = manifest(range(first_new, first_new + 2 * clips))
    planned = [stand_in_digest(m, c) for c in m.clips]
    fold_of = folds_of(m.clips)
    phases = Phases()
    pending: list[dict[str, Any]] = []
    if resume_rows:
        done = manifest(range(resume_rows))
        done_fold = folds_of(done.clips)
        pending = phases(
            "skipped rows",
            lambda: [catalog_row(stand_in_digest(done, c), done_fold[c.clip_id]) for c in done.clips],
        )
    figures = []
    for k in range(2):
        batch = list(enumerate(planned))[k * clips : (k + 1) * clips]
        cat = [catalog_row(q, fold_of[q.record.clip_id]) for _, q in batch]
        led = [ledger_row(q, first_new + i) for i, q in batch]
        figures.append(checkpoint(repo, store, (pending + cat) if k == 0 else cat, led))
    return {"phases": phases.seconds, "checkpoints": figures}


def feature_stage(clips: int, seconds: float) -> dict[str, Any]:
    """Ingest ``clips`` real clips with the default config; stored bytes per array name."""
    from zarr.core.sync import sync

    from emofeat.config import FeatureConfig
    from emofeat.media.synth import face_frames, speech_like, write_video
    from emofeat.pipeline import RunOptions, ingest
    from emofeat.store.layout import features_path

    with tempfile.TemporaryDirectory(prefix="emofeat-scale-") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        fps = 25
        for i in range(clips):
            frames = face_frames(round(seconds * fps), size=(720, 1280), seed=i)
            audio = speech_like(seconds, 16000, seed=i)
            write_video(
                corpus / f"clip{i:03d}.mp4", frames, fps=fps, audio=audio, audio_rate=16000, quality=23
            )
        store = Path(tmp) / "store"
        summary = ingest("folder", corpus, store, FeatureConfig(), RunOptions(workers=1, isolate=False))
        root = read_root(open_repo(store).readonly_session(branch=BRANCH).store)
        assert root is not None
        parts = existing_group(root, f"{features_path('folder')}/{summary.feature_version}/parts")
        assert parts is not None
        stored: dict[str, int] = {}
        raw: dict[str, int] = {}
        metadata = 0
        for _, part in parts.groups():
            for name, array in part.arrays():
                meta = sync(array.store_path.store.getsize(f"{array.path}/zarr.json"))
                metadata += meta
                stored[name] = stored.get(name, 0) + array.nbytes_stored() - meta
                raw[name] = raw.get(name, 0) + array.nbytes
        return {
            "clips": summary.clips,
            "stored": stored,
            "raw": raw,
            "metadata": metadata,
            "store_bytes": store_bytes(store),
        }


# --------------------------------------------------------------------------- the parent


def run(stage: str, *args: str) -> dict[str, Any]:
    """Run one stage in a fresh interpreter; its figures, wall time and peak memory."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--stage", stage, *args], capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"stage {stage} failed (exit {done.returncode})")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    return result


def phases_text(result: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:.1f} s" for k, v in result["phases"].items())


def row(label: str, result: dict[str, Any], detail: str) -> None:
    grew = result["peak_mb"] - result["base_mb"]
    print(f"  {label:<38} {result['wall']:7.1f} s  {result['peak_mb']:6.0f} MB {grew:+6.0f} MB   {detail}")


def parent(args: argparse.Namespace) -> None:
    n = args.clips
    grown = n + n // 100
    print(f"emofeat scale benchmark: {n:,} clips (synthetic records: no scan, no hashing)")
    print(f"  {'measurement (fresh process each)':<38} {'wall':>9}  {'peak RSS, over imports':>22}   detail")
    result = run("plan", "--clips", str(n))
    row("(a) plan, empty store", result, f"{result['todo']:,} todo; {phases_text(result)}")
    with tempfile.TemporaryDirectory(prefix="emofeat-scale-") as tmp:
        store = Path(tmp) / "store"
        built = run("build", "--clips", str(n), "--store", str(store))
        row(f"    build: {n:,} catalog+ledger rows", built, phases_text(built))
        result = run("plan", "--clips", str(n), "--store", str(store))
        row("(b) plan, resume: all done", result, f"{result['done']:,} done; {phases_text(result)}")
        result = run("plan", "--clips", str(grown), "--store", str(store))
        row(
            "(b) plan, resume: 1% new",
            result,
            f"{result['todo']:,} todo, {result['done']:,} done; {phases_text(result)}",
        )
        for resume, label in ((0, "(c) checkpoint, 32 new clips"), (n, "(c) resume run's first checkpoint")):
            first_new = grown + (2 * BATCH * CHECKPOINT if resume else 0)  # clips no checkpoint stored yet
            result = run(
                "checkpoint", "--clips", str(first_new), "--store", str(store), "--resume-rows", str(resume)
            )
            first, second = result["checkpoints"]
            extra = f" + {resume:,} skipped rows" if resume else ""
            row(
                label,
                result,
                f"1st{extra}: record {first['record_ms']:.0f} ms, commit {first['commit_ms']:.0f} ms, "
                f"{first['bytes'] / 1e3:.0f} kB; 2nd: record {second['record_ms']:.0f} ms, "
                f"commit {second['commit_ms']:.0f} ms, {second['bytes'] / 1e3:.0f} kB",
            )
            if resume:
                print(f"  {'':<38} {'':>9}  {'':>22}   (making the skipped rows: {phases_text(result)})")
        tables = built["tables"]
        print(
            f"  (d) on disk: {built['store_bytes'] / n:.0f} B/clip for the store after the build "
            f"({built['store_bytes'] / 1e6:.1f} MB); chunks: catalog {tables['catalog'] / n:.0f} B/clip, "
            f"ledger {tables['ledger'] / n:.0f} B/clip"
        )
    if args.feature_clips:
        result = run("features", "--clips", str(args.feature_clips), "--seconds", str(args.seconds))
        clips = args.feature_clips
        print(
            f"(e) feature bytes per clip: {clips} clips of {args.seconds:g} s, 720p, default FeatureConfig "
            f"({result['clips']['ok']} ok); stored (compressed) chunk bytes, raw bytes:"
        )
        sets: dict[str, list[int]] = {}
        for name in sorted(result["stored"]):  # a series with its offsets and its timestamps
            base = name.removesuffix(OFFSETS_SUFFIX).removesuffix("_times")
            group = sets.setdefault(base, [0, 0])
            group[0] += result["stored"][name]
            group[1] += result["raw"][name]
        for name, (stored, raw) in sorted(sets.items(), key=lambda kv: -kv[1][0]):
            print(f"  {name:<20} {stored / clips / 1e3:8.1f} kB/clip  ({raw / clips / 1e3:7.1f} kB raw)")
        total = sum(result["stored"].values())
        hour = total / clips / args.seconds * 3600
        print(
            f"  {'all arrays':<20} {total / clips / 1e3:8.1f} kB/clip "
            f"({hour / 1e6:.0f} MB per hour of such clips); "
            f"array metadata {result['metadata'] / clips / 1e3:.1f} kB/clip; "
            f"whole store {result['store_bytes'] / clips / 1e3:.1f} kB/clip on disk"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--clips", type=int, default=1_000_000, help="clips in the corpus and rows in the store"
    )
    parser.add_argument("--feature-clips", type=int, default=4, help="real clips for (e); 0 skips it")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each real clip of (e)")
    parser.add_argument(
        "--stage", choices=("plan", "build", "checkpoint", "features"), help=argparse.SUPPRESS
    )
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--resume-rows", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage is None:
        parent(args)
        return
    out: dict[str, Any] = {"base_mb": memory_mb("VmRSS")}  # the interpreter and the imports
    if args.stage == "plan":
        out |= plan_stage(range(args.clips), args.store)
    elif args.stage == "build":
        out |= build_stage(args.clips, args.store)
    elif args.stage == "checkpoint":
        out |= checkpoint_stage(args.clips, args.store, args.resume_rows)
    else:
        out |= feature_stage(args.clips, args.seconds)
    print(json.dumps(out | {"peak_mb": memory_mb()}))


if __name__ == "__main__":
    main()
