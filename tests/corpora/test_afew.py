"""The AFEW adapter: emotion folders, split folders and their variants, irregular files."""

from __future__ import annotations

from pathlib import Path

import pytest

from emofeat.corpora import get_adapter
from emofeat.corpora.folds import assign_folds
from tests.corpora.contract import AdapterContract


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


# The EmotiW 2017+ naming (Train_AFEW, Val_AFEW), nine-digit clip ids, a test set without
# labels, and the irregular files a real copy holds.
FAKE = (
    "Train_AFEW/Angry/000046280.avi",
    "Train_AFEW/Disgust/000213574.avi",
    "Train_AFEW/Fear/000645400.avi",
    "Train_AFEW/Neutral/002354534.avi",
    "Train_AFEW/Angry/.DS_Store",
    "Train_AFEW/AlignedFaces_LBPTOP_Points/Faces/000046280/000046280-001.png",
    "Val_AFEW/Happy/000149120.avi",
    "Val_AFEW/Sad/000520160.avi",
    "Val_AFEW/Surprise/001155440.avi",
    "Test_AFEW/000234080.avi",
    "readme.txt",
)


class TestAfewContract(AdapterContract):
    adapter = "afew"

    def build(self, root: Path) -> None:
        touch(root, *FAKE)


def test_labels_splits_and_unknown_subjects(tmp_path: Path) -> None:
    touch(tmp_path, *FAKE)
    manifest = get_adapter("afew").scan(tmp_path)
    got = {c.source: (c.label, c.split, c.subject, c.sex) for c in manifest.clips}
    assert got == {
        "Train_AFEW/Angry/000046280.avi": ("angry", "train", None, None),
        "Train_AFEW/Disgust/000213574.avi": ("disgust", "train", None, None),
        "Train_AFEW/Fear/000645400.avi": ("fear", "train", None, None),
        "Train_AFEW/Neutral/002354534.avi": ("neutral", "train", None, None),
        "Val_AFEW/Happy/000149120.avi": ("happy", "validation", None, None),
        "Val_AFEW/Sad/000520160.avi": ("sad", "validation", None, None),
        "Val_AFEW/Surprise/001155440.avi": ("surprise", "validation", None, None),
        "Test_AFEW/000234080.avi": (None, "test", None, None),
    }
    skipped = {s.source: s.reason for s in manifest.skipped}
    assert skipped == {
        "Train_AFEW/Angry/.DS_Store": "hidden file",
        "Train_AFEW/AlignedFaces_LBPTOP_Points/Faces/000046280/000046280-001.png": (
            "not an AFEW clip (.avi or .mp4)"
        ),
        "readme.txt": "not an AFEW clip (.avi or .mp4)",
    }


def test_unified_labels() -> None:
    adapter = get_adapter("afew")
    assert adapter.labels == ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
    assert [adapter.unified_label(x) for x in adapter.labels] == [
        "angry",
        "disgust",
        "fearful",
        "happy",
        "neutral",
        "sad",
        "surprised",
    ]


def test_older_folder_names_and_parents(tmp_path: Path) -> None:
    # AFEW 4.0-6.0 name the folders Train/Val; folder case varies between copies.
    touch(tmp_path, "AFEW/Train/Angry/000046280.avi", "AFEW/Val/happy/000149120.avi", "AFEW/test/1.mp4")
    manifest = get_adapter("afew").scan(tmp_path)
    assert manifest.skipped == ()
    got = {c.source: (c.label, c.split) for c in manifest.clips}
    assert got == {
        "AFEW/Train/Angry/000046280.avi": ("angry", "train"),
        "AFEW/Val/happy/000149120.avi": ("happy", "validation"),
        "AFEW/test/1.mp4": (None, "test"),
    }


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Train/Contempt/000111.avi", "unknown emotion folder 'Contempt'"),
        ("Train/000111.avi", "Train/ clip outside an emotion folder"),
        ("Test/extra/000111.avi", "unexpected folder 'extra' inside the test set"),
        ("Angry/000111.avi", "not under a Train/Val/Test split folder"),
        ("Train/Angry/000111.wav", "not an AFEW clip"),
        ("Train/Angry/._000111.avi", "hidden file"),
    ],
)
def test_irregular_files_are_reported(tmp_path: Path, name: str, reason: str) -> None:
    touch(tmp_path, name, "Train/Angry/000046280.avi")
    manifest = get_adapter("afew").scan(tmp_path)
    assert [c.source for c in manifest.clips] == ["Train/Angry/000046280.avi"]
    assert [(s.source, reason in s.reason) for s in manifest.skipped] == [(name, True)]


def test_each_clip_is_its_own_fold_group(tmp_path: Path) -> None:
    touch(tmp_path, *FAKE)
    clips = get_adapter("afew").scan(tmp_path).clips
    folds = assign_folds(clips, 5)
    # Eight clips without subjects are eight one-clip groups: each clip's fold is the one it
    # gets on its own (no other clip pulls it along), and they do not all share one fold.
    assert len(clips) == 8
    assert all(c.subject is None for c in clips)
    assert folds == {c.clip_id: assign_folds([c], 5)[c.clip_id] for c in clips}
    assert len(set(folds.values())) > 1
