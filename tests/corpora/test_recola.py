"""The RECOLA (AVEC 2016) adapter: one audio and one video clip per recording, both carrying
the 40 ms arousal and valence tracks; partitions; malformed ARFF files reported with the line.

No peer file list exists for RECOLA: the fake corpus mirrors the AVEC 2016 package layout and
naming, with gold-standard ARFF files in the package's own format.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from emofeat.corpora import ClipRecord, LabelTrack, Manifest, get_adapter
from emofeat.corpora.base import walk_files
from emofeat.corpora.rows import manifest_rows
from emofeat.errors import CorpusError
from tests.corpora.contract import AdapterContract

HEADER = (
    "@relation GOLDSTANDARD",
    "",
    "@attribute Instance_name string",
    "@attribute frameTime numeric",
    "@attribute GoldStandard numeric",
    "",
    "@data",
    "",
)


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


def write_lines(root: Path, name: str, lines: tuple[str, ...] | list[str]) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def gold(recording: str, values: list[float], quote: str = "") -> list[str]:
    """A gold-standard ARFF as AVEC 2016 ships it: one row every 40 ms from 0 s."""
    rows = [f"{quote}{recording}{quote},{0.04 * i:.6f},{v:.6f}" for i, v in enumerate(values)]
    return [*HEADER, *rows]


def build_package(root: Path) -> None:
    """A small AVEC 2016 package: train, dev and test recordings plus the folders not read."""
    for rid in ("train_1", "train_2", "dev_1", "test_1"):
        touch(root, f"recordings_audio/{rid}.wav", f"recordings_video/{rid}.mp4")
    for rid, arousal, valence in (
        ("train_1", [0.1, 0.2, 0.3], [-0.1, 0.0, 0.05]),
        ("train_2", [0.0, -0.2], [0.4, 0.41]),
        ("dev_1", [0.5, 0.5, 0.6, 0.7], [0.0, 0.1, 0.2, 0.3]),
    ):
        write_lines(root, f"ratings_gold_standard/arousal/{rid}.arff", gold(rid, arousal))
        write_lines(root, f"ratings_gold_standard/valence/{rid}.arff", gold(rid, valence, quote="'"))
    write_lines(
        root, "ratings_individual/arousal/train_1.csv", ["time;FM1;FM2;FM3;FF1;FF2;FF3", "0.00;0;0;0;0;0;0"]
    )
    touch(
        root,
        "ratings_individual_centred/valence/train_1.csv",
        "features_audio/arousal/train_1.arff",
        "features_video_geometric/valence/dev_1.arff",
        "recordings_physio/filtered/train_1.csv",
        "recordings_audio/.DS_Store",
        "AVEC2016_readme.txt",
    )


class TestRecolaContract(AdapterContract):
    adapter = "recola"

    def build(self, root: Path) -> None:
        build_package(root)


@pytest.fixture
def package(tmp_path: Path) -> Manifest:
    build_package(tmp_path)
    return get_adapter("recola").scan(tmp_path)


def clips_of(manifest: Manifest) -> dict[str, ClipRecord]:
    return {c.source: c for c in manifest.clips}


def tracks_of(clip: ClipRecord) -> dict[str, LabelTrack]:
    return {t.name: t for t in clip.tracks}


def reasons(manifest: Manifest) -> dict[str, str]:
    return {s.source: s.reason for s in manifest.skipped}


def test_a_recording_is_one_clip_with_the_video_and_the_audio_of_its_wav(package: Manifest) -> None:
    clips = clips_of(package)
    clip = clips["recordings_video/train_1.mp4"]
    assert clip.clip_id == "recola/recordings_video/train_1.mp4"
    assert clip.audio_source == "recordings_audio/train_1.wav"
    assert clip.meta == {"modality": "audio-video"}
    assert "recordings_audio/train_1.wav" not in clips
    assert reasons(package)["recordings_audio/train_1.wav"] == (
        "audio of the recording train_1 (clip recordings_video/train_1.mp4)"
    )
    assert (clip.subject, clip.sex, clip.label, clip.split) == ("train_1", None, None, "train")
    tracks = tracks_of(clip)
    assert list(tracks) == ["arousal", "valence"]
    arousal = tracks["arousal"]
    assert arousal.kind == "continuous"
    assert arousal.frames is None
    assert arousal.times is not None
    assert arousal.times.dtype == np.float64
    assert arousal.times.tolist() == pytest.approx([0.0, 0.04, 0.08])
    assert arousal.values.dtype == np.float32
    assert arousal.values.tolist() == pytest.approx([0.1, 0.2, 0.3])
    assert tracks["valence"].values.tolist() == pytest.approx([-0.1, 0.0, 0.05])  # quoted instance


def test_partitions_and_test_recordings(package: Manifest) -> None:
    clips = clips_of(package)
    assert clips["recordings_video/dev_1.mp4"].split == "validation"
    assert len(clips["recordings_video/dev_1.mp4"].tracks[0].values) == 4
    test = clips["recordings_video/test_1.mp4"]
    assert (test.split, test.tracks, test.subject) == ("test", (), "test_1")
    assert len(package.clips) == 4
    assert {c.meta["modality"] for c in package.clips} == {"audio-video"}


def test_every_other_file_is_reported_with_its_reason(package: Manifest) -> None:
    why = reasons(package)
    assert (
        why["ratings_gold_standard/arousal/train_1.arff"] == "rating file (gold-standard arousal of train_1)"
    )
    assert why["ratings_gold_standard/valence/dev_1.arff"] == "rating file (gold-standard valence of dev_1)"
    assert why["ratings_individual/arousal/train_1.csv"].startswith("individual raters' ratings")
    assert why["ratings_individual_centred/valence/train_1.csv"].startswith("individual raters' ratings")
    assert why["features_audio/arousal/train_1.arff"] == "challenge baseline features (not read)"
    assert why["features_video_geometric/valence/dev_1.arff"] == "challenge baseline features (not read)"
    assert why["recordings_physio/filtered/train_1.csv"].startswith("physiological signals")
    assert why["recordings_audio/.DS_Store"] == "hidden file"
    assert why["AVEC2016_readme.txt"].startswith("not part of the AVEC 2016 layout")
    assert len(why) + len(package.clips) == len(list(walk_files(package.root)))


def test_no_categorical_labels(package: Manifest) -> None:
    adapter = get_adapter("recola")
    assert adapter.labels == ()
    assert adapter.unified_label("arousal") is None
    rows = [r for r in manifest_rows(adapter, package) if "clip_id" in r]
    assert {(r["label"], r["unified"], r["quadrant"]) for r in rows} == {(None, None, None)}
    assert {tuple(r["tracks"]) for r in rows} == {("arousal", "valence"), ()}


def test_a_recording_with_one_file_is_a_clip_of_that_file(tmp_path: Path) -> None:
    touch(tmp_path, "recordings_audio/train_1.wav", "recordings_video/train_2.mp4")
    clips = clips_of(get_adapter("recola").scan(tmp_path))
    assert clips["recordings_audio/train_1.wav"].audio_source is None
    assert clips["recordings_audio/train_1.wav"].meta == {"modality": "audio"}
    assert clips["recordings_video/train_2.mp4"].audio_source is None
    assert clips["recordings_video/train_2.mp4"].meta == {"modality": "video"}


def test_two_audio_files_of_one_recording_skip_it(tmp_path: Path) -> None:
    touch(tmp_path, "a/recordings_audio/train_1.wav", "b/recordings_audio/train_1.wav")
    touch(tmp_path, "a/recordings_video/train_1.mp4")
    manifest = get_adapter("recola").scan(tmp_path)
    assert manifest.clips == ()
    why = reasons(manifest)
    for source in ("a/recordings_audio/train_1.wav", "b/recordings_audio/train_1.wav"):
        assert why[source].startswith("recording train_1 has 2 audio files")
    assert why["a/recordings_video/train_1.mp4"].startswith("recording train_1 has 2 audio files")


def test_comments_and_missing_values(tmp_path: Path) -> None:
    touch(tmp_path, "recordings_audio/dev_3.wav")
    lines = ["% AVEC 2016 gold standard", *gold("dev_3", [0.2]), "dev_3,0.040000,?", "", ""]
    write_lines(tmp_path, "ratings_gold_standard/arousal/dev_3.arff", lines)
    (clip,) = get_adapter("recola").scan(tmp_path).clips
    values = clip.tracks[0].values
    assert values[0] == pytest.approx(0.2)
    assert math.isnan(values[1])


BAD_ROWS = [
    (
        ["train_1,0.000000,0.1", "train_1,0.040000"],
        "line 10: 'train_1,0.040000' is not 'instance,time,value'",
    ),
    (["train_1,0.000000,0.1", "train_2,0.040000,0.1"], "line 10: instance 'train_2' is not 'train_1'"),
    (["train_1,0.000000,high"], "line 9: 'train_1,0.000000,high': time or value is not a number"),
    (["train_1,0.000000,inf"], "line 9: 'train_1,0.000000,inf': time or value is not a finite number"),
    (
        ["train_1,0.040000,0.1", "train_1,0.040000,0.1"],
        "line 10: time 0.04 does not increase (previous 0.04)",
    ),
    ([], "no data lines after @data"),
]


@pytest.mark.parametrize(("rows", "reason"), BAD_ROWS)
def test_bad_data_lines_skip_both_clips_with_file_and_line(
    tmp_path: Path, rows: list[str], reason: str
) -> None:
    check_malformed(tmp_path, [*HEADER, *rows], reason)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (HEADER[2:], "line 5: no @relation line before @data"),
        (HEADER[:-2], "no @data line"),
        (
            (*HEADER[:4], *HEADER[5:]),
            "line 6: attributes are (instance_name string, frametime numeric), not (Instance_name string",
        ),
        (
            ("@relation GOLDSTANDARD", "@attribute frameTime", "@data"),
            "line 2: '@attribute frameTime' is not",
        ),
        (
            ("@relation GOLDSTANDARD", "train_1,0,0"),
            "line 2: 'train_1,0,0' before @data is not an ARFF header",
        ),
    ],
)
def test_bad_headers_skip_both_clips(tmp_path: Path, header: tuple[str, ...], reason: str) -> None:
    check_malformed(tmp_path, list(header), reason)


def check_malformed(root: Path, lines: list[str], reason: str) -> None:
    touch(
        root, "recordings_audio/train_1.wav", "recordings_video/train_1.mp4", "recordings_audio/train_2.wav"
    )
    write_lines(root, "ratings_gold_standard/arousal/train_1.arff", lines)
    write_lines(root, "ratings_gold_standard/valence/train_1.arff", gold("train_1", [0.0]))
    manifest = get_adapter("recola").scan(root)
    assert [c.source for c in manifest.clips] == ["recordings_audio/train_2.wav"]
    why = reasons(manifest)
    for clip in ("recordings_audio/train_1.wav", "recordings_video/train_1.mp4"):
        assert why[clip].startswith("ratings_gold_standard/arousal/train_1.arff")
        assert reason in why[clip]
    assert why["ratings_gold_standard/arousal/train_1.arff"].startswith("malformed rating file")
    assert why["ratings_gold_standard/valence/train_1.arff"].endswith("whose clip is skipped)")


def test_irregular_names_and_orphan_ratings(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "recordings_audio/train_1.wav",
        "recordings_audio/train_01_copy.wav",
        "recordings_audio/train_1.mp3",
        "recordings_video/train_1.wav",
        "ratings_gold_standard/dominance/train_1.arff",
    )
    write_lines(tmp_path, "ratings_gold_standard/arousal/dev_9.arff", gold("dev_9", [0.0]))
    write_lines(tmp_path, "ratings_gold_standard/arousal/train_all.arff", gold("train_all", [0.0]))
    manifest = get_adapter("recola").scan(tmp_path)
    assert [c.source for c in manifest.clips] == ["recordings_audio/train_1.wav"]
    assert manifest.clips[0].tracks == ()  # no rating: a clip without tracks
    assert reasons(manifest) == {
        "ratings_gold_standard/arousal/dev_9.arff": "rating file without recording",
        "ratings_gold_standard/arousal/train_all.arff": "rating file name is not train_N, dev_N or test_N",
        "ratings_gold_standard/dominance/train_1.arff": (
            "not a rating file (ratings_gold_standard/arousal|valence/<id>.arff)"
        ),
        "recordings_audio/train_01_copy.wav": "recording name is not train_N, dev_N or test_N",
        "recordings_audio/train_1.mp3": "not a .wav file (the audio recordings are .wav)",
        "recordings_video/train_1.wav": "not a .mp4 file (the video recordings are .mp4)",
    }


def test_two_ratings_for_one_recording_and_dimension_skip_its_clips(tmp_path: Path) -> None:
    touch(tmp_path, "recordings_audio/train_3.wav")
    for base in ("AVEC2016", "copy"):
        write_lines(tmp_path, f"{base}/ratings_gold_standard/arousal/train_3.arff", gold("train_3", [0.1]))
    manifest = get_adapter("recola").scan(tmp_path)
    assert manifest.clips == ()
    assert reasons(manifest)["recordings_audio/train_3.wav"] == (
        "rated twice for arousal: AVEC2016/ratings_gold_standard/arousal/train_3.arff"
        " and copy/ratings_gold_standard/arousal/train_3.arff"
    )


def test_missing_root_is_a_corpus_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="not a directory"):
        get_adapter("recola").scan(tmp_path / "nope")
