"""The FG-Emotions adapter: the 33 -> 6 hierarchy as data, folder variants, irregular files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from emofeat.corpora import Manifest, get_adapter
from emofeat.corpora.fgemotions import HIERARCHY, POLARITY
from emofeat.corpora.rows import manifest_rows
from emofeat.corpora.vocabulary import quadrant
from tests.corpora.contract import AdapterContract


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


FAKE = (
    "train/fear/anxiety/000001.jpg",
    "train/sadness/embarrass/000002.jpg",
    "train/anger/disgust/000003.jpg",
    "train/anger/anger/000004.jpg",
    "train/surprise/surprise/000005.jpg",
    "test/happiness/pride/000006.jpg",
    "test/love/lust/000007.jpg",
    "test/anger/hate/000008.jpg",
    "test/anger/hate/Thumbs.db",
    "train/fear/.DS_Store",
    "train/happiness/000009.jpg",  # directly in a coarse folder
    "train/fear/hate/000010.jpg",  # hate is under anger
    "train/boredom/000011.jpg",  # no such class
)


class TestFgEmotionsContract(AdapterContract):
    adapter = "fgemotions"

    def build(self, root: Path) -> None:
        touch(root, *FAKE)


@pytest.fixture
def fake(tmp_path: Path) -> Manifest:
    touch(tmp_path, *FAKE)
    return get_adapter("fgemotions").scan(tmp_path)


def test_hierarchy_is_the_papers_table() -> None:
    # RALD paper, Table 1: 33 fine classes under 6 coarse ones, grouped by polarity.
    assert len(HIERARCHY) == 33
    assert Counter(HIERARCHY.values()) == {
        "fear": 5,
        "sadness": 7,
        "anger": 9,
        "surprise": 3,
        "happiness": 6,
        "love": 3,
    }
    assert {f for f, c in HIERARCHY.items() if c == "love"} == {"thrill", "affection", "lust"}
    assert {f for f, c in HIERARCHY.items() if c == "happiness"} == {
        "cheerful",
        "enthrall",
        "optimism",
        "pleasure",
        "pride",
        "relief",
    }
    assert [c for c, p in POLARITY.items() if p == "pleasant"] == ["surprise", "happiness", "love"]
    adapter = get_adapter("fgemotions")
    assert adapter.labels == tuple(HIERARCHY)
    assert adapter.labels[:3] == ("anxiety", "worry", "panic")
    assert adapter.labels[-1] == "lust"


def test_labels_coarse_parent_and_split(fake: Manifest) -> None:
    got = {c.source: (c.label, c.meta["coarse"], c.meta["polarity"], c.split, c.subject) for c in fake.clips}
    assert got == {
        "train/fear/anxiety/000001.jpg": ("anxiety", "fear", "unpleasant", "train", None),
        "train/sadness/embarrass/000002.jpg": ("embarrass", "sadness", "unpleasant", "train", None),
        "train/anger/disgust/000003.jpg": ("disgust", "anger", "unpleasant", "train", None),
        "train/anger/anger/000004.jpg": ("anger", "anger", "unpleasant", "train", None),
        "train/surprise/surprise/000005.jpg": ("surprise", "surprise", "pleasant", "train", None),
        "test/happiness/pride/000006.jpg": ("pride", "happiness", "pleasant", "test", None),
        "test/love/lust/000007.jpg": ("lust", "love", "pleasant", "test", None),
        "test/anger/hate/000008.jpg": ("hate", "anger", "unpleasant", "test", None),
    }


def test_irregular_files_are_reported(fake: Manifest) -> None:
    assert {s.source: s.reason for s in fake.skipped} == {
        "test/anger/hate/Thumbs.db": "not an image or video file",
        "train/fear/.DS_Store": "hidden file",
        "train/happiness/000009.jpg": "directly in coarse folder 'happiness', not in a fine-class folder",
        "train/fear/hate/000010.jpg": "fine class 'hate' belongs to coarse 'anger', not 'fear'",
        "train/boredom/000011.jpg": "unknown class folder 'boredom'",
    }


def test_unified_labels_follow_the_coarse_class_except_basic_fine_ones() -> None:
    adapter = get_adapter("fgemotions")
    assert adapter.unified_label("anxiety") == "fearful"
    assert adapter.unified_label("embarrass") == "sad"
    assert adapter.unified_label("hate") == "angry"
    assert adapter.unified_label("astonish") == "surprised"
    assert adapter.unified_label("pride") == "happy"
    # The unified vocabulary has disgust and contempt: the fine class wins (same quadrant).
    assert adapter.unified_label("disgust") == "disgust"
    assert adapter.unified_label("contempt") == "contempt"
    assert quadrant(adapter.unified_label("contempt")) == quadrant(adapter.unified_label("wrath")) == "Q2"
    # Love has no unified counterpart.
    assert [adapter.unified_label(x) for x in ("thrill", "affection", "lust")] == [None, None, None]


def test_rows_carry_unified_label_and_quadrant(fake: Manifest) -> None:
    rows = {r["source"]: r for r in manifest_rows(get_adapter("fgemotions"), fake) if "clip_id" in r}
    row = rows["test/happiness/pride/000006.jpg"]
    assert (row["label"], row["unified"], row["quadrant"], row["meta"]["coarse"]) == (
        "pride",
        "happy",
        "Q1",
        "happiness",
    )


def test_flat_fine_folders_case_and_noun_forms(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "FG-Emotions/Embarrassment/a.jpg",
        "FG-Emotions/Validation/Wrath/b.png",
        "FG-Emotions/Anger/c.jpg",  # a lone anger folder: the fine class anger
    )
    manifest = get_adapter("fgemotions").scan(tmp_path)
    assert manifest.skipped == ()
    got = {c.source: (c.label, c.meta["coarse"], c.split) for c in manifest.clips}
    assert got == {
        "FG-Emotions/Embarrassment/a.jpg": ("embarrass", "sadness", None),
        "FG-Emotions/Validation/Wrath/b.png": ("wrath", "anger", "validation"),
        "FG-Emotions/Anger/c.jpg": ("anger", "anger", None),
    }
