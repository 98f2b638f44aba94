"""The CK+ adapter: sequence folders, peak-frame Emotion files, unlabeled and irregular sequences."""

from __future__ import annotations

from pathlib import Path

import pytest

from emofeat.corpora import ClipRecord, Manifest, get_adapter
from emofeat.corpora.rows import manifest_rows
from tests.corpora.contract import AdapterContract


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


def sequence(root: Path, subject: str, session: str, frames: int, code: str | None = None) -> None:
    """A CK+ sequence as the archives hold it: frames, landmarks per frame, FACS/Emotion for the last."""
    stem = f"{subject}_{session}"
    for n in range(1, frames + 1):
        touch(root, f"cohn-kanade-images/{subject}/{session}/{stem}_{n:08d}.png")
        touch(root, f"Landmarks/{subject}/{session}/{stem}_{n:08d}_landmarks.txt")
    touch(root, f"FACS/{subject}/{session}/{stem}_{frames:08d}_facs.txt")
    if code is not None:
        emotion(root, subject, session, frames, code)


def emotion(root: Path, subject: str, session: str, frame: int, text: str) -> str:
    name = f"Emotion/{subject}/{session}/{subject}_{session}_{frame:08d}_emotion.txt"
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(text)
    return name


def build_fake(root: Path) -> None:
    sequence(root, "S005", "001", 11, "   3.0000000e+00\n")  # disgust
    sequence(root, "S010", "002", 14, "   1.0000000e+00\n")  # anger
    sequence(root, "S010", "004", 6)  # no Emotion file: unlabeled
    sequence(root, "S022", "001", 4, "   7.0000000e+00")  # surprise, no trailing newline
    touch(root, "cohn-kanade-images/S010/002/.DS_Store", "cohn-kanade-images/.DS_Store")
    touch(root, "Emotion/S010/004/.DS_Store")  # the archives keep empty Emotion folders (and .DS_Store)
    touch(root, "ReadMeCohnKanadeDatabase_website.txt")


class TestCkPlusContract(AdapterContract):
    adapter = "ckplus"

    def build(self, root: Path) -> None:
        build_fake(root)


@pytest.fixture
def fake(tmp_path: Path) -> Manifest:
    build_fake(tmp_path)
    return get_adapter("ckplus").scan(tmp_path)


def by_source(manifest: Manifest) -> dict[str, ClipRecord]:
    return {c.source: c for c in manifest.clips}


def test_a_clip_is_a_sequence_folder_labelled_by_its_peak_frame(fake: Manifest) -> None:
    clips = by_source(fake)
    assert list(clips) == [
        "cohn-kanade-images/S005/001",
        "cohn-kanade-images/S010/002",
        "cohn-kanade-images/S010/004",
        "cohn-kanade-images/S022/001",
    ]
    s005 = clips["cohn-kanade-images/S005/001"]
    assert s005.clip_id == "ckplus/cohn-kanade-images/S005/001"
    assert (s005.label, s005.subject, s005.sex, s005.split) == ("disgust", "S005", None, None)
    assert s005.meta == {"frames": "11", "peak_frame": "S005_001_00000011.png"}
    assert (clips["cohn-kanade-images/S010/002"].label, clips["cohn-kanade-images/S022/001"].label) == (
        "anger",
        "surprise",
    )


def test_sequences_without_an_emotion_file_are_unlabeled_clips(fake: Manifest) -> None:
    clip = by_source(fake)["cohn-kanade-images/S010/004"]
    assert (clip.label, clip.subject, clip.meta) == (None, "S010", {"frames": "6"})


def test_side_files_and_hidden_files_are_reported(fake: Manifest) -> None:
    reasons = {s.source: s.reason for s in fake.skipped}
    assert reasons["Emotion/S005/001/S005_001_00000011_emotion.txt"] == "emotion label file"
    assert reasons["FACS/S005/001/S005_001_00000011_facs.txt"] == "FACS label file"
    assert reasons["Landmarks/S005/001/S005_001_00000001_landmarks.txt"] == "landmark file"
    assert (
        reasons["cohn-kanade-images/S010/002/.DS_Store"] == "hidden file in a sequence folder (not a frame)"
    )
    assert reasons["cohn-kanade-images/.DS_Store"] == "hidden file"
    assert reasons["Emotion/S010/004/.DS_Store"] == "hidden file"
    assert "not part of the CK+ layout" in reasons["ReadMeCohnKanadeDatabase_website.txt"]
    # Every frame belongs to its clip; no frame is reported as skipped.
    assert not [s for s in fake.skipped if s.source.endswith(".png")]


def test_subjects_share_one_fold(fake: Manifest) -> None:
    rows = manifest_rows(get_adapter("ckplus"), fake)
    folds = {r["source"]: r["fold"] for r in rows if "fold" in r}
    assert folds["cohn-kanade-images/S010/002"] == folds["cohn-kanade-images/S010/004"]


