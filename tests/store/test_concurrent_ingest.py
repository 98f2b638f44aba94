"""Real ingest processes on one store at once, and killed mid-run: nothing lost, nothing twice."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import emofeat
from emofeat.store import open_repo, read_ledger, read_root
from tests.mediagen import face_frames, speech_like, write_audio, write_video

#: One ingest (``emofeat.ingest``: local threads, no Prefect), one checkpoint per clip. Prints
#: its summary as JSON, or ``{"error": kind}`` and exits 3 when the run cannot proceed.
INGEST = """
    import json, sys
    import emofeat
    from emofeat.config import FeatureConfig, VideoConfig
    from emofeat.errors import EmofeatError
    from emofeat.options import RunOptions
    corpus, root, store = sys.argv[1:4]
    options = RunOptions(batch_size=1, checkpoint_every=1, workers=1)
    try:
        summary = emofeat.ingest(corpus, root, store, FeatureConfig(video=VideoConfig(frames=2)), options)
    except EmofeatError as exc:
        print(json.dumps({"error": exc.kind, "message": exc.message}))
        sys.exit(3)
    print(json.dumps(summary.to_dict()))
"""


def start(corpus: str, root: Path, store: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-c", textwrap.dedent(INGEST), corpus, str(root), str(store)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def finish(run: subprocess.Popen[str]) -> tuple[int, dict[str, Any]]:
    out, _ = run.communicate(timeout=300)
    return run.returncode, json.loads(out.strip().splitlines()[-1])


def folder_corpus(root: Path, clips: int) -> Path:
    root.mkdir(parents=True)
    for i in range(clips - 1):
        write_audio(root / f"u{i}.wav", speech_like(0.3, 16000, seed=i), 16000)
    write_video(root / "face.mp4", face_frames(2, size=(96, 128), seed=1), fps=4)
    return root


def emodb_corpus(root: Path) -> Path:
    (root / "wav").mkdir(parents=True)
    for i, name in enumerate(("03a01Wa.wav", "08a02Fb.wav", "10b01Nc.wav")):
        write_audio(root / "wav" / name, speech_like(0.3, 16000, seed=10 + i), 16000)
    return root


def assert_stored_once(store: Path, corpus: str, sources: set[str]) -> None:
    """Every clip once in the ledger and the catalog, ok, and readable."""
    opened = emofeat.open_store(store)
    fv = opened.latest_version(corpus)
    ledger = read_ledger(read_root(open_repo(store).readonly_session(branch="main").store), corpus, fv)
    assert sorted(ledger["clip_id"]) == sorted(f"{corpus}/{s}" for s in sources)  # no row twice
    assert (ledger["status"] == "ok").all()
    catalog = opened.catalog(corpus)
    assert catalog["clip_id"].is_unique
    assert set(catalog["source"]) == sources
    for clip_id in catalog["clip_id"]:
        assert opened.read(clip_id)["face_times"].ndim == 1


def test_two_corpora_ingested_at_once_into_a_new_store_both_succeed(tmp_path: Path) -> None:
    folder, emodb = folder_corpus(tmp_path / "mine", 3), emodb_corpus(tmp_path / "EMO-DB")
    store = tmp_path / "store"
    runs = [start("folder", folder, store), start("emodb", emodb, store)]
    results = [finish(r) for r in runs]
    assert [rc for rc, _ in results] == [0, 0], results
    assert_stored_once(store, "folder", {"u0.wav", "u1.wav", "face.mp4"})
    assert_stored_once(store, "emodb", {"wav/03a01Wa.wav", "wav/08a02Fb.wav", "wav/10b01Nc.wav"})
    history = {c.snapshot for c in emofeat.open_store(store).history()}
    for _, summary in results:
        assert summary["clips"]["ok"] == 3
        assert len(summary["commits"]) == 4  # the start commit and one per checkpoint ...
        assert set(summary["commits"]) <= history  # ... and every one of them kept


@pytest.mark.slow
def test_the_same_corpus_ingested_twice_at_once_ends_stored_once(tmp_path: Path) -> None:
    folder, store = folder_corpus(tmp_path / "mine", 4), tmp_path / "store"
    results = [finish(r) for r in [start("folder", folder, store), start("folder", folder, store)]]
    for rc, out in results:  # each run succeeds, or stops on a conflict a re-run resolves
        assert rc == 0 or (rc == 3 and out["error"] == "commit_conflict"), out
    if any(rc for rc, _ in results):
        rc, out = finish(start("folder", folder, store))
        assert rc == 0, out
        assert out["clips"]["failed"] == 0
    assert_stored_once(store, "folder", {"u0.wav", "u1.wav", "u2.wav", "face.mp4"})
    again_rc, again = finish(start("folder", folder, store))
    assert (again_rc, again["clips"]["ok"], again["commits"]) == (0, 0, [])  # nothing left to do


def snapshots(store: Path) -> int:
    """How many snapshots the store holds (files under ``snapshots/``; one more per commit)."""
    folder = store / "snapshots"
    return len(list(folder.iterdir())) if folder.is_dir() else 0


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_ingest_killed_at_any_point_resumes_to_every_clip_once(tmp_path: Path, seed: int) -> None:
    folder, store = folder_corpus(tmp_path / "mine", 6), tmp_path / "store"
    rng = random.Random(seed)
    for _ in range(2):  # killed twice: a seeded moment after 1 or 2 more checkpoint commits
        # a new store holds 2 snapshots, and the first run's start commit a third
        target = max(snapshots(store), 3) + rng.randint(1, 2)
        run = start("folder", folder, store)
        while snapshots(store) < target and run.poll() is None:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.3))  # into the next batch, its part write or its commit
        run.send_signal(signal.SIGKILL)
        run.communicate(timeout=60)
        assert run.returncode == -signal.SIGKILL  # killed mid-run, not finished
    rc, out = finish(start("folder", folder, store))
    assert rc == 0, out
    assert out["clips"]["failed"] == 0
    assert out["clips"]["skipped"] >= 2  # the killed runs' checkpoints were kept
    assert_stored_once(store, "folder", {f"u{i}.wav" for i in range(5)} | {"face.mp4"})
