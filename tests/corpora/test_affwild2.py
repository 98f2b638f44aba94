"""The Aff-Wild2 adapter: per-frame expression and valence/arousal tracks, one clip per
left/right person, splits, test videos, release variants, and every irregular file reported
with its reason.

No peer file list exists for Aff-Wild2: the fake corpus mirrors the ABAW release layout and
naming (batch folders, ``<Task>/<Split>_Set/<video>[_left|_right].txt``, real header lines).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from emofeat.corpora import ClipRecord, LabelTrack, Manifest, get_adapter
from emofeat.corpora.base import walk_files
from emofeat.corpora.folds import assign_folds
from emofeat.corpora.rows import manifest_rows
from emofeat.corpora.vocabulary import quadrant
from emofeat.errors import CorpusError
from tests.corpora.contract import AdapterContract

EXPR_HEADER = "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other"
EXPR_HEADER_2020 = "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise"
ANN = "6th ABAW Annotations"
EXPR = f"{ANN}/EXPR_Classification_Challenge"
VA = f"{ANN}/VA_Estimation_Challenge"


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


def write(root: Path, name: str, header: str, *lines: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join((header, *lines)) + "\n")


def build_release(root: Path) -> None:
    """A small ABAW-6 style release with the corpus's known irregularities."""
    touch(
        root,
        "batch1/1-30-1280x720.mp4",  # one person: expression + valence/arousal, train
        "batch1/10-60-1280x720.mp4",  # two people: _left / _right, one clip each
        "batch2/video10-1.avi",  # no annotation: test set
        "new_vids/135-24-1920x1080.mp4",  # valence/arousal only
        "batch1/._1-30-1280x720.mp4",  # macOS resource fork
        "cropped_aligned/1-30-1280x720/00001.jpg",
        "README.txt",
    )
    write(root, f"{EXPR}/Train_Set/1-30-1280x720.txt", EXPR_HEADER, "0", "4", "-1", "7", "4")
    write(root, f"{VA}/Train_Set/1-30-1280x720.txt", "valence,arousal", "0.1,0.2", "-5,-5", "-0.35,0.9")
    write(root, f"{EXPR}/Validation_Set/10-60-1280x720_left.txt", EXPR_HEADER, "1", "1", "2")
    write(root, f"{EXPR}/Validation_Set/10-60-1280x720_right.txt", EXPR_HEADER, "5", "-1", "6")
    write(root, f"{VA}/Train_Set/10-60-1280x720_left.txt", "valence,arousal", "0.5,-0.5", "-5,-5")
    write(root, f"{VA}/Train_Set/135-24-1920x1080.txt", "valence,arousal", "0.0,0.0", "1,-1")
    write(root, f"{EXPR}/Train_Set/999-25-640x360.txt", EXPR_HEADER, "0")  # names no video
    write(root, f"{ANN}/AU_Detection_Challenge/Train_Set/1-30-1280x720.txt", "AU1,AU2,AU4", "0,1,0")


class TestAffWild2Contract(AdapterContract):
    adapter = "affwild2"

    def build(self, root: Path) -> None:
        build_release(root)


@pytest.fixture
def release(tmp_path: Path) -> Manifest:
    build_release(tmp_path)
    return get_adapter("affwild2").scan(tmp_path)


def clips_of(manifest: Manifest) -> dict[str, ClipRecord]:
    """Clips by source, ``#<person>`` appended for one of two people."""
    return {c.source if c.person is None else f"{c.source}#{c.person}": c for c in manifest.clips}


def tracks_of(clip: ClipRecord) -> dict[str, LabelTrack]:
    return {t.name: t for t in clip.tracks}


def reasons(manifest: Manifest) -> dict[str, str]:
    return {s.source: s.reason for s in manifest.skipped}