def test_unified_labels() -> None:
    adapter = get_adapter("ckplus")
    assert adapter.labels == (
        "neutral",
        "anger",
        "contempt",
        "disgust",
        "fear",
        "happy",
        "sadness",
        "surprise",
    )
    assert [adapter.unified_label(x) for x in adapter.labels] == [
        "neutral",
        "angry",
        "contempt",
        "disgust",
        "fearful",
        "happy",
        "sad",
        "surprised",
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("   9.0000000e+00\n", "emotion code '9.0000000e+00' is not one of 0-7"),
        ("   2.5000000e+00\n", "emotion code '2.5000000e+00' is not one of 0-7"),
        ("nan", "emotion code 'nan' is not one of 0-7"),
        ("", "emotion file does not hold one number: ''"),
        ("3 4", "emotion file does not hold one number: '3 4'"),
    ],
)
def test_a_bad_emotion_file_leaves_the_sequence_unlabeled(tmp_path: Path, text: str, error: str) -> None:
    # Decision: the sequence is real media, so it stays a clip; only its label is unusable,
    # which the clip's meta and the Emotion file's skip reason both say.
    sequence(tmp_path, "S005", "001", 3, text)
    manifest = get_adapter("ckplus").scan(tmp_path)
    (clip,) = manifest.clips
    assert clip.label is None
    assert clip.meta["label_error"] == error
    reasons = {s.source: s.reason for s in manifest.skipped}
    assert reasons["Emotion/S005/001/S005_001_00000003_emotion.txt"] == (
        f"emotion label file: {error}; sequence left unlabeled"
    )


def test_an_emotion_file_naming_a_missing_frame_leaves_the_sequence_unlabeled(tmp_path: Path) -> None:
    sequence(tmp_path, "S005", "001", 3)
    emotion(tmp_path, "S005", "001", 9, "   3.0000000e+00\n")
    (clip,) = get_adapter("ckplus").scan(tmp_path).clips
    assert clip.label is None
    assert (
        clip.meta["label_error"] == "emotion file names frame S005_001_00000009.png, which the sequence lacks"
    )


def test_two_emotion_files_for_one_sequence_are_a_conflict(tmp_path: Path) -> None:
    sequence(tmp_path, "S005", "001", 3, "   3.0000000e+00\n")
    emotion(tmp_path, "S005", "001", 2, "   5.0000000e+00\n")
    manifest = get_adapter("ckplus").scan(tmp_path)
    assert manifest.clips[0].label is None
    assert manifest.clips[0].meta["label_error"] == "2 emotion files for one sequence"
    assert sum("2 emotion files" in s.reason for s in manifest.skipped) == 2


def test_emotion_file_without_images_and_stray_files(tmp_path: Path) -> None:
    sequence(tmp_path, "S005", "001", 2, "   3.0000000e+00\n")
    name = emotion(tmp_path, "S999", "001", 5, "   3.0000000e+00\n")
    touch(
        tmp_path,
        "cohn-kanade-images/S005/001/S005_002_00000001.png",  # a frame of another sequence
        "cohn-kanade-images/S005/notes/S005_001_00000001.png",  # not a session folder
        "Emotion/S005/001/S005_001_emotion.txt",  # misnamed label file
    )
    manifest = get_adapter("ckplus").scan(tmp_path)
    (clip,) = manifest.clips
    assert (clip.label, clip.meta["frames"], clip.meta["foreign_files"]) == ("disgust", "2", "1")
    reasons = {s.source: s.reason for s in manifest.skipped}
    assert reasons[name] == "emotion label file for a sequence with no images"
    assert reasons["cohn-kanade-images/S005/001/S005_002_00000001.png"].startswith(
        "not a frame of sequence S005/001"
    )
    assert reasons["cohn-kanade-images/S005/notes/S005_001_00000001.png"] == (
        "not in a cohn-kanade-images/SNNN/NNN sequence folder"
    )
    assert reasons["Emotion/S005/001/S005_001_emotion.txt"] == "emotion label file with an unexpected name"


def test_any_parent_folder_and_a_folder_of_hidden_files_only(tmp_path: Path) -> None:
    sequence(tmp_path / "CK+", "S005", "001", 2, "   5.0000000e+00\n")
    touch(tmp_path, "CK+/cohn-kanade-images/S005/002/.DS_Store")  # a sequence folder with no frames
    manifest = get_adapter("ckplus").scan(tmp_path)
    assert [(c.source, c.label) for c in manifest.clips] == [("CK+/cohn-kanade-images/S005/001", "happy")]
    assert "CK+/cohn-kanade-images/S005/002/.DS_Store" in {s.source for s in manifest.skipped}
