"""The SAVEE adapter: the sa / su / s codes, speakers, releases, and skip reasons."""

from __future__ import annotations

from pathlib import Path

import pytest

from emofeat.corpora import get_adapter
from emofeat.corpora.rows import manifest_rows
from tests.corpora.contract import AdapterContract

# The audio-visual clips (sentence numbers not padded), the audio release (padded, with its
# Info.txt), and the flat audio re-packaging with speaker prefixes.
FAKE = (
    "AudioVisualClip/DC/a1.avi",
    "AudioVisualClip/DC/sa10.avi",
    "AudioVisualClip/JE/su15.avi",
    "AudioVisualClip/KL/n30.avi",
    "AudioData/JK/d03.wav",
    "AudioData/JK/sa01.wav",
    "ALL/KL_su02.wav",
    "ALL/DC_h11.wav",
)


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


class TestSaveeContract(AdapterContract):
    adapter = "savee"

    def build(self, root: Path) -> None:
        touch(root, *FAKE, "AudioData/Info.txt", "AudioData/JK/s05.wav")


def test_codes_speakers_and_modalities(tmp_path: Path) -> None:
    touch(tmp_path, *FAKE)
    manifest = get_adapter("savee").scan(tmp_path)
    assert manifest.skipped == ()
    clips = {c.source: c for c in manifest.clips}
    got = {s: (c.label, c.subject, c.meta["sentence"], c.meta["modality"]) for s, c in clips.items()}
    assert got == {
        "AudioVisualClip/DC/a1.avi": ("anger", "DC", "1", "audio-video"),
        "AudioVisualClip/DC/sa10.avi": ("sadness", "DC", "10", "audio-video"),
        "AudioVisualClip/JE/su15.avi": ("surprise", "JE", "15", "audio-video"),
        "AudioVisualClip/KL/n30.avi": ("neutral", "KL", "30", "audio-video"),
        "AudioData/JK/d03.wav": ("disgust", "JK", "3", "audio"),
        "AudioData/JK/sa01.wav": ("sadness", "JK", "1", "audio"),
        "ALL/KL_su02.wav": ("surprise", "KL", "2", "audio"),
        "ALL/DC_h11.wav": ("happiness", "DC", "11", "audio"),
    }
    assert {c.sex for c in manifest.clips} == {"male"}
    assert {c.split for c in manifest.clips} == {None}
    assert clips["AudioVisualClip/DC/a1.avi"].clip_id == "savee/AudioVisualClip/DC/a1.avi"


def test_unified_labels(tmp_path: Path) -> None:
    touch(tmp_path, *(f"AudioData/DC/{code}01.wav" for code in ("a", "d", "f", "h", "n", "sa", "su")))
    adapter = get_adapter("savee")
    rows = manifest_rows(adapter, adapter.scan(tmp_path))
    assert {r["label"]: r["unified"] for r in rows} == {
        "anger": "angry",
        "disgust": "disgust",
        "fear": "fearful",
        "happiness": "happy",
        "neutral": "neutral",
        "sadness": "sad",
        "surprise": "surprised",
    }
    assert adapter.labels == ("anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("AudioData/DC/s01.wav", "unknown emotion code 's'"),
        ("AudioData/DC/sx01.wav", "unknown emotion code 'sx'"),
        ("AudioData/DC/a16.wav", "sentence 16 is outside 1-15 for code 'a'"),
        ("AudioData/DC/n31.wav", "sentence 31 is outside 1-30 for code 'n'"),
        ("AudioData/DC/a00.wav", "outside 1-15"),
        ("AudioData/XY/a01.wav", "no speaker"),
        ("ALL/XY_a01.wav", "unknown speaker prefix 'XY'"),
        ("AudioData/DC/JE_a01.wav", "speaker prefix 'JE' disagrees with the speaker folder 'DC'"),
        ("AudioData/DC/a01.mp3", "not a clip"),
        ("AudioData/Info.txt", "not a clip"),
        ("AudioData/DC/anger.wav", "name is not"),
    ],
)
def test_irregular_files_are_reported_not_dropped(tmp_path: Path, name: str, reason: str) -> None:
    touch(tmp_path, name, "AudioData/DC/a02.wav")
    manifest = get_adapter("savee").scan(tmp_path)
    assert [c.source for c in manifest.clips] == ["AudioData/DC/a02.wav"]
    assert [s.source for s in manifest.skipped] == [name]
    assert reason in manifest.skipped[0].reason


def test_a_full_speaker_has_120_clips(tmp_path: Path) -> None:
    names = [
        f"AudioData/JE/{code}{n:02d}.wav" for code in ("a", "d", "f", "h", "sa", "su") for n in range(1, 16)
    ]
    names += [f"AudioData/JE/n{n:02d}.wav" for n in range(1, 31)]
    touch(tmp_path, *names)
    manifest = get_adapter("savee").scan(tmp_path)
    assert manifest.skipped == ()
    assert len(manifest.clips) == 120
    assert sum(c.label == "neutral" for c in manifest.clips) == 30