def test_single_person_video_has_frame_indexed_tracks(release: Manifest) -> None:
    clip = clips_of(release)["batch1/1-30-1280x720.mp4"]
    assert clip.clip_id == "affwild2/batch1/1-30-1280x720.mp4"
    assert (clip.label, clip.subject, clip.sex, clip.split) == (None, "1-30-1280x720", None, "train")
    assert clip.meta == {"expr_split": "train", "va_split": "train"}
    tracks = tracks_of(clip)
    assert list(tracks) == ["expression", "valence", "arousal"]
    expr = tracks["expression"]
    assert expr.kind == "categorical"
    assert expr.classes == get_adapter("affwild2").labels
    assert expr.values.dtype == np.int16
    assert expr.values.tolist() == [0, 4, -1, 7, 4]  # -1 stays "not annotated"
    assert expr.frames is not None
    assert expr.times is None
    assert expr.frames.tolist() == [0, 1, 2, 3, 4]  # line k+2 of the file is frame k
    valence, arousal = tracks["valence"], tracks["arousal"]
    assert valence.kind == arousal.kind == "continuous"
    assert valence.values.dtype == np.float32
    assert valence.values[0] == pytest.approx(0.1)
    assert math.isnan(valence.values[1])  # -5 = not annotated
    assert math.isnan(arousal.values[1])
    assert arousal.values.tolist()[2] == pytest.approx(0.9)
    assert valence.frames is not None
    assert valence.frames.tolist() == [0, 1, 2]


def test_two_person_video_is_one_clip_per_person_with_only_its_tracks(release: Manifest) -> None:
    clips = clips_of(release)
    assert "batch1/10-60-1280x720.mp4" not in clips  # no clip mixing both people
    left, right = clips["batch1/10-60-1280x720.mp4#left"], clips["batch1/10-60-1280x720.mp4#right"]
    assert left.clip_id == "affwild2/batch1/10-60-1280x720.mp4#left"
    assert right.clip_id == "affwild2/batch1/10-60-1280x720.mp4#right"
    assert (left.person, right.person) == ("left", "right")
    assert left.source == right.source == "batch1/10-60-1280x720.mp4"
    # One subject group: the two people of one video never land in different folds.
    assert left.subject == right.subject == "10-60-1280x720"
    left_tracks, right_tracks = tracks_of(left), tracks_of(right)
    assert list(left_tracks) == ["expression", "valence", "arousal"]
    assert list(right_tracks) == ["expression"]  # the right person has no valence/arousal file
    assert left_tracks["expression"].values.tolist() == [1, 1, 2]
    assert right_tracks["expression"].values.tolist() == [5, -1, 6]
    assert left_tracks["valence"].values[0] == pytest.approx(0.5)
    assert left_tracks["arousal"].values[0] == pytest.approx(-0.5)
    assert math.isnan(left_tracks["valence"].values[1])
    # Each person's split comes from its own files: left spans two splits, right one.
    assert (left.split, left.meta) == (None, {"expr_split": "validation", "va_split": "train"})
    assert (right.split, right.meta) == ("validation", {"expr_split": "validation"})
    # No clip-level label: Aff-Wild2 labels frames.
    assert left.label is None
    assert right.label is None


def test_one_person_clips_name_no_person(release: Manifest) -> None:
    one = clips_of(release)["batch1/1-30-1280x720.mp4"]
    assert one.person is None
    assert one.clip_id == "affwild2/batch1/1-30-1280x720.mp4"


def test_clips_are_ordered_by_source_then_person(tmp_path: Path) -> None:
    touch(tmp_path, "a/video1.mp4", "a/video2.mp4", "b/video0.mp4")
    write(tmp_path, f"{EXPR}/Train_Set/video1_right.txt", EXPR_HEADER, "0")
    write(tmp_path, f"{EXPR}/Train_Set/video1_left.txt", EXPR_HEADER, "1")
    write(tmp_path, f"{VA}/Train_Set/video2_right.txt", "valence,arousal", "0,0")
    write(tmp_path, f"{EXPR}/Train_Set/video0.txt", EXPR_HEADER, "2")
    manifest = get_adapter("affwild2").scan(tmp_path)
    assert [(c.source, c.person) for c in manifest.clips] == [
        ("a/video1.mp4", "left"),
        ("a/video1.mp4", "right"),
        ("a/video2.mp4", "right"),  # only the right person is annotated: one clip
        ("b/video0.mp4", None),
    ]
    assert [t.values.tolist() for t in manifest.clips[0].tracks] == [[1]]
    assert [t.values.tolist() for t in manifest.clips[1].tracks] == [[0]]


