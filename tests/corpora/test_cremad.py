"""The CREMA-D adapter: codes, demographics, skip reasons, and the real file list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emofeat.corpora import get_adapter
from emofeat.corpora.cremad import AUDIO_OF_VIDEO, MP3_COPY, OTHER_COPY
from emofeat.corpora.rows import manifest_rows
from emofeat.errors import CorpusError
from tests.corpora.contract import AdapterContract

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "emobox" / "cremad.jsonl"

# The first rows of the real VideoDemographics.csv, quoting as it ships.
DEMOGRAPHICS = (
    '"ActorID","Age","Sex","Race","Ethnicity"\n'
    '1001,51,"Male","Caucasian","Not Hispanic"\n'
    '1002,21,"Female","Caucasian","Not Hispanic"\n'
    '1076,25,"Female","Caucasian","Not Hispanic"\n'
)
FAKE = (
    "AudioWAV/1001_DFA_ANG_XX.wav",
    "AudioWAV/1001_IEO_HAP_HI.wav",
    "AudioWAV/1002_IEO_DIS_LO.wav",
    "AudioWAV/1076_MTI_SAD_XX.wav",  # empty or broken in some releases: still a clip
    "AudioMP3/1002_TSI_NEU_XX.mp3",
    "VideoFlash/1001_DFA_ANG_XX.flv",
    "VideoFlash/1091_WSI_FEA_MD.flv",  # an actor the demographics rows above leave out
)


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


class TestCremaDContract(AdapterContract):
    adapter = "cremad"

    def build(self, root: Path) -> None:
        touch(root, *FAKE, "SentenceFilenames.csv", "processedResults/tabulatedVotes.csv", "README.md")
        (root / "VideoDemographics.csv").write_text(DEMOGRAPHICS)


def test_codes_actor_sex_and_age(tmp_path: Path) -> None:
    touch(tmp_path, *FAKE)
    (tmp_path / "VideoDemographics.csv").write_text(DEMOGRAPHICS)
    manifest = get_adapter("cremad").scan(tmp_path)
    assert [(s.source, s.reason) for s in manifest.skipped] == [
        (
            "AudioWAV/1001_DFA_ANG_XX.wav",
            "WAV audio of an utterance's video (read as that clip's audio_source)",
        ),
        ("VideoDemographics.csv", "demographics file (read for actor sex and age)"),
    ]
    clips = {c.source: c for c in manifest.clips}
    assert len(clips) == len(FAKE) - 1  # 1001_DFA_ANG_XX: its flv and its wav are one clip
    paired = clips["VideoFlash/1001_DFA_ANG_XX.flv"]
    assert (paired.clip_id, paired.audio_source) == (
        "cremad/VideoFlash/1001_DFA_ANG_XX.flv",
        "AudioWAV/1001_DFA_ANG_XX.wav",
    )
    assert paired.meta["modality"] == "audio-video"
    assert clips["VideoFlash/1091_WSI_FEA_MD.flv"].audio_source is None  # no wav of it
    wav = clips["AudioWAV/1001_IEO_HAP_HI.wav"]
    assert (wav.label, wav.subject, wav.sex, wav.split) == ("happy", "1001", "male", None)
    assert wav.meta == {"sentence": "IEO", "level": "high", "modality": "audio", "age": "51"}
    assert wav.clip_id == "cremad/AudioWAV/1001_IEO_HAP_HI.wav"
    mp3 = clips["AudioMP3/1002_TSI_NEU_XX.mp3"]
    assert (mp3.label, mp3.sex, mp3.meta["level"], mp3.meta["modality"]) == (
        "neutral",
        "female",
        "unspecified",
        "audio",
    )
    flv = clips["VideoFlash/1091_WSI_FEA_MD.flv"]
    assert (flv.label, flv.subject, flv.sex) == ("fear", "1091", None)
    assert flv.meta == {"sentence": "WSI", "level": "medium", "modality": "audio-video"}
    assert clips["AudioWAV/1076_MTI_SAD_XX.wav"].label == "sad"
    assert clips["AudioWAV/1002_IEO_DIS_LO.wav"].meta["level"] == "low"


def test_copies_of_an_utterance_are_one_clip(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "AudioMP3/1003_ITS_SAD_XX.mp3",
        "AudioWAV/1003_ITS_SAD_XX.wav",
        "mirror/1003_ITS_SAD_XX.mp4",
        "AudioMP3/1004_ITS_SAD_XX.mp3",  # an MP3 alone is the clip
        "AudioWAV/1005_ITS_SAD_XX.wav",
        "AudioMP3/1005_ITS_SAD_XX.mp3",
        "VideoFlash/1006_ITS_SAD_XX.flv",
        "mirror/1006_ITS_SAD_XX.mp4",
    )
    manifest = get_adapter("cremad").scan(tmp_path)
    clips = {c.source: c.audio_source for c in manifest.clips}
    assert clips == {
        "AudioMP3/1004_ITS_SAD_XX.mp3": None,
        "AudioWAV/1005_ITS_SAD_XX.wav": None,
        "VideoFlash/1006_ITS_SAD_XX.flv": None,
        "mirror/1003_ITS_SAD_XX.mp4": "AudioWAV/1003_ITS_SAD_XX.wav",
    }
    assert {s.source: s.reason for s in manifest.skipped} == {
        "AudioMP3/1003_ITS_SAD_XX.mp3": MP3_COPY,
        "AudioWAV/1003_ITS_SAD_XX.wav": AUDIO_OF_VIDEO,
        "AudioMP3/1005_ITS_SAD_XX.mp3": MP3_COPY,
        "mirror/1006_ITS_SAD_XX.mp4": OTHER_COPY,
    }


def test_without_demographics_sex_is_unknown(tmp_path: Path) -> None:
    touch(tmp_path, "AudioWAV/1001_DFA_ANG_XX.wav")
    (clip,) = get_adapter("cremad").scan(tmp_path).clips
    assert (clip.subject, clip.sex, clip.label) == ("1001", None, "anger")
    assert "age" not in clip.meta


def test_demographics_below_the_root_are_not_read(tmp_path: Path) -> None:
    touch(tmp_path, "AudioWAV/1001_DFA_ANG_XX.wav")
    (tmp_path / "AudioWAV" / "VideoDemographics.csv").write_text(DEMOGRAPHICS)
    manifest = get_adapter("cremad").scan(tmp_path)
    assert manifest.clips[0].sex is None
    assert [s.source for s in manifest.skipped] == ["AudioWAV/VideoDemographics.csv"]


def test_unified_labels(tmp_path: Path) -> None:
    touch(tmp_path, *(f"AudioWAV/1003_ITS_{e}_XX.wav" for e in ("ANG", "DIS", "FEA", "HAP", "NEU", "SAD")))
    adapter = get_adapter("cremad")
    rows = manifest_rows(adapter, adapter.scan(tmp_path))
    assert {r["label"]: r["unified"] for r in rows} == {
        "anger": "angry",
        "disgust": "disgust",
        "fear": "fearful",
        "happy": "happy",
        "neutral": "neutral",
        "sad": "sad",
    }
    assert adapter.labels == ("anger", "disgust", "fear", "happy", "neutral", "sad")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("AudioWAV/1001_DFA_CAL_XX.wav", "unknown emotion code CAL"),
        ("AudioWAV/1001_DFA_ANG_VH.wav", "unknown emotion level code VH"),
        ("AudioWAV/1001_ABC_ANG_XX.wav", "unknown sentence code ABC"),
        ("AudioWAV/1092_DFA_ANG_XX.wav", "unknown actor 1092"),
        ("AudioWAV/0999_DFA_ANG_XX.wav", "unknown actor 0999"),
        ("AudioWAV/1001_DFA_ANG_XX.txt", "unknown file type .txt"),
        ("AudioWAV/1001_DFA_ANG.wav", "name is not AAAA_SSS_EEE_LL"),
        ("processedResults/summaryTable.csv", "name is not AAAA_SSS_EEE_LL"),
    ],
)
def test_irregular_files_are_reported_not_dropped(tmp_path: Path, name: str, reason: str) -> None:
    touch(tmp_path, name, "AudioWAV/1001_DFA_ANG_XX.wav")
    manifest = get_adapter("cremad").scan(tmp_path)
    assert [c.source for c in manifest.clips] == ["AudioWAV/1001_DFA_ANG_XX.wav"]
    assert [s.source for s in manifest.skipped] == [name]
    assert reason in manifest.skipped[0].reason


@pytest.mark.parametrize(
    ("csv", "match"),
    [
        ("ActorID,Age\n1001,51\n", "needs the columns"),
        ("ActorID,Age,Sex\n1001,51,Male\n1001,51,Male\n", "listed twice"),
        ("ActorID,Age,Sex\n1001,51,M\n", "Sex must be Male or Female"),
        ("ActorID,Age,Sex\nabc,51,Male\n", "ActorID must be a number"),
    ],
)
def test_bad_demographics_is_a_corpus_error(tmp_path: Path, csv: str, match: str) -> None:
    touch(tmp_path, "AudioWAV/1001_DFA_ANG_XX.wav")
    (tmp_path / "VideoDemographics.csv").write_text(csv)
    with pytest.raises(CorpusError, match=match):
        get_adapter("cremad").scan(tmp_path)


# EmoBox's codes are CREMA-D's own; the names are CREMA-D's documentation's.
EMOBOX_CODES = {
    "ANG": "anger",
    "DIS": "disgust",
    "FEA": "fear",
    "HAP": "happy",
    "NEU": "neutral",
    "SAD": "sad",
}


@pytest.mark.skipif(not REFERENCE.exists(), reason="../shared/reference is not beside this checkout")
def test_real_file_list_matches_peer_labels(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in REFERENCE.read_text().splitlines() if line.strip()]
    touch(tmp_path, *(r["path"] for r in rows))
    manifest = get_adapter("cremad").scan(tmp_path)
    assert manifest.skipped == ()
    by_source = {c.source: c for c in manifest.clips}
    assert len(by_source) == len(rows) == 7442
    for r in rows:
        assert by_source[r["path"]].label == EMOBOX_CODES[r["emo"]], r
    assert {c.subject for c in manifest.clips} == {str(a) for a in range(1001, 1092)}
    assert "AudioWAV/1076_MTI_SAD_XX.wav" in by_source
