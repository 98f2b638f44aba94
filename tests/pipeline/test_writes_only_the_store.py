"""An ingestion writes into its store and nowhere else: the corpus is never modified, and no
file is left outside the store (temporary files included)."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pytest

from emofeat.pipeline import RunOptions, ingest
from tests.mediagen import corrupt, face_frames, speech_like, write_video

#: Importing onnxruntime (1.31) writes its telemetry SDK's session file, ``$TMPDIR/.ses``
#: (51 bytes, rewritten by every process; ``onnxruntime.disable_telemetry_events()`` does not
#: prevent it; upstream issue microsoft/onnxruntime#32476). It is not emofeat's to remove.
DEPENDENCY_FILES = {".ses"}


def tree(root: Path) -> dict[str, str]:
    """Every file and folder under ``root``, with the digest of each file's bytes."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        out[rel] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return out


def test_an_ingestion_writes_only_into_its_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(2):
        audio = speech_like(1.0, 16000, seed=i)
        write_video(corpus / f"c{i}.mp4", face_frames(8, size=(144, 192), seed=i), fps=8, audio=audio)
    corrupt(corpus / "broken.mp4", "text")
    scratch = tmp_path / "tmp"  # every temporary file of the run goes here
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    before = tree(corpus)
    options = RunOptions(batch_size=1, checkpoint_every=1, workers=1)  # a worker process too
    summary = ingest("folder", corpus, tmp_path / "store", options=options)
    assert summary.clips == {"ok": 2, "failed": 1, "skipped": 0}
    assert tree(corpus) == before  # sources untouched, nothing added beside them
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "store", "tmp"]
    assert {p.name for p in scratch.iterdir()} <= DEPENDENCY_FILES  # no temporary file left behind
