"""Per-frame and 40 ms labels ingested end to end, aligned with the features' clock."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import emofeat
from emofeat.pipeline import RunOptions, ingest
from tests.mediagen import face_frames, speech_like, write_audio, write_video

HEADER = "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other"


def test_affwild2_frame_labels_land_on_real_frame_times(tmp_path: Path) -> None:
    root = tmp_path / "affwild2"
    (root / "batch1").mkdir(parents=True)
    stamps = np.array([0.0, 0.04, 0.08, 0.5, 0.54, 1.0])  # variable frame rate
    write_video(root / "batch1" / "1-30-1280x720.mp4", face_frames(6, size=(144, 192)), times=stamps)
    expr = root / "annotations" / "EXPR_Classification_Challenge" / "Train_Set"
    expr.mkdir(parents=True)
    (expr / "1-30-1280x720.txt").write_text(HEADER + "\n" + "\n".join(["0", "1", "1", "-1", "4", "4"]) + "\n")
    va = root / "annotations" / "VA_Estimation_Challenge" / "Train_Set"
    va.mkdir(parents=True)
    pairs = ["0.1,0.2", "0.2,0.3", "-5,-5", "0.4,0.5", "0.5,0.6", "0.6,0.7"]
    (va / "1-30-1280x720.txt").write_text("valence,arousal\n" + "\n".join(pairs) + "\n")
    store = tmp_path / "store"
    summary = ingest("affwild2", root, store, options=RunOptions(workers=1))
    assert summary.clips["ok"] == 1, summary.failures
    opened = emofeat.open_store(store)
    clip = opened.read("affwild2/batch1/1-30-1280x720.mp4")
    np.testing.assert_allclose(clip["label.expression_times"], stamps, atol=1e-3)
    assert clip["label.expression"].tolist() == [0, 1, 1, -1, 4, 4]
    classes = opened.label_classes("affwild2/batch1/1-30-1280x720.mp4")["expression"]
    assert classes[4] == "happiness"
    valence = clip["label.valence"]
    assert np.isnan(valence[2])
    np.testing.assert_allclose(valence[[0, 1, 3]], [0.1, 0.2, 0.4], atol=1e-6)
    np.testing.assert_allclose(clip["label.arousal_times"], stamps, atol=1e-3)
    row = opened.catalog("affwild2").iloc[0]
    assert (row["split"], row["label"]) == ("train", None)
    # Unchanged media and annotations: nothing to do. A corrected annotation: that clip again.
    assert ingest("affwild2", root, store, options=RunOptions(workers=1)).clips["skipped"] == 1
    pairs[2] = "0.3,0.35"
    (va / "1-30-1280x720.txt").write_text("valence,arousal\n" + "\n".join(pairs) + "\n")
    again = ingest("affwild2", root, store, options=RunOptions(workers=1))
    assert again.clips == {"ok": 1, "failed": 0, "skipped": 0}
    fixed = emofeat.open_store(store).read("affwild2/batch1/1-30-1280x720.mp4")
    assert fixed["label.valence"][2] == np.float32(0.3)


def test_recola_ratings_share_the_audio_clock(tmp_path: Path) -> None:
    root = tmp_path / "recola"
    (root / "recordings_audio").mkdir(parents=True)
    write_audio(root / "recordings_audio" / "train_1.wav", speech_like(1.0, 16000), 16000)
    for dim in ("arousal", "valence"):
        folder = root / "ratings_gold_standard" / dim
        folder.mkdir(parents=True)
        lines = [f"train_1,{0.04 * k:.2f},{0.01 * k:.3f}" for k in range(25)]
        arff = "@relation GoldStandard\n\n@attribute Instance_name string\n@attribute frameTime numeric\n"
        arff += "@attribute GoldStandard numeric\n\n@data\n\n" + "\n".join(lines) + "\n"
        (folder / "train_1.arff").write_text(arff)
    store = tmp_path / "store"
    summary = ingest("recola", root, store, options=RunOptions(workers=1))
    assert summary.clips["ok"] == 1, summary.failures
    clip = emofeat.open_store(store).read("recola/recordings_audio/train_1.wav")
    np.testing.assert_allclose(clip["label.arousal_times"], 0.04 * np.arange(25), atol=1e-6)
    np.testing.assert_allclose(clip["label.valence"], 0.01 * np.arange(25), atol=1e-6)
    # Ratings and energy share one clock: the 40 ms rating at t sits beside the energy frame at t.
    idx = np.searchsorted(clip["energy_times"], clip["label.arousal_times"])
    assert np.all(np.abs(clip["energy_times"][idx] - clip["label.arousal_times"]) <= 0.0101)
