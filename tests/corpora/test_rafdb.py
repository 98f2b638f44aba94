"""The RAF-DB (basic) adapter: label file, original vs aligned images, attributes, irregular files."""

from __future__ import annotations

from pathlib import Path

import pytest

from emofeat.corpora import ClipRecord, Manifest, get_adapter
from tests.corpora.contract import AdapterContract

LABELS = "basic/EmoLabel/list_patition_label.txt"


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


def write(root: Path, name: str, text: str) -> None:
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(text)


def attributes(gender: str, race: str = "0", age: str = "2") -> str:
    """A manual attribute file as RAF-DB ships it: 5 landmark lines, then gender, race, age."""
    marks = "95.59 112.38\n147.26 108.74\n125.10 140.17\n102.36 167.93\n144.37 165.56\n"
    return f"{marks}{gender}\n{race}\n{age}\n"


def build_fake(root: Path) -> None:
    write(
        root,
        LABELS,
        "train_00001.jpg 5\ntrain_00002.jpg 1\ntrain_00003.jpg 4\ntest_0001.jpg 7\ntest_0002.jpg 6\n",
    )
    for stem in ("train_00001", "train_00002", "test_0001"):
        touch(root, f"basic/Image/original/{stem}.jpg")
    for stem in ("train_00001", "train_00002", "train_00003", "test_0001", "test_0002"):
        touch(root, f"basic/Image/aligned/{stem}_aligned.jpg")
        touch(root, f"basic/Annotation/boundingbox/{stem}_boundingbox.txt")
        touch(root, f"basic/Annotation/auto/{stem}_auto_attri.txt")
    write(root, "basic/Annotation/manual/train_00001_manu_attri.txt", attributes("1", "2", "3"))
    write(root, "basic/Annotation/manual/train_00002_manu_attri.txt", attributes("0"))
    write(root, "basic/Annotation/manual/test_0001_manu_attri.txt", attributes("2"))  # gender unsure
    touch(root, "basic/README.txt", "basic/Image/original/.DS_Store", "compound/Image/original/test_0001.jpg")
    write(root, "compound/EmoLabel/list_patition_label.txt", "test_0001.jpg 11\n")  # other codes


class TestRafDbContract(AdapterContract):
    adapter = "rafdb"

    def build(self, root: Path) -> None:
        build_fake(root)


@pytest.fixture
def fake(tmp_path: Path) -> Manifest:
    build_fake(tmp_path)
    return get_adapter("rafdb").scan(tmp_path)


def by_source(manifest: Manifest) -> dict[str, ClipRecord]:
    return {c.source: c for c in manifest.clips}


def test_labels_splits_and_the_original_image_as_clip(fake: Manifest) -> None:
    got = {c.source: (c.label, c.split, c.subject, c.meta["image"]) for c in fake.clips}
    assert got == {
        "basic/Image/original/train_00001.jpg": ("sadness", "train", None, "original"),
        "basic/Image/original/train_00002.jpg": ("surprise", "train", None, "original"),
        "basic/Image/aligned/train_00003_aligned.jpg": ("happiness", "train", None, "aligned"),
        "basic/Image/original/test_0001.jpg": ("neutral", "test", None, "original"),
        "basic/Image/aligned/test_0002_aligned.jpg": ("anger", "test", None, "aligned"),
    }
    reasons = {s.source: s.reason for s in fake.skipped}
    assert reasons["basic/Image/aligned/train_00001_aligned.jpg"] == (
        "aligned copy of Image/original/train_00001.jpg (the original is the clip)"
    )


def test_sex_race_and_age_from_the_manual_attributes(fake: Manifest) -> None:
    clips = by_source(fake)
    first = clips["basic/Image/original/train_00001.jpg"]
    assert (first.sex, first.meta) == ("female", {"image": "original", "race": "2", "age_group": "3"})
    assert clips["basic/Image/original/train_00002.jpg"].sex == "male"
    assert clips["basic/Image/original/test_0001.jpg"].sex is None  # 2 = unsure
    assert clips["basic/Image/aligned/train_00003_aligned.jpg"].sex is None  # no attribute file


