"""The EMO-DB adapter: codes, speakers, sex, skip reasons, and the real file list."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from emofeat.corpora import get_adapter
from emofeat.corpora.rows import manifest_rows
from tests.corpora.contract import AdapterContract

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "emobox" / "emodb.jsonl"

FAKE = ("wav/03a01Fa.wav", "wav/08b02Lb.wav", "wav/16a07Tf.wav", "wav/11b10Wc.wav")


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


class TestEmoDBContract(AdapterContract):
    adapter = "emodb"

    def build(self, root: Path) -> None:
        # The unpacked download.zip: clips plus segmentations and the listening-test tables.
        touch(
            root,
            *FAKE,
            "lablaut/03a01Fa.lablaut",
            "labsilb/03a01Fa.labsilb",
            "silb/03a01Fa.silb",
            "erkennung.txt",
            "erklaerung.txt",
        )


def test_codes_speaker_sex_and_age(tmp_path: Path) -> None:
    touch(tmp_path, *FAKE)
    manifest = get_adapter("emodb").scan(tmp_path)
    assert manifest.skipped == ()
    clips = {c.source: c for c in manifest.clips}
    first = clips["wav/03a01Fa.wav"]
    assert (first.label, first.subject, first.sex, first.split) == ("happiness", "03", "male", None)
    assert first.meta == {"text": "a01", "version": "a", "age": "31"}
    assert first.clip_id == "emodb/wav/03a01Fa.wav"
    bored = clips["wav/08b02Lb.wav"]
    assert (bored.label, bored.subject, bored.sex, bored.meta["text"]) == ("boredom", "08", "female", "b02")
    assert (clips["wav/16a07Tf.wav"].label, clips["wav/16a07Tf.wav"].meta["version"]) == ("sadness", "f")
    assert (clips["wav/11b10Wc.wav"].label, clips["wav/11b10Wc.wav"].sex) == ("anger", "male")


def test_side_files_are_reported_with_what_they_hold(tmp_path: Path) -> None:
    touch(tmp_path, "wav/03a01Fa.wav", "lablaut/03a01Fa.lablaut", "silb/03a01Fa.silb", "erkennung.txt")
    reasons = {s.source: s.reason for s in get_adapter("emodb").scan(tmp_path).skipped}
    assert reasons == {
        "erkennung.txt": "listening-test recognition rates (not read)",
        "lablaut/03a01Fa.lablaut": "phone segmentation (not read)",
        "silb/03a01Fa.silb": "syllable segmentation (not read)",
    }


def test_unified_labels_and_quadrants(tmp_path: Path) -> None:
    touch(tmp_path, *(f"wav/03a01{letter}a.wav" for letter in "WLEAFTN"))
    adapter = get_adapter("emodb")
    rows = manifest_rows(adapter, adapter.scan(tmp_path))
    assert {r["label"]: (r["unified"], r["quadrant"]) for r in rows} == {
        "anger": ("angry", "Q2"),
        "boredom": ("boredom", "Q3"),
        "disgust": ("disgust", "Q2"),
        "fear": ("fearful", "Q2"),
        "happiness": ("happy", "Q1"),
        "sadness": ("sad", "Q3"),
        "neutral": ("neutral", "Q4"),
    }
    assert adapter.labels == ("anger", "boredom", "disgust", "fear", "happiness", "sadness", "neutral")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("wav/03a01Xa.wav", "unknown emotion letter 'X'"),
        ("wav/03a01wa.wav", "unknown emotion letter 'w'"),
        ("wav/04a01Fa.wav", "unknown speaker 04"),
        ("wav/03a03Fa.wav", "unknown text code a03"),
        ("wav/03a01F.wav", "name is not SSTTTEV.wav"),
        ("wav/03a01Fa.mp3", "not a clip"),
    ],
)
def test_irregular_files_are_reported_not_dropped(tmp_path: Path, name: str, reason: str) -> None:
    touch(tmp_path, name, "wav/03a01Wa.wav")
    manifest = get_adapter("emodb").scan(tmp_path)
    assert [c.source for c in manifest.clips] == ["wav/03a01Wa.wav"]
    assert [s.source for s in manifest.skipped] == [name]
    assert reason in manifest.skipped[0].reason


# EmoBox's names for EMO-DB's classes: the same seven classes, spelled its own way
# ("boredem" is its typo), so the check is class for class, not a disagreement.
EMOBOX_NAMES = {
    "anger": "anger",
    "boredem": "boredom",
    "disgust": "disgust",
    "fear": "fear",
    "happy": "happiness",
    "sad": "sadness",
    "neutral": "neutral",
}


@pytest.mark.skipif(not REFERENCE.exists(), reason="../shared/reference is not beside this checkout")
def test_real_file_list_matches_peer_labels(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in REFERENCE.read_text().splitlines() if line.strip()]
    touch(tmp_path, *(r["path"] for r in rows))
    manifest = get_adapter("emodb").scan(tmp_path)
    assert manifest.skipped == ()
    by_source = {c.source: c for c in manifest.clips}
    assert len(by_source) == len(rows) == 535
    for r in rows:
        assert by_source[r["path"]].label == EMOBOX_NAMES[r["emo"]], r
    sexes = Counter(c.sex for c in manifest.clips)
    assert len({c.subject for c in manifest.clips}) == 10
    assert sexes["male"] + sexes["female"] == 535
    assert {c.subject for c in manifest.clips if c.sex == "female"} == {"08", "09", "13", "14", "16"}