def test_unannotated_video_is_a_clip_without_tracks_or_split(release: Manifest) -> None:
    test_clip = clips_of(release)["batch2/video10-1.avi"]
    assert (test_clip.tracks, test_clip.split, test_clip.meta) == ((), None, {})
    assert test_clip.subject == "video10-1"
    va_only = clips_of(release)["new_vids/135-24-1920x1080.mp4"]
    assert [t.name for t in va_only.tracks] == ["valence", "arousal"]
    assert va_only.meta == {"va_split": "train"}


def test_every_other_file_is_reported_with_its_reason(release: Manifest) -> None:
    assert list(clips_of(release)) == [
        "batch1/1-30-1280x720.mp4",
        "batch1/10-60-1280x720.mp4#left",
        "batch1/10-60-1280x720.mp4#right",
        "batch2/video10-1.avi",
        "new_vids/135-24-1920x1080.mp4",
    ]
    why = reasons(release)
    assert why[f"{EXPR}/Train_Set/999-25-640x360.txt"] == "annotation without video"
    assert why[f"{EXPR}/Train_Set/1-30-1280x720.txt"].startswith("expression annotation")
    assert why[f"{VA}/Train_Set/1-30-1280x720.txt"].startswith("valence/arousal annotation")
    assert why[f"{EXPR}/Validation_Set/10-60-1280x720_left.txt"] == (
        "expression (left person) annotation (per-frame tracks of batch1/10-60-1280x720.mp4#left)"
    )
    assert why[f"{VA}/Train_Set/10-60-1280x720_left.txt"] == (
        "valence/arousal (left person) annotation (per-frame tracks of batch1/10-60-1280x720.mp4#left)"
    )
    assert why[f"{EXPR}/Validation_Set/10-60-1280x720_right.txt"].endswith("10-60-1280x720.mp4#right)")
    assert why[f"{ANN}/AU_Detection_Challenge/Train_Set/1-30-1280x720.txt"].startswith("action-unit")
    assert why["batch1/._1-30-1280x720.mp4"] == "hidden file"
    assert why["cropped_aligned/1-30-1280x720/00001.jpg"].startswith("face crop frame")
    assert why["README.txt"].startswith("not a video")
    # Every file is a clip source or a skip; the two-person video is the source of two clips.
    sources = {c.source for c in release.clips}
    assert sources.isdisjoint(why)
    assert len(why) + len(sources) == len(list(walk_files(release.root))) == 15


def test_labels_unified_and_quadrants() -> None:
    adapter = get_adapter("affwild2")
    assert adapter.labels == (
        "neutral",
        "anger",
        "disgust",
        "fear",
        "happiness",
        "sadness",
        "surprise",
        "other",
    )
    expected = {
        "neutral": ("neutral", "Q4"),
        "anger": ("angry", "Q2"),
        "disgust": ("disgust", "Q2"),
        "fear": ("fearful", "Q2"),
        "happiness": ("happy", "Q1"),
        "sadness": ("sad", "Q3"),
        "surprise": ("surprised", "Q1"),
        "other": ("other", None),
    }
    for native, (unified, quad) in expected.items():
        assert adapter.unified_label(native) == unified
        assert quadrant(adapter.unified_label(native)) == quad


def test_folds_keep_a_video_whole_and_rows_name_the_tracks(release: Manifest) -> None:
    folds = assign_folds(release.clips, 5)
    assert folds == assign_folds(reversed(release.clips), 5)
    left, right = "affwild2/batch1/10-60-1280x720.mp4#left", "affwild2/batch1/10-60-1280x720.mp4#right"
    assert folds[left] == folds[right]
    rows = {r["clip_id"]: r for r in manifest_rows(get_adapter("affwild2"), release) if "clip_id" in r}
    assert (rows[left]["person"], rows[left]["tracks"]) == ("left", ["expression", "valence", "arousal"])
    assert (rows[right]["person"], rows[right]["tracks"]) == ("right", ["expression"])
    assert rows["affwild2/batch1/1-30-1280x720.mp4"]["person"] is None
    assert rows["affwild2/batch1/1-30-1280x720.mp4"]["label"] is None


