"""Two corpora in one store, read together through one vocabulary, with stable folds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import emofeat
from emofeat.corpora.vocabulary import UNIFIED, quadrant
from emofeat.pipeline import RunOptions, ingest
from tests.mediagen import face_frames, speech_like, write_audio, write_video


def build(root: Path) -> tuple[Path, Path]:
    ravdess = root / "RAVDESS"
    for actor, name in (
        (1, "01-01-05-01-01-01-01.mp4"),
        (2, "01-01-03-01-01-01-02.mp4"),
        (3, "01-01-05-02-01-01-03.mp4"),
    ):
        folder = ravdess / f"Actor_{actor:02d}"
        folder.mkdir(parents=True)
        write_video(
            folder / name, face_frames(4, size=(144, 192), seed=actor), fps=4, audio=speech_like(1.0, 16000)
        )
    mine = root / "mine"
    mine.mkdir()
    for i in range(3):
        write_audio(mine / f"u{i}.wav", speech_like(0.5, 16000, seed=i), 16000)
    (mine / "labels.csv").write_text(
        "source,label,subject\nu0.wav,Angry,p1\nu1.wav,sad,p2\nu2.wav,giggly,p2\n"
    )
    return ravdess, mine


def test_two_corpora_one_vocabulary(tmp_path: Path) -> None:
    ravdess, mine = build(tmp_path)
    store = tmp_path / "store"
    options = RunOptions(workers=1, folds=3)
    ingest("ravdess", ravdess, store, options=options)
    ingest("folder", mine, store, options=options)
    opened = emofeat.open_store(store)
    assert opened.corpora() == ["folder", "ravdess"]
    both = opened.catalog()
    assert set(both["corpus"]) == {"folder", "ravdess"}
    assert (both["status"] == "ok").all()
    unified = both.set_index("clip_id")["unified"]
    assert unified["ravdess/Actor_01/01-01-05-01-01-01-01.mp4"] == "angry"
    assert unified["folder/u0.wav"] == "angry"  # "Angry" from a free-form CSV
    assert unified["folder/u1.wav"] == "sad"
    assert pd.isna(unified["folder/u2.wav"])  # not in the vocabulary: kept native, unified null
    assert set(unified.dropna()) <= set(UNIFIED)
    for row in both.itertuples():
        assert row.quadrant == quadrant(None if pd.isna(row.unified) else row.unified)
    angry = both[both["unified"] == "angry"]
    assert set(angry["corpus"]) == {"folder", "ravdess"}
    for clip_id in angry["clip_id"]:
        assert len(opened.read(clip_id)["mfcc"]) > 0  # features readable across corpora
    # Folds: subject-independent and the same on a second store built from the same input.
    assert both.groupby(["corpus", "subject"])["fold"].nunique().max() == 1
    again = tmp_path / "again"
    ingest("folder", mine, again, options=options)
    ingest("ravdess", ravdess, again, options=options)
    folds = emofeat.open_store(again).catalog().set_index("clip_id")["fold"]
    assert folds.sort_index().tolist() == both.set_index("clip_id")["fold"].sort_index().tolist()
