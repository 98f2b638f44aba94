"""Broken files, rotation, variable frame rate, one frame, odd paths: one run, nothing lost."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import emofeat
from emofeat.config import FeatureConfig, VideoConfig
from emofeat.pipeline import IngestSummary, RunOptions, ingest
from tests.corpusgen import BROKEN, build_messy_folder

EXPECTED_KIND = {
    "bad/zero byte.mp4": {"empty_file"},
    "bad/text.mp4": {"unreadable"},
    "bad/truncated.mp4": {"unreadable", "decode_error"},
    "bad/damaged.avi": {"decode_error", "unreadable"},
    "bad/header.wav": {"unreadable"},
}
GOOD = [
    "good/upright.mp4",
    "good/phone.mp4",
    "good/vfr.mkv",
    "good/one frame.mp4",
    "good/Émotions été/clip ünï.wav",
]


@dataclass(frozen=True)
class Messy:
    root: Path
    store: Path
    summary: IngestSummary


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Messy:
    root = build_messy_folder(tmp_path_factory.mktemp("messy") / "corpus")
    store = tmp_path_factory.mktemp("messy-store") / "s"
    config = FeatureConfig(video=VideoConfig(sampling="all"))
    summary = ingest("folder", root, store, config, RunOptions(batch_size=3, checkpoint_every=1, workers=2))
    return Messy(root, store, summary)


def test_each_broken_input_is_a_recorded_failure(messy: Messy) -> None:
    assert messy.summary.clips == {"ok": len(GOOD), "failed": len(BROKEN), "skipped": 0}
    cat = emofeat.open_store(messy.store).catalog("folder").set_index("source")
    for source, kinds in EXPECTED_KIND.items():
        row = cat.loc[source]
        assert row["status"] == "failed", source
        assert row["error_kind"] in kinds, (source, row["error_kind"], row["error"])
        assert row["stage"] in {"probe", "decode"}, source
        assert Path(source).name in row["error"], row["error"]  # says which file
        assert len(row["error"]) > 30
    failures = {f["clip_id"] for f in messy.summary.failures}
    assert failures == {f"folder/{s}" for s in BROKEN}


def test_every_good_clip_of_the_same_run_is_stored(messy: Messy) -> None:
    store = emofeat.open_store(messy.store)
    cat = store.catalog("folder").set_index("source")
    for source in GOOD:
        assert cat.loc[source, "status"] == "ok", (source, cat.loc[source, "error"])
        arrays = store.read(f"folder/{source}")
        assert set(arrays) >= {"face", "face_present", "face_times", "mfcc", "logmel", "energy", "egemaps"}


def test_rotated_phone_video_gives_upright_faces(messy: Messy) -> None:
    store = emofeat.open_store(messy.store)
    upright = store.read("folder/good/upright.mp4")
    phone = store.read("folder/good/phone.mp4")
    assert phone["face_present"].all()
    assert upright["face_present"].all()
    a = upright["face"].astype(np.float64).mean(axis=(0, 3))
    b = phone["face"].astype(np.float64).mean(axis=(0, 3))

    def ncc(x: np.ndarray, y: np.ndarray) -> float:
        x, y = x - x.mean(), y - y.mean()
        return float((x * y).sum() / np.sqrt((x * x).sum() * (y * y).sum()))

    same = ncc(a, b)
    assert same > 0.9
    for turns in (1, 2, 3):
        assert ncc(a, np.rot90(b, turns)) < same - 0.2


def test_variable_frame_rate_keeps_real_timestamps(messy: Messy) -> None:
    clip = emofeat.open_store(messy.store).read("folder/good/vfr.mkv")
    np.testing.assert_allclose(clip["face_times"], [0.0, 0.04, 0.3, 0.35, 1.1, 1.25], atol=1e-3)


def test_one_frame_video_and_odd_path(messy: Messy) -> None:
    store = emofeat.open_store(messy.store)
    one = store.read("folder/good/one frame.mp4")
    assert one["face"].shape == (1, 112, 112, 3)
    assert one["face_present"].tolist() == [1]
    odd = store.read("folder/good/Émotions été/clip ünï.wav")
    assert len(odd["mfcc"]) > 90


def test_rerun_skips_failures_too_and_retry_reprocesses_them(messy: Messy) -> None:
    config = FeatureConfig(video=VideoConfig(sampling="all"))
    again = ingest("folder", messy.root, messy.store, config, RunOptions(workers=1))
    assert again.clips == {"ok": 0, "failed": 0, "skipped": len(GOOD) + len(BROKEN)}
    assert again.commits == []
    retry = ingest("folder", messy.root, messy.store, config, RunOptions(workers=1, retry_failed=True))
    assert retry.clips == {"ok": 0, "failed": len(BROKEN), "skipped": len(GOOD)}
    # The same failures again: only the rows' run changes (each row names the run that wrote it).
    assert len(retry.commits) == 1
    ledger = emofeat.open_store(messy.store)._ledger("folder", retry.feature_version)
    assert set(ledger[ledger.status == "failed"]["run"]) == {retry.run}
    assert retry.run not in set(ledger[ledger.status == "ok"]["run"])  # skipped clips keep their run