def test_abaw_2020_release_variant(tmp_path: Path) -> None:
    """ABAW 2020: ``annotations/EXPR_Set/Training_Set`` and the 7-class header."""
    touch(tmp_path, "videos/batch1/118-30-640x480.mp4", "videos/batch2/video49.avi")
    write(tmp_path, "annotations/EXPR_Set/Training_Set/118-30-640x480.txt", EXPR_HEADER_2020, "6", "0")
    write(tmp_path, "annotations/VA_Set/Validation_Set/video49.txt", "valence,arousal", "0.5,0.5")
    manifest = get_adapter("affwild2").scan(tmp_path)
    clips = clips_of(manifest)
    expr = clips["videos/batch1/118-30-640x480.mp4"].tracks[0]
    assert expr.classes == get_adapter("affwild2").labels[:7]
    assert expr.values.tolist() == [6, 0]
    assert clips["videos/batch1/118-30-640x480.mp4"].split == "train"
    assert clips["videos/batch2/video49.avi"].split == "validation"
    assert len(manifest.skipped) == 2


def test_annotations_in_different_splits_leave_split_unset(tmp_path: Path) -> None:
    touch(tmp_path, "batch1/5-60-1920x1080-1.mp4")
    write(tmp_path, f"{EXPR}/Train_Set/5-60-1920x1080-1.txt", EXPR_HEADER, "0")
    write(tmp_path, f"{VA}/Validation_Set/5-60-1920x1080-1.txt", "valence,arousal", "0,0")
    (clip,) = get_adapter("affwild2").scan(tmp_path).clips
    assert clip.split is None
    assert clip.meta == {"expr_split": "train", "va_split": "validation"}


@pytest.mark.parametrize(
    ("folder", "header", "lines", "reason"),
    [
        (EXPR, "Neutral,Anger,Disgust", ("0",), "line 1: header 'Neutral,Anger,Disgust' is not"),
        (EXPR, EXPR_HEADER, ("0", "happy", "1"), "line 3: 'happy' is not an integer class code"),
        (EXPR, EXPR_HEADER, ("0", "8"), "line 3: class code 8 is outside -1..7"),
        (EXPR, EXPR_HEADER, ("0", "", "1"), "line 3: '' is not an integer class code"),
        (EXPR, EXPR_HEADER, (), "no frame lines after the header"),
        (VA, "arousal,valence", ("0,0",), "line 1: header 'arousal,valence' is not 'valence,arousal'"),
        (VA, "valence,arousal", ("0.1,0.2", "0.3"), "line 3: '0.3' is not a 'valence,arousal' pair"),
        (VA, "valence,arousal", ("0.1,x",), "line 2: 'x' is not a number"),
        (VA, "valence,arousal", ("1.5,0",), "line 2: valence 1.5 is outside [-1, 1]"),
        (VA, "valence,arousal", ("0,nan",), "line 2: arousal nan is outside [-1, 1]"),
    ],
)
def test_malformed_annotation_skips_its_video_with_file_and_line(
    tmp_path: Path, folder: str, header: str, lines: tuple[str, ...], reason: str
) -> None:
    touch(tmp_path, "batch1/2-30-640x360.mp4", "batch1/3-25-1920x1080.mp4")
    annotation = f"{folder}/Train_Set/2-30-640x360.txt"
    write(tmp_path, annotation, header, *lines)
    manifest = get_adapter("affwild2").scan(tmp_path)
    assert [c.source for c in manifest.clips] == ["batch1/3-25-1920x1080.mp4"]
    why = reasons(manifest)
    assert why["batch1/2-30-640x360.mp4"].startswith(annotation)
    assert reason in why["batch1/2-30-640x360.mp4"]
    assert why[annotation].startswith("malformed")


def test_crlf_and_trailing_blank_lines_are_fine(tmp_path: Path) -> None:
    touch(tmp_path, "batch1/2-30-640x360.mp4")
    path = tmp_path / f"{EXPR}/Train_Set/2-30-640x360.txt"
    path.parent.mkdir(parents=True)
    path.write_bytes(f"{EXPR_HEADER}\r\n3\r\n-1\r\n\r\n".encode())
    (clip,) = get_adapter("affwild2").scan(tmp_path).clips
    assert clip.tracks[0].values.tolist() == [3, -1]