def test_side_files_are_reported(fake: Manifest) -> None:
    reasons = {s.source: s.reason for s in fake.skipped}
    assert reasons[LABELS] == "label file"
    assert reasons["basic/Annotation/manual/train_00001_manu_attri.txt"] == (
        "attribute file (sex, race and age group read from it)"
    )
    assert reasons["basic/Annotation/boundingbox/train_00001_boundingbox.txt"] == (
        "annotation file (landmarks or boxes)"
    )
    assert reasons["basic/Image/original/.DS_Store"] == "hidden file"
    assert reasons["basic/README.txt"].startswith("not part of the RAF-DB basic layout")
    compound = "RAF-DB compound set (not read by this adapter)"
    assert reasons["compound/Image/original/test_0001.jpg"] == compound
    assert reasons["compound/EmoLabel/list_patition_label.txt"] == compound


def test_unified_labels() -> None:
    adapter = get_adapter("rafdb")
    assert adapter.labels == ("surprise", "fear", "disgust", "happiness", "sadness", "anger", "neutral")
    assert [adapter.unified_label(x) for x in adapter.labels] == [
        "surprised",
        "fearful",
        "disgust",
        "happy",
        "sad",
        "angry",
        "neutral",
    ]


def test_root_may_be_basic_itself_and_the_spelling_may_be_fixed(tmp_path: Path) -> None:
    write(tmp_path, "EmoLabel/list_partition_label.txt", "train_00001.jpg 2\n")
    touch(tmp_path, "Image/aligned/train_00001_aligned.jpg")
    manifest = get_adapter("rafdb").scan(tmp_path)
    assert [(c.source, c.label, c.split) for c in manifest.clips] == [
        ("Image/aligned/train_00001_aligned.jpg", "fear", "train")
    ]


def test_irregular_label_lines_and_images(tmp_path: Path) -> None:
    write(
        tmp_path,
        LABELS,
        "train_00001.jpg 9\n"  # unknown code
        "train_00002.jpg 3\ntrain_00002.jpg 4\n"  # listed twice, two codes
        "train_00003.jpg 3\ntrain_00003.jpg 3\n"  # listed twice, same code: fine
        "train_00004.jpg 6\n"  # no such image
        "garbage line here\n\n",
    )
    touch(
        tmp_path,
        *(f"basic/Image/original/train_0000{n}.jpg" for n in (1, 2, 3, 5)),
        "basic/Image/original/train_00003.png",  # wrong suffix
        "basic/Image/aligned/train_00003.jpg",  # aligned file without _aligned
    )
    write(tmp_path, "basic/Annotation/manual/train_00003_manu_attri.txt", "95.5 112.3\n1\n")
    manifest = get_adapter("rafdb").scan(tmp_path)
    clip = manifest.clips[0]
    assert [(c.source, c.label, c.sex) for c in manifest.clips] == [
        ("basic/Image/original/train_00003.jpg", "disgust", None)
    ]
    assert clip.meta == {"image": "original"}
    assert {s.source: s.reason for s in manifest.skipped} == {
        LABELS: "label file; line 7 is not '<train|test>_NNNNN.jpg <code>'",
        "basic/Image/original/train_00001.jpg": "unknown emotion code '9' in the label file",
        "basic/Image/original/train_00002.jpg": (
            "listed twice in the label file with different codes (line 3)"
        ),
        "basic/Image/original/train_00004.jpg": "listed in the label file but no such image",
        "basic/Image/original/train_00005.jpg": "train_00005.jpg is not in the label file",
        "basic/Image/original/train_00003.png": "name is not train_NNNNN.jpg (or test_NNNN)",
        "basic/Image/aligned/train_00003.jpg": "name is not train_NNNNN_aligned.jpg (or test_NNNN)",
        "basic/Annotation/manual/train_00003_manu_attri.txt": (
            "attribute file that does not parse (its image keeps sex None)"
        ),
    }
