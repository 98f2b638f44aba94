"""The eNTERFACE'05 adapter: its real irregularities, skip reasons, and the real file list."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from emofeat.corpora import ClipRecord, get_adapter
from emofeat.corpora.folds import assign_folds
from emofeat.corpora.rows import manifest_rows
from tests.corpora.contract import AdapterContract

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "emobox" / "enterface.jsonl"

# The real layout, with each irregularity of the release (see emofeat/corpora/enterface.py).
FAKE = (
    "subject 1/anger/sentence 1/s1_an_1.avi",
    "subject 1/happiness/sentence 2/s1_ha_2.avi",
    "subject 2/anger/sentence 1/s2_an_2.avi",  # anger sentences 1 and 2 swapped
    "subject 2/anger/sentence 2/s2_an_1.avi",
    "subject 3/fear/sentence 4/s3_fe_4.avi",
    "subject 3/fear/sentence 5/s_3_fe_5.avi",  # "s_3_"
    "subject 6/anger/s6_an.avi",  # no sentence folders
    "subject 6/surprise/s6_su.avi",
    "subject 11/sadness/sentence 1/s12_sa_1.avi",  # folder 11, files named s12
    "subject 11/disgust/sentence 3/s12_di_3.avi",
    "subject 16/surprise/sentence 3/s16_su_3avi.avi",  # doubled extension
)


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


class TestEnterfaceContract(AdapterContract):
    adapter = "enterface"

    def build(self, root: Path) -> None:
        touch(root, *FAKE, "subject 1/anger/sentence 1/Thumbs.db", "readme.txt")


def scan(root: Path) -> dict[str, ClipRecord]:
    manifest = get_adapter("enterface").scan(root)
    return {c.source: c for c in manifest.clips}


def test_labels_subjects_and_sentences_of_the_irregular_subjects(tmp_path: Path) -> None:
    touch(tmp_path, *FAKE)
    manifest = get_adapter("enterface").scan(tmp_path)
    assert manifest.skipped == ()
    clips = {c.source: c for c in manifest.clips}
    assert len(clips) == len(FAKE)
    plain = clips["subject 1/happiness/sentence 2/s1_ha_2.avi"]
    assert (plain.label, plain.subject, plain.sex, plain.split) == ("happiness", "subject 1", None, None)
    assert plain.meta == {"sentence": "2"}
    assert plain.clip_id == "enterface/subject 1/happiness/sentence 2/s1_ha_2.avi"
    # Subject 2: the folder's sentence number is kept, the file name's is recorded.
    swapped = clips["subject 2/anger/sentence 1/s2_an_2.avi"]
    assert (swapped.label, swapped.meta) == ("anger", {"sentence": "1", "name_sentence": "2"})
    # Subject 3's "s_3_" names parse like the others.
    s3 = clips["subject 3/fear/sentence 5/s_3_fe_5.avi"]
    assert (s3.label, s3.subject, s3.meta) == ("fear", "subject 3", {"sentence": "5"})
    # Subject 6: no sentence folder and no number in the name.
    s6 = clips["subject 6/surprise/s6_su.avi"]
    assert (s6.label, s6.subject, s6.meta) == ("surprise", "subject 6", {})
    # Folder "subject 11" holds s12_* files: the subject is the folder, the name is recorded.
    s11 = [c for c in clips.values() if c.source.startswith("subject 11/")]
    assert {c.subject for c in s11} == {"subject 11"}
    assert {c.meta["name_subject"] for c in s11} == {"12"}
    assert clips["subject 11/disgust/sentence 3/s12_di_3.avi"].label == "disgust"
    odd = clips["subject 16/surprise/sentence 3/s16_su_3avi.avi"]
    assert (odd.label, odd.meta) == ("surprise", {"sentence": "3"})


def test_unified_labels_and_quadrants(tmp_path: Path) -> None:
    touch(
        tmp_path, *(f"subject 4/{folder}/sentence 1/s4_{code}_1.avi" for code, folder in EMOBOX_CODES.items())
    )
    adapter = get_adapter("enterface")
    rows = manifest_rows(adapter, adapter.scan(tmp_path))
    got = {r["label"]: (r["unified"], r["quadrant"]) for r in rows}
    assert got == {
        "anger": ("angry", "Q2"),
        "disgust": ("disgust", "Q2"),
        "fear": ("fearful", "Q2"),
        "happiness": ("happy", "Q1"),
        "sadness": ("sad", "Q3"),
        "surprise": ("surprised", "Q1"),
    }
    assert adapter.labels == ("anger", "disgust", "fear", "happiness", "sadness", "surprise")


def test_any_parent_folder_is_accepted(tmp_path: Path) -> None:
    touch(tmp_path, "enterface database/subject 7/fear/sentence 2/s7_fe_2.avi")
    (clip,) = get_adapter("enterface").scan(tmp_path).clips
    assert (clip.subject, clip.label, clip.meta) == ("subject 7", "fear", {"sentence": "2"})


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("subject 1/anger/sentence 3/s1_ha_3.avi", "file-name code 'ha' (happiness) disagrees"),
        ("subject 1/joy/sentence 1/s1_jo_1.avi", "unknown emotion folder 'joy'"),
        ("subject 1/anger/sentence 1/s1_xx_1.avi", "unknown emotion code 'xx'"),
        ("subject 1/anger/take 1/s1_an_1.avi", "is not 'sentence M'"),
        ("subject 1/anger/sentence 1/extra/s1_an_1.avi", "not at subject N/<emotion>"),
        ("subject 1/s1_an_1.avi", "not at subject N/<emotion>"),
        ("anger/sentence 1/s1_an_1.avi", "not under a 'subject N' folder"),
        ("subject 1/anger/sentence 1/s1_an_1.mp4", "name is not sN_<code>_M.avi"),
        ("subject 1/anger/sentence 1/Thumbs.db", "name is not sN_<code>_M.avi"),
    ],
)
def test_irregular_files_are_reported_not_dropped(tmp_path: Path, name: str, reason: str) -> None:
    touch(tmp_path, name, "subject 1/anger/sentence 2/s1_an_2.avi")
    manifest = get_adapter("enterface").scan(tmp_path)
    assert [c.source for c in manifest.clips] == ["subject 1/anger/sentence 2/s1_an_2.avi"]
    assert [s.source for s in manifest.skipped] == [name]
    assert reason in manifest.skipped[0].reason


def test_folds_keep_each_recorded_person_together(tmp_path: Path) -> None:
    touch(tmp_path, *FAKE)
    clips = get_adapter("enterface").scan(tmp_path).clips
    folds = assign_folds(clips, 5)
    assert len({folds[c.clip_id] for c in clips if c.subject == "subject 11"}) == 1
    assert assign_folds(reversed(clips), 5) == folds


# EmoBox's codes are the file-name codes; the mapping to folder names is the database's own.
EMOBOX_CODES = {
    "an": "anger",
    "di": "disgust",
    "fe": "fear",
    "ha": "happiness",
    "sa": "sadness",
    "su": "surprise",
}


@pytest.mark.skipif(not REFERENCE.exists(), reason="../shared/reference is not beside this checkout")
def test_real_file_list_matches_peer_labels(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in REFERENCE.read_text().splitlines() if line.strip()]
    touch(tmp_path, *(r["path"] for r in rows))
    manifest = get_adapter("enterface").scan(tmp_path)
    assert manifest.skipped == ()
    by_source = {c.source: c for c in manifest.clips}
    assert len(by_source) == len(rows) == 1263
    for r in rows:
        assert by_source[r["path"]].label == EMOBOX_CODES[r["emo"]], r
    per_subject = Counter(c.subject for c in manifest.clips)
    assert len(per_subject) == 43
    assert "subject 12" not in per_subject
    assert (per_subject["subject 6"], per_subject["subject 11"], per_subject["subject 23"]) == (6, 30, 27)
    assert {c.meta.get("name_subject") for c in manifest.clips if c.subject == "subject 11"} == {"12"}
    assert sum("name_subject" in c.meta for c in manifest.clips) == 30
    swapped = {c.source: c.meta.get("name_sentence") for c in manifest.clips if "name_sentence" in c.meta}
    assert swapped == {
        "subject 2/anger/sentence 1/s2_an_2.avi": "2",
        "subject 2/anger/sentence 2/s2_an_1.avi": "1",
    }
    folds = assign_folds(manifest.clips, 5)
    by_subject: dict[str, set[int]] = {}
    for clip in manifest.clips:
        by_subject.setdefault(str(clip.subject), set()).add(folds[clip.clip_id])
    assert all(len(f) == 1 for f in by_subject.values())