def test_one_bad_side_skips_only_that_persons_clip(tmp_path: Path) -> None:
    touch(tmp_path, "batch2/video59.mp4")
    left = f"{EXPR}/Train_Set/video59_left.txt"
    bad = f"{EXPR}/Train_Set/video59_right.txt"
    right_va = f"{VA}/Train_Set/video59_right.txt"
    write(tmp_path, left, EXPR_HEADER, "0")
    write(tmp_path, bad, EXPR_HEADER, "zero")
    write(tmp_path, right_va, "valence,arousal", "0,0")
    manifest = get_adapter("affwild2").scan(tmp_path)
    assert [(c.clip_id, c.person) for c in manifest.clips] == [("affwild2/batch2/video59.mp4#left", "left")]
    assert [t.name for t in manifest.clips[0].tracks] == ["expression"]
    why = reasons(manifest)
    assert "batch2/video59.mp4" not in why  # the video is the left clip's source
    assert why[bad] == (
        "malformed expression annotation (line 2: 'zero' is not an integer class code); "
        "the right person's clip is skipped"
    )
    assert why[right_va] == (
        "valence/arousal (right person) annotation of a skipped clip (batch2/video59.mp4#right: "
        f"{bad} line 2: 'zero' is not an integer class code)"
    )
    assert why[left].startswith("expression (left person) annotation (per-frame tracks")
    assert len(why) + 1 == len(list(walk_files(tmp_path)))


def test_both_bad_sides_skip_the_video_with_both_reasons(tmp_path: Path) -> None:
    touch(tmp_path, "batch2/video59.mp4")
    left = f"{VA}/Train_Set/video59_left.txt"
    right = f"{EXPR}/Train_Set/video59_right.txt"
    write(tmp_path, left, "valence,arousal", "2,0")
    write(tmp_path, right, EXPR_HEADER, "zero")
    manifest = get_adapter("affwild2").scan(tmp_path)
    assert manifest.clips == ()
    why = reasons(manifest)
    assert why["batch2/video59.mp4"] == (
        f"{left} line 2: valence 2.0 is outside [-1, 1] (and not -5); "
        f"{right} line 2: 'zero' is not an integer class code"
    )
    # No clip of the video is left: the annotation reasons do not claim a person's clip.
    assert (
        why[left]
        == "malformed valence/arousal annotation (line 2: valence 2.0 is outside [-1, 1] (and not -5))"
    )
    assert why[right] == "malformed expression annotation (line 2: 'zero' is not an integer class code)"


def test_one_person_annotated_twice_skips_only_that_persons_clip(tmp_path: Path) -> None:
    touch(tmp_path, "batch1/10-60-1280x720.mp4")
    first = f"{EXPR}/Train_Set/10-60-1280x720_left.txt"
    second = f"{EXPR}/Validation_Set/10-60-1280x720_left.txt"
    write(tmp_path, first, EXPR_HEADER, "0")
    write(tmp_path, second, EXPR_HEADER, "1")
    write(tmp_path, f"{EXPR}/Validation_Set/10-60-1280x720_right.txt", EXPR_HEADER, "2")
    manifest = get_adapter("affwild2").scan(tmp_path)
    (clip,) = manifest.clips
    assert (clip.person, clip.split, clip.tracks[0].values.tolist()) == ("right", "validation", [2])
    twice = f"annotated twice for expression (left person): {first} and {second}"
    why = reasons(manifest)
    assert (
        why[first]
        == why[second]
        == (
            f"expression (left person) annotation of a skipped clip (batch1/10-60-1280x720.mp4#left: {twice})"
        )
    )
    # Both people annotated twice: nothing is left, and the video says why.
    write(tmp_path, f"{EXPR}/Train_Set/10-60-1280x720_right.txt", EXPR_HEADER, "3")
    again = get_adapter("affwild2").scan(tmp_path)
    assert again.clips == ()
    assert reasons(again)["batch1/10-60-1280x720.mp4"] == (
        f"{twice}; annotated twice for expression (right person): "
        f"{EXPR}/Train_Set/10-60-1280x720_right.txt and {EXPR}/Validation_Set/10-60-1280x720_right.txt"
    )


