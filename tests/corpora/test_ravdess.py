"""The RAVDESS adapter: codes, actors, sex, irregular names, and the real file list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emofeat.corpora import ClipRecord, get_adapter
from emofeat.errors import CorpusError

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "emobox" / "ravdess.jsonl"


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


def test_codes_actor_and_sex(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "Actor_01/01-01-03-02-01-02-01.mp4",
        "Actor_12/02-02-06-01-02-01-12.mp4",
        "Audio_Speech_Actors_01-24/Actor_24/03-01-08-01-01-01-24.wav",
    )
    manifest = get_adapter("ravdess").scan(tmp_path)
    clips = {c.source: c for c in manifest.clips}
    assert manifest.skipped == ()
    av = clips["Actor_01/01-01-03-02-01-02-01.mp4"]
    assert (av.label, av.subject, av.sex) == ("happy", "Actor_01", "male")
    assert av.meta == {
        "modality": "audio-video",
        "vocal_channel": "speech",
        "intensity": "strong",
        "statement": "kids",
        "repetition": "2",
    }
    assert av.clip_id == "ravdess/Actor_01/01-01-03-02-01-02-01.mp4"
    song = clips["Actor_12/02-02-06-01-02-01-12.mp4"]
    assert (song.label, song.sex, song.meta["modality"], song.meta["vocal_channel"]) == (
        "fearful",
        "female",
        "video-only",
        "song",
    )
    audio = clips["Audio_Speech_Actors_01-24/Actor_24/03-01-08-01-01-01-24.wav"]
    assert (audio.label, audio.subject, audio.meta["modality"]) == ("surprised", "Actor_24", "audio-only")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Actor_01/notes.txt", "name is not"),
        ("Actor_01/01-01-09-01-01-01-01.mp4", "unknown emotion code 09"),
        ("Actor_01/04-01-01-01-01-01-01.mp4", "unknown modality code 04"),
        ("Actor_01/01-01-01-01-01-01-25.mp4", "unknown actor code 25"),
        ("Actor_01/03-01-01-01-01-01-01.mp4", "does not match"),
    ],
)
def test_irregular_files_are_reported_not_dropped(tmp_path: Path, name: str, reason: str) -> None:
    touch(tmp_path, name, "Actor_01/01-01-01-01-01-01-01.mp4")
    manifest = get_adapter("ravdess").scan(tmp_path)
    assert [c.source for c in manifest.clips] == ["Actor_01/01-01-01-01-01-01-01.mp4"]
    assert len(manifest.skipped) == 1
    assert manifest.skipped[0].source == name
    assert reason in manifest.skipped[0].reason


def test_ids_are_deterministic(tmp_path: Path) -> None:
    touch(tmp_path, "Actor_02/01-01-05-01-01-01-02.mp4", "Actor_01/01-01-05-01-01-01-01.mp4")
    first = get_adapter("ravdess").scan(tmp_path).clips
    second = get_adapter("ravdess").scan(tmp_path).clips
    assert first == second
    assert [c.clip_id for c in first] == sorted(c.clip_id for c in first)


def test_missing_root_is_a_corpus_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="not a directory"):
        get_adapter("ravdess").scan(tmp_path / "nope")


def test_unknown_corpus_names_known_ones() -> None:
    with pytest.raises(CorpusError, match=r"known corpora: .*ravdess"):
        get_adapter("no-such-corpus")


# EmoBox names four RAVDESS emotions differently; the mapping is name-for-name.
EMOBOX_TO_RAVDESS = {"Fearful": "fearful", "Surprised": "surprised"}


@pytest.mark.skipif(not REFERENCE.exists(), reason="../shared/reference is not beside this checkout")
def test_real_file_list_matches_peer_labels(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in REFERENCE.read_text().splitlines() if line.strip()]
    touch(tmp_path, *(r["path"] for r in rows))
    manifest = get_adapter("ravdess").scan(tmp_path)
    assert manifest.skipped == ()
    by_source: dict[str, ClipRecord] = {c.source: c for c in manifest.clips}
    assert len(by_source) == len(rows) == 1440
    for r in rows:
        clip = by_source[r["path"]]
        assert clip.label == EMOBOX_TO_RAVDESS.get(r["emo"], r["emo"].lower()), r
    actors = {c.subject for c in manifest.clips}
    assert len(actors) == 24
    assert {c.sex for c in manifest.clips if c.subject == "Actor_07"} == {"male"}
    assert {c.sex for c in manifest.clips if c.subject == "Actor_08"} == {"female"}
