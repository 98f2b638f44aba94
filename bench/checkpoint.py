"""Checkpoint benchmark: what one checkpoint costs beside the size of the tables it updates.

Builds a store whose catalog and ledger hold ``--rows`` rows (AffectNet is about 290,000
images) from a synthetic manifest: no media, only the store functions an ingest calls
(``record`` and ``commit``). Then times checkpoints of ``--clips`` clips: all new rows
(appended, as in a first run), and half new, half changed rows (a new label and ledger
status, scattered over the table: the worst case, one chunk each). For each it prints the
median per checkpoint of ``record`` and ``commit`` milliseconds, the chunks written
(``session.status()``) and the bytes the commit added to the store; the same for a re-run
of a checkpoint (it must write nothing); and the run's first checkpoint apart (it builds
the process's key index from the ``clip_id`` column, once per run).

Beside them, one full read of both tables: the floor of what every checkpoint cost before
key indexes (it read both tables whole, then compared and rewrote them in pandas). Give
several ``--rows`` to see the figures against the table size. Usage::

    .venv/bin/python bench/checkpoint.py --rows 30000 300000 --clips 32 --checkpoints 8
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import icechunk

from emofeat.store import commit, open_repo, read_root, record
from emofeat.store import tables as store_tables
from emofeat.store.layout import catalog_path, ledger_path
from emofeat.store.tables import CATALOG_SCHEMA, LEDGER_SCHEMA, read_table
from emofeat.store.writer import existing_group

CORPUS, FV = "bench", "fv-000000000000"
ATTRS = {"feature_version": FV, "corpus": CORPUS, "created": "2026-01-01T00:00:00+00:00"}
LABELS = ("neutral", "happy", "sad", "surprise", "fear", "disgust", "anger", "contempt")


def clip_id(i: int) -> str:
    return f"{CORPUS}/Manually_Annotated_Images/{i % 1000:04d}/{i:08x}a1b2c3d4e5f6.jpg"


def catalog_row(i: int, label: str | None = None) -> dict[str, Any]:
    return {
        "clip_id": clip_id(i),
        "corpus": CORPUS,
        "source": clip_id(i).split("/", 1)[1],
        "source_sha256": f"{i:064x}",
        "subject": f"s{i}",
        "label": label or LABELS[i % len(LABELS)],
        "unified": LABELS[i % len(LABELS)],
        "quadrant": "Q1",
        "split": "train",
        "fold": i % 5,
        "meta": '{"valence": 0.1, "arousal": 0.2}',
    }


def ledger_row(i: int, status: str = "ok") -> dict[str, Any]:
    return {
        "clip_id": clip_id(i),
        "source_sha256": f"{i:064x}",
        "status": status,
        "stage": "" if status == "ok" else "faces",
        "error_kind": "" if status == "ok" else "no_face",
        "part": f"p-{i // 8:016x}",
        "row": i % 8,
        "duration": 0.0,
        "frames": 1,
        "face_ratio": 1.0,
    }


def store_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def checkpoint(
    repo: icechunk.Repository, path: Path, cat: list[dict[str, Any]], led: list[dict[str, Any]]
) -> dict[str, float]:
    session = repo.writable_session("main")
    start = time.perf_counter()
    record(session, CORPUS, FV, ATTRS, cat, led)
    recorded = time.perf_counter()
    chunks = sum(len(c) for c in session.status().updated_chunks.values())
    before = store_bytes(path)
    committed = time.perf_counter()
    commit(session, "checkpoint", {"emofeat": {"kind": "bench"}}, store=path)
    done = time.perf_counter()
    return {
        "record_ms": (recorded - start) * 1e3,
        "commit_ms": (done - committed) * 1e3,
        "chunks": chunks,
        "bytes": store_bytes(path) - before,
    }


def build(repo: icechunk.Repository, path: Path, rows: int) -> float:
    start = time.perf_counter()
    session = repo.writable_session("main")
    record(
        session,
        CORPUS,
        FV,
        ATTRS,
        [catalog_row(i) for i in range(rows)],
        [ledger_row(i, "failed" if i % 97 == 0 else "ok") for i in range(rows)],
    )
    commit(session, f"{rows} rows", {}, store=path)
    return time.perf_counter() - start


def full_read(repo: icechunk.Repository) -> float:
    root = read_root(repo.readonly_session(branch="main").store)
    assert root is not None
    start = time.perf_counter()
    read_table(existing_group(root, catalog_path(CORPUS)), CATALOG_SCHEMA)
    read_table(existing_group(root, ledger_path(CORPUS, FV)), LEDGER_SCHEMA)
    return time.perf_counter() - start


def scenario(
    repo: icechunk.Repository,
    path: Path,
    n: int,
    new: int,
    changed: int,
    checkpoints: int,
    rng: random.Random,
) -> tuple[int, list[dict[str, float]], dict[str, float]]:
    """``checkpoints`` checkpoints of ``new`` appended and ``changed`` scattered rows, and a
    re-run of the last one; returns the table size after them, the figures, the re-run's."""
    figures: list[dict[str, float]] = []
    cat: list[dict[str, Any]] = []
    led: list[dict[str, Any]] = []
    for _ in range(checkpoints):
        again = rng.sample(range(n), changed)
        added = list(range(n, n + new))
        n += new
        cat = [catalog_row(i, label="relabelled") for i in again] + [catalog_row(i) for i in added]
        led = [ledger_row(i, "failed") for i in again] + [ledger_row(i) for i in added]
        figures.append(checkpoint(repo, path, cat, led))
    return n, figures, checkpoint(repo, path, cat, led)


def line(name: str, figures: list[dict[str, float]]) -> str:
    median = {key: statistics.median(f[key] for f in figures) for key in figures[0]}
    return (
        f"  {name:<34} record {median['record_ms']:6.1f} ms  commit {median['commit_ms']:5.1f} ms"
        f"  {median['chunks']:4.0f} chunks  {median['bytes'] / 1e3:6.1f} kB written"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, nargs="+", default=[300_000], help="rows in the catalog and the ledger"
    )
    parser.add_argument("--clips", type=int, default=32, help="clips per checkpoint")
    parser.add_argument("--checkpoints", type=int, default=8, help="checkpoints timed per scenario")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    half = args.clips // 2
    for rows in args.rows:
        with tempfile.TemporaryDirectory(prefix="emofeat-bench-") as tmp:
            path = Path(tmp) / "store"
            repo = open_repo(path, create=True)
            seconds = build(repo, path, rows)
            print(f"{rows:,} rows in the catalog and in the ledger (built in {seconds:.1f} s)")
            floor = full_read(repo) * 1e3
            print(f"  {'both tables read whole, once':<34} {floor:6.0f} ms  (what a checkpoint cost before)")
            store_tables._INDEXES.clear()  # as in a new run: no key index in this process yet
            n, first, _ = scenario(repo, path, rows, args.clips, 0, 1, rng)
            print(line(f"first checkpoint of a run ({args.clips} new)", first) + "  (builds the key index)")
            n, appended, rerun = scenario(repo, path, n, args.clips, 0, args.checkpoints, rng)
            print(line(f"{args.clips} new rows", appended))
            n, mixed, _ = scenario(repo, path, n, half, args.clips - half, args.checkpoints, rng)
            print(line(f"{half} new + {args.clips - half} changed (scattered)", mixed))
            print(line(f"re-run of the same {args.clips} rows", [rerun]) + "  (no commit)")


if __name__ == "__main__":
    main()