@pytest.mark.parametrize("sided_folder", [EXPR, VA], ids=["same task", "other task"])
def test_unsided_and_sided_annotations_of_one_video_skip_it(tmp_path: Path, sided_folder: str) -> None:
    touch(tmp_path, "batch1/10-60-1280x720.mp4", "batch1/video3.mp4")
    unsided = f"{EXPR}/Train_Set/10-60-1280x720.txt"
    sided = f"{sided_folder}/Validation_Set/10-60-1280x720_right.txt"
    write(tmp_path, unsided, EXPR_HEADER, "0")
    header, line = (EXPR_HEADER, "1") if sided_folder == EXPR else ("valence,arousal", "0,0")
    write(tmp_path, sided, header, line)
    manifest = get_adapter("affwild2").scan(tmp_path)
    assert [c.source for c in manifest.clips] == ["batch1/video3.mp4"]
    why = reasons(manifest)
    assert why["batch1/10-60-1280x720.mp4"] == (
        f"ambiguous annotations: {unsided} names no person, {sided} the right person "
        "(which person the first annotates is unknown)"
    )
    assert why[unsided] == "expression annotation of a skipped video (batch1/10-60-1280x720.mp4)"
    assert why[sided].endswith("(right person) annotation of a skipped video (batch1/10-60-1280x720.mp4)")


def test_two_files_for_one_video_and_task_skip_the_video(tmp_path: Path) -> None:
    touch(tmp_path, "batch1/46-30-484x360.mp4")
    first = f"{EXPR}/Train_Set/46-30-484x360.txt"
    second = f"{EXPR}/Validation_Set/46-30-484x360.txt"
    write(tmp_path, first, EXPR_HEADER, "0")
    write(tmp_path, second, EXPR_HEADER, "1")
    manifest = get_adapter("affwild2").scan(tmp_path)
    assert manifest.clips == ()
    assert (
        reasons(manifest)["batch1/46-30-484x360.mp4"]
        == f"annotated twice for expression: {first} and {second}"
    )


def test_a_video_name_shared_by_two_files_is_reported(tmp_path: Path) -> None:
    touch(tmp_path, "batch1/video2.mp4", "batch2/video2.avi", "batch2/video3.avi")
    write(tmp_path, f"{EXPR}/Train_Set/video2.txt", EXPR_HEADER, "0")
    manifest = get_adapter("affwild2").scan(tmp_path)
    assert [c.source for c in manifest.clips] == ["batch2/video3.avi"]
    why = reasons(manifest)
    assert why["batch1/video2.mp4"].startswith("video name 'video2' is shared by 2 files")
    assert why[f"{EXPR}/Train_Set/video2.txt"].startswith("annotation matches 2 videos")


def test_a_video_whose_own_name_ends_in_left_is_matched_exactly(tmp_path: Path) -> None:
    touch(tmp_path, "batch1/clip_left.mp4", "batch1/clip.mp4")
    write(tmp_path, f"{EXPR}/Train_Set/clip_left.txt", EXPR_HEADER, "2")
    clips = clips_of(get_adapter("affwild2").scan(tmp_path))
    assert [t.name for t in clips["batch1/clip_left.mp4"].tracks] == ["expression"]
    assert clips["batch1/clip.mp4"].tracks == ()


def test_annotation_outside_a_split_folder_is_reported(tmp_path: Path) -> None:
    touch(tmp_path, "batch1/video1.mp4")
    write(tmp_path, f"{EXPR}/video1.txt", EXPR_HEADER, "0")
    write(tmp_path, f"{EXPR}/Extra/video1.txt", EXPR_HEADER, "0")
    manifest = get_adapter("affwild2").scan(tmp_path)
    assert manifest.clips[0].tracks == ()
    why = reasons(manifest)
    assert why[f"{EXPR}/Extra/video1.txt"].startswith("annotation outside a split folder")
    assert why[f"{EXPR}/video1.txt"].startswith("not a video")


def test_missing_root_is_a_corpus_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="not a directory"):
        get_adapter("affwild2").scan(tmp_path / "nope")
