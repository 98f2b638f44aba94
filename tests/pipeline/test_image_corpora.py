"""Image corpora end to end: a CK+ sequence folder is a video; a RAF-DB photo a one-frame clip."""

from __future__ import annotations

from pathlib import Path

import emofeat
from emofeat.config import FeatureConfig, VideoConfig
from emofeat.pipeline import RunOptions, ingest
from tests.mediagen import face_frames, write_image, write_image_sequence


def test_ckplus_sequence_ingests_as_video(tmp_path: Path) -> None:
    root = tmp_path / "CK+"
    seq = root / "cohn-kanade-images" / "S005" / "001"
    write_image_sequence(seq, face_frames(6, size=(144, 192)), pattern="S005_001_{:08d}.png")
    (seq / ".DS_Store").write_bytes(b"\0\1")
    emotion = root / "Emotion" / "S005" / "001"
    emotion.mkdir(parents=True)
    (emotion / "S005_001_00000006_emotion.txt").write_text("   3.0000000e+00\n")
    unlabeled = root / "cohn-kanade-images" / "S010" / "002"
    write_image_sequence(unlabeled, face_frames(3, size=(144, 192), seed=3), pattern="S010_002_{:08d}.png")
    store = tmp_path / "store"
    config = FeatureConfig(video=VideoConfig(sampling="all", sequence_fps=30.0))
    summary = ingest("ckplus", root, store, config, RunOptions(workers=1))
    assert summary.clips == {"ok": 2, "failed": 0, "skipped": 0}, summary.failures
    opened = emofeat.open_store(store)
    cat = opened.catalog("ckplus").set_index("source")
    assert cat.loc["cohn-kanade-images/S005/001", "label"] == "disgust"
    assert cat.loc["cohn-kanade-images/S005/001", "unified"] == "disgust"
    assert cat.loc["cohn-kanade-images/S010/002", "label"] is None
    clip = opened.read("ckplus/cohn-kanade-images/S005/001")
    assert clip["face"].shape == (6, 112, 112, 3)
    assert clip["face_present"].all()
    assert clip["face_times"].tolist() == [i / 30.0 for i in range(6)]
    assert len(clip["mfcc"]) == 0  # no audio: not an error


def test_rafdb_photo_is_a_one_frame_clip(tmp_path: Path) -> None:
    root = tmp_path / "basic"
    (root / "Image" / "original").mkdir(parents=True)
    write_image(root / "Image" / "original" / "train_00001.jpg", face_frames(1, size=(240, 320))[0])
    labels = root / "EmoLabel"
    labels.mkdir(parents=True)
    (labels / "list_patition_label.txt").write_text("train_00001.jpg 4\n")
    store = tmp_path / "store"
    summary = ingest("rafdb", root, store, options=RunOptions(workers=1))
    assert summary.clips["ok"] == 1, summary.failures
    opened = emofeat.open_store(store)
    row = opened.catalog("rafdb").iloc[0]
    assert (row["label"], row["unified"], row["split"]) == ("happiness", "happy", "train")
    clip = opened.read(row["clip_id"])
    assert clip["face"].shape[1:] == (112, 112, 3)
    assert clip["face_present"].all()
