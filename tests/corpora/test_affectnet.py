"""The AffectNet adapter: CSV lists, expression codes, valence/arousal tracks, irregular rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emofeat.corpora import ClipRecord, Manifest, get_adapter
from emofeat.corpora.rows import manifest_rows
from emofeat.errors import CorpusError
from tests.corpora.contract import AdapterContract

HEADER = (
    "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal\n"
)
MARKS = "181.64;530.91;188.32;627.82;195.1;723.37"  # the real rows carry 68 points, ';'-separated
TRAIN = "Manually_Annotated_file_lists/training.csv"
VALID = "Manually_Annotated_file_lists/validation.csv"
IMAGE_A = "689/737db2483489148d783ef278f43f486c0a97e140fc4b6b61b84363ca.jpg"
IMAGE_B = "392/c4db2f9b7e4b422d14b6e038f0cdc3ecee239b55326e9181ee4520f9.jpg"
IMAGE_C = "468/21772b68dc8c2a11678c8739eca33adb6ccc658600e4da2224080603.jpg"
IMAGE_D = "944/06e9ae8d3b240eb68fa60534783eacafce2def60a86042f9b7d59544.png"


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


def csv_file(root: Path, name: str, *rows: tuple[str, str, str, str]) -> None:
    """Write an AffectNet list: rows of (path, expression, valence, arousal)."""
    lines = [f"{p},134,134,899,899,{MARKS},{e},{v},{a}\n" for p, e, v, a in rows]
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(HEADER + "".join(lines))


def build_fake(root: Path) -> None:
    csv_file(
        root,
        TRAIN,
        (IMAGE_A, "1", "0.785714", "-0.055556"),
        (IMAGE_B, "6", "-0.619048", "0.563492"),
        (IMAGE_C, "9", "-2", "-2"),  # uncertain: not annotated for valence/arousal
    )
    csv_file(root, VALID, (IMAGE_D, "7", "-0.2", "0.35"))
    touch(root, *(f"Manually_Annotated_Images/{p}" for p in (IMAGE_A, IMAGE_B, IMAGE_C, IMAGE_D)))
    touch(root, "Manually_Annotated_Images/103/unlisted.jpg", "Manually_Annotated_Images/.DS_Store")
    touch(
        root,
        "Automatically_Annotated_Images/1/a.jpg",
        "Automatically_annotated_file_list/automatically_annotated.csv",
    )


class TestAffectNetContract(AdapterContract):
    adapter = "affectnet"

    def build(self, root: Path) -> None:
        build_fake(root)


@pytest.fixture
def fake(tmp_path: Path) -> Manifest:
    build_fake(tmp_path)
    return get_adapter("affectnet").scan(tmp_path)


def by_source(manifest: Manifest) -> dict[str, ClipRecord]:
    return {c.source: c for c in manifest.clips}


def test_labels_splits_and_face_box(fake: Manifest) -> None:
    got = {c.source: (c.label, c.split, c.subject, c.sex) for c in fake.clips}
    assert got == {
        f"Manually_Annotated_Images/{IMAGE_A}": ("happy", "train", None, None),
        f"Manually_Annotated_Images/{IMAGE_B}": ("anger", "train", None, None),
        f"Manually_Annotated_Images/{IMAGE_C}": ("uncertain", "train", None, None),
        f"Manually_Annotated_Images/{IMAGE_D}": ("contempt", "validation", None, None),
    }
    clip = by_source(fake)[f"Manually_Annotated_Images/{IMAGE_A}"]
    assert clip.meta == {"face_box": "134,134,899,899", "valence": "0.785714", "arousal": "-0.055556"}


def test_valence_and_arousal_are_one_point_tracks(fake: Manifest) -> None:
    clip = by_source(fake)[f"Manually_Annotated_Images/{IMAGE_B}"]
    tracks = {t.name: t for t in clip.tracks}
    assert list(tracks) == ["valence", "arousal"]
    for name, value in (("valence", -0.619048), ("arousal", 0.563492)):
        track = tracks[name]
        assert track.kind == "continuous"
        assert track.frames is None
        assert track.times is not None
        np.testing.assert_array_equal(track.times, [0.0])
        assert track.values.dtype == np.float32
        np.testing.assert_allclose(track.values, [value], rtol=1e-6)


def test_not_annotated_values_give_neither_meta_nor_tracks(fake: Manifest) -> None:
    clip = by_source(fake)[f"Manually_Annotated_Images/{IMAGE_C}"]
    assert clip.tracks == ()
    assert clip.meta == {"face_box": "134,134,899,899"}


def test_unified_labels_and_the_non_emotion_codes() -> None:
    adapter = get_adapter("affectnet")
    assert adapter.labels == (
        "neutral",
        "happy",
        "sad",
        "surprise",
        "fear",
        "disgust",
        "anger",
        "contempt",
        "none",
        "uncertain",
        "no-face",
    )
    assert [adapter.unified_label(x) for x in adapter.labels] == [
        "neutral",
        "happy",
        "sad",
        "surprised",
        "fearful",
        "disgust",
        "angry",
        "contempt",
        None,
        None,
        None,
    ]


def test_rows_give_unified_label_and_quadrant(fake: Manifest) -> None:
    rows = {r["source"]: r for r in manifest_rows(get_adapter("affectnet"), fake) if "clip_id" in r}
    row = rows[f"Manually_Annotated_Images/{IMAGE_D}"]
    assert (row["unified"], row["quadrant"], row["tracks"]) == ("contempt", "Q2", ["valence", "arousal"])
    assert rows[f"Manually_Annotated_Images/{IMAGE_C}"]["unified"] is None


def test_side_and_unlisted_files_are_reported(fake: Manifest) -> None:
    automatic = "automatically annotated part (not ingested by this adapter)"
    assert {s.source: s.reason for s in fake.skipped} == {
        TRAIN: "label file",
        VALID: "label file",
        "Manually_Annotated_Images/103/unlisted.jpg": (
            "image listed in neither training.csv nor validation.csv"
        ),
        "Manually_Annotated_Images/.DS_Store": "hidden file",
        "Automatically_Annotated_Images/1/a.jpg": automatic,
        "Automatically_annotated_file_list/automatically_annotated.csv": automatic,
    }


def test_irregular_rows(tmp_path: Path) -> None:
    csv_file(
        tmp_path,
        TRAIN,
        ("1/a.jpg", "11", "0.1", "0.1"),  # unknown expression code
        ("1/b.jpg", "2", "1.5", "0.1"),  # valence out of range
        ("1/c.jpg", "2", "0.1", "high"),  # arousal not a number
        ("1/d.jpg", "3", "0.1", "0.1"),
        ("1/e.jpg", "4", "0.2", "0.2"),
        ("1/e.jpg", "5", "0.2", "0.2"),  # listed twice, two codes
        ("1/missing.jpg", "1", "0.1", "0.1"),  # no such image
        ("1/ok.jpg", "10", "-2", "-2"),  # no face: a clip with unified None
    )
    csv_file(tmp_path, VALID, ("1/d.jpg", "3", "0.1", "0.1"))  # in both lists
    with (tmp_path / VALID).open("a") as fh:
        fh.write("1/extra.jpg,1,2,3,4,5,6,7,8,9,10\n")  # too many columns: malformed
    touch(tmp_path, *(f"Manually_Annotated/Manually_Annotated_Images/1/{n}.jpg" for n in "abcde"))
    touch(tmp_path, "Manually_Annotated/Manually_Annotated_Images/1/ok.jpg")
    manifest = get_adapter("affectnet").scan(tmp_path)
    assert [(c.source, c.label) for c in manifest.clips] == [
        ("Manually_Annotated/Manually_Annotated_Images/1/ok.jpg", "no-face")
    ]
    images = "Manually_Annotated/Manually_Annotated_Images/1"
    assert {s.source: s.reason for s in manifest.skipped} == {
        TRAIN: "label file",
        VALID: "label file; 1 malformed rows",
        f"{images}/a.jpg": "unknown expression code '11' (training.csv line 2)",
        f"{images}/b.jpg": "valence 1.5 is outside [-1, 1] and not -2 (training.csv line 3)",
        f"{images}/c.jpg": "arousal 'high' is not a number (training.csv line 4)",
        f"{images}/d.jpg": "listed twice with different labels or splits (training.csv and validation.csv)",
        f"{images}/e.jpg": "listed twice with different labels or splits (training.csv)",
        f"{images}/missing.jpg": "listed in training.csv but no such image",
    }


def test_a_list_without_the_columns_is_a_corpus_error(tmp_path: Path) -> None:
    (tmp_path / TRAIN).parent.mkdir(parents=True)
    (tmp_path / TRAIN).write_text("path,label\n1/a.jpg,1\n")
    with pytest.raises(CorpusError, match="lacks the AffectNet columns"):
        get_adapter("affectnet").scan(tmp_path)
