"""Aff-Wild2 (ABAW challenges): per-frame expression and valence/arousal of in-the-wild videos.

Layout (as the ABAW organisers ship it; any parent folders above each piece)::

    batch1/1-30-1280x720.mp4                  # videos, in one or several folders
    batch2/video10-1.avi                      # (batch1/, batch2/, batch3/, new_vids/, videos/)
    <annotations>/EXPR_Classification_Challenge/Train_Set/1-30-1280x720.txt
    <annotations>/EXPR_Classification_Challenge/Validation_Set/10-60-1280x720_left.txt
    <annotations>/VA_Estimation_Challenge/Train_Set/1-30-1280x720.txt
    cropped_aligned/1-30-1280x720/00001.jpg   # the organisers' face crops (not read)

Annotation folders, by release: ``EXPR_Set`` (ABAW 2020/2021), ``EXPR_Classification_Challenge``
(ABAW 3-5), ``EXPR_Recognition_Challenge`` (ABAW 6+); ``VA_Set`` / ``VA_Estimation_Challenge``;
split folders ``Training_Set`` (ABAW 2020) or ``Train_Set`` -> ``train``, ``Validation_Set``
-> ``validation``, ``Test_Set`` -> ``test``. The test videos ship without annotations.

Expression files: a header line naming the classes, then one integer per video frame (line
``k + 2`` is frame ``k``, 0-based): ``Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,
Other`` (codes 0-7; the 2020/2021 releases have the first seven only), ``-1`` = not annotated.
Valence/arousal files: the header ``valence,arousal`` then one ``v,a`` pair per frame, each in
[-1, 1], ``-5`` = not annotated. Videos showing two people have one annotation file per person,
``<video>_left.txt`` and ``<video>_right.txt``, for the one video file ``<video>.mp4``.

What the adapter makes of it:

* One clip per video file and annotated person; its ``source`` is the video. A video whose
  annotations name no person (``<video>.txt``) is one clip, ``person`` ``None``, id
  ``affwild2/<source>``. A video annotated per side (``<video>_left.txt`` /
  ``<video>_right.txt``) is one clip per side that has an annotation, ``person`` ``"left"`` or
  ``"right"``, id ``affwild2/<source>#left`` / ``#right``: each carries only its own person's
  tracks, and its face track follows the face on its side of the frame (see
  :class:`emofeat.faces.track.FaceTracker`). Clips are listed by source, then person (left
  before right).
* Its time-varying labels are tracks indexed by video frame (``LabelTrack.frames``; the
  ingestion stage maps frames to seconds): ``expression`` (categorical, classes in the
  header's order, ``-1`` kept as not annotated), ``valence`` and ``arousal`` (continuous;
  ``-5`` becomes NaN, so an unmasked loss fails loudly instead of learning -5). A person's
  clip has the same track names as a one-person video's. The annotation may hold a few more
  or fewer lines than the video has frames; the adapter never opens the video, so it cannot
  check that.
* ``label`` is ``None``: Aff-Wild2 labels frames, not clips. The native classes (lower case:
  neutral anger disgust fear happiness sadness surprise other) are :attr:`AffWild2.labels`.
* ``subject`` is the video name, for both people of a two-person video: they are one subject
  group, so the two clips of one video are never split across folds; ``sex`` is ``None``
  (the corpus does not say).
* ``split`` comes from the clip's own annotation folders (each person's from that person's
  files); ``meta`` has ``expr_split`` / ``va_split``. A clip whose annotations sit in
  different splits (e.g. expression Train, valence/arousal Validation) gets ``split``
  ``None`` and keeps both in ``meta``. Videos without annotations (the test set) are
  one-person clips with no tracks and ``split`` ``None``.

Irregular files, each reported as skipped with the reason: an annotation naming no video
("annotation without video"), or naming a video stem shared by several video files. A video
with both an annotation naming no person and per-side ones (``<video>.txt`` beside
``<video>_left.txt``, for the same task or another) is skipped, the reason naming both files:
which person the first annotates is ambiguous. A malformed annotation (wrong header, a line
that is not a valid code or pair, no frame lines), or two files annotating the same video,
task and person (e.g. Train_Set and Validation_Set, or two releases unpacked side by side),
skips that person's clip only, with the file and line: the other person's clip is kept, and
the skipped person's annotation files say their clip is skipped and why. When no clip of a
video is left, the video itself is skipped with the reasons. Action-unit and multi-task
annotations, face crops, hidden files and anything else are reported as not read.

Licence: the Aff-Wild2 end-user licence agreement (non-commercial research only, no
redistribution of the videos), signed with the ABAW organisers (Kollias & Zafeiriou).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import ClassVar

import numpy as np

from emofeat.corpora.base import (
    PERSONS,
    ClipRecord,
    CorpusAdapter,
    Manifest,
    SkippedFile,
    check_root,
    register,
    walk_files,
)
from emofeat.corpora.tracks import UNANNOTATED, LabelTrack, Problem
from emofeat.corpora.vocabulary import unify

#: The expression classes, in code order (ABAW 3+; the 2020/2021 releases lack ``other``).
EXPRESSIONS: tuple[str, ...] = (
    "neutral",
    "anger",
    "disgust",
    "fear",
    "happiness",
    "sadness",
    "surprise",
    "other",
)
#: Accepted expression headers (lower-cased class lists).
EXPRESSION_HEADERS: tuple[tuple[str, ...], ...] = (EXPRESSIONS, EXPRESSIONS[:7])
VA_HEADER: tuple[str, ...] = ("valence", "arousal")
#: Value of a valence/arousal line for a frame that is not annotated.
VA_UNANNOTATED = -5.0

#: Annotation task folder -> task (``expr``, ``va``) or ``None`` for tasks not read.
TASK_FOLDERS: Mapping[str, str | None] = {
    "EXPR_Set": "expr",
    "EXPR_Classification_Challenge": "expr",
    "EXPR_Recognition_Challenge": "expr",
    "VA_Set": "va",
    "VA_Estimation_Challenge": "va",
    "AU_Set": None,
    "AU_Detection_Challenge": None,
}
SPLIT_FOLDERS: Mapping[str, str] = {
    "Training_Set": "train",
    "Train_Set": "train",
    "Validation_Set": "validation",
    "Test_Set": "test",
}
TASK_NAMES: Mapping[str, str] = {"expr": "expression", "va": "valence/arousal"}
VIDEO_SUFFIXES = frozenset({".mp4", ".avi"})
#: Folders whose files are derived data the adapter does not read, with the reason.
NOT_READ_FOLDERS: Mapping[str, str] = {
    "cropped_aligned": "face crop frame (not read: the clips are the videos)",
    "cropped": "face crop frame (not read: the clips are the videos)",
    "MTL_Challenge": "multi-task challenge annotation (not read by this adapter)",
}


@dataclass(frozen=True)
class Annotation:
    """One EXPR or VA file matched to its video; ``person`` is its side, ``None`` when unsided."""

    source: str
    task: str
    split: str
    video: str
    person: str | None
    result: tuple[LabelTrack, ...] | Problem


#: What one video yields, by person (``None``: the one-person clip): the clip, or why it is skipped.
Outcomes = dict[str | None, ClipRecord | str]


@register
class AffWild2(CorpusAdapter):
    """Aff-Wild2 adapter (see the module docstring for layout, codes, tracks and persons)."""

    name: ClassVar[str] = "affwild2"
    labels: ClassVar[tuple[str, ...]] = EXPRESSIONS
    layout: ClassVar[str] = (
        "videos (batch*/<video>.mp4|avi) + <Task>/<Split>_Set/<video>[_left|_right].txt per-frame annotations"
    )
    unified: ClassVar[Mapping[str, str | None]] = unify(labels)
    licence: ClassVar[str] = "Aff-Wild2 EULA (non-commercial research, no redistribution; ABAW organisers)"

    def scan(self, root: Path) -> Manifest:
        root = check_root(root)
        sources = list(walk_files(root))
        videos: dict[str, list[str]] = defaultdict(list)
        for source in sources:
            if is_video(source):
                videos[PurePosixPath(source).stem].append(source)
        annotations, skipped = read_annotations(root, sources, videos)
        by_video: dict[str, list[Annotation]] = defaultdict(list)
        for ann in annotations:
            by_video[ann.video].append(ann)
        clips: dict[str, list[ClipRecord]] = {}
        outcomes: dict[str, Outcomes] = {}
        for stem, files in videos.items():
            if len(files) > 1:
                shared = f"video name {stem!r} is shared by {len(files)} files: {', '.join(files)}"
                skipped.update(dict.fromkeys(files, shared))
                continue
            video = files[0]
            outcome = self.video_outcomes(video, stem, by_video.get(video, []))
            if isinstance(outcome, str):
                skipped[video] = outcome
                continue
            outcomes[video] = outcome
            made = [c for c in outcome.values() if isinstance(c, ClipRecord)]
            if made:
                clips[video] = made
            else:
                skipped[video] = "; ".join(r for r in outcome.values() if isinstance(r, str))
        for ann in annotations:
            mine = outcomes.get(ann.video, {}).get(ann.person)
            skipped[ann.source] = annotation_reason(ann, mine, ann.video in clips)
        for source in sources:
            if source not in clips and source not in skipped:
                skipped[source] = other_reason(source)
        return Manifest(
            self.name,
            root,
            tuple(clip for s in sources for clip in clips.get(s, ())),
            tuple(SkippedFile(s, skipped[s]) for s in sources if s in skipped),
        )

    def video_outcomes(self, video: str, stem: str, anns: list[Annotation]) -> Outcomes | str:
        """Each person's clip of one video (or why it is skipped), or why the whole video is.

        A video without per-side annotations has the one entry ``None`` (its one-person clip);
        a video annotated per side has one entry per side with annotations, left first. Both
        kinds of annotation on one video: the reason it is skipped (module docstring).
        """
        persons = {ann.person for ann in anns}
        if None in persons and len(persons) > 1:
            return ambiguous_reason(anns)
        if persons <= {None}:
            return {None: self.person_clip(video, stem, None, anns)}
        return {
            person: self.person_clip(video, stem, person, [a for a in anns if a.person == person])
            for person in PERSONS
            if person in persons
        }

    def person_clip(
        self, video: str, stem: str, person: str | None, anns: list[Annotation]
    ) -> ClipRecord | str:
        """The clip of one person of a video (``None``: its only one) from that person's
        annotations, or why it is skipped (a malformed file, a task annotated twice)."""
        anns = sorted(anns, key=lambda a: (a.task, a.source))
        seen: dict[str, str] = {}
        splits: dict[str, set[str]] = defaultdict(set)
        tracks: list[LabelTrack] = []
        for ann in anns:
            if isinstance(ann.result, Problem):
                return ann.result.where(ann.source)
            if ann.task in seen:
                return f"annotated twice for {describe(ann)}: {seen[ann.task]} and {ann.source}"
            seen[ann.task] = ann.source
            splits[ann.task].add(ann.split)
            tracks.extend(ann.result)
        meta = {f"{task}_split": ",".join(sorted(values)) for task, values in sorted(splits.items())}
        every = set().union(*splits.values()) if splits else set()
        return self.clip(
            video,
            subject=stem,
            split=every.pop() if len(every) == 1 else None,
            meta=meta,
            tracks=tuple(tracks),
            person=person,
        )


def is_video(source: str) -> bool:
    path = PurePosixPath(source)
    return path.suffix.lower() in VIDEO_SUFFIXES and not path.name.startswith(".")


def describe(ann: Annotation) -> str:
    task = TASK_NAMES[ann.task]
    return task if ann.person is None else f"{task} ({ann.person} person)"


def person_name(video: str, person: str | None) -> str:
    """How reasons name a clip: its video, with ``#<person>`` for one of two people."""
    return video if person is None else f"{video}#{person}"


def ambiguous_reason(anns: list[Annotation]) -> str:
    """Why a video with both unsided and per-side annotations is skipped, naming one of each."""
    unsided = min(a.source for a in anns if a.person is None)
    sided = min((a for a in anns if a.person is not None), key=lambda a: a.source)
    return (
        f"ambiguous annotations: {unsided} names no person, {sided.source} the {sided.person} person "
        "(which person the first annotates is unknown)"
    )


def read_annotations(
    root: Path, sources: list[str], videos: Mapping[str, list[str]]
) -> tuple[list[Annotation], dict[str, str]]:
    """The EXPR/VA annotations under the root, and the skip reasons of the other annotation files."""
    annotations: list[Annotation] = []
    skipped: dict[str, str] = {}
    for source in sources:
        item = read_annotation(root, source, videos)
        if isinstance(item, Annotation):
            annotations.append(item)
        elif item is not None:
            skipped[source] = item
    return annotations, skipped


def read_annotation(root: Path, source: str, videos: Mapping[str, list[str]]) -> Annotation | str | None:
    """Match and parse an EXPR/VA annotation file; a skip reason for other annotation files.

    ``None`` when ``source`` is not an annotation file at all. ``<video>_left.txt`` /
    ``<video>_right.txt`` annotate a person of ``<video>``, unless a video is itself named
    ``<video>_left`` (an exact name wins).
    """
    path = PurePosixPath(source)
    parts = path.parts
    if len(parts) < 3 or path.suffix.lower() != ".txt" or parts[-3] not in TASK_FOLDERS:
        return None
    if parts[-2] not in SPLIT_FOLDERS:
        return f"annotation outside a split folder ({', '.join(SPLIT_FOLDERS)})"
    task = TASK_FOLDERS[parts[-3]]
    if task is None:
        return "action-unit annotation (not read by this adapter)"
    stem, person = path.stem, None
    if stem not in videos:
        base, _, suffix = stem.rpartition("_")
        if suffix in PERSONS and base in videos:
            stem, person = base, suffix
    if stem not in videos:
        return "annotation without video"
    if len(videos[stem]) > 1:
        return f"annotation matches {len(videos[stem])} videos named {stem!r}: {', '.join(videos[stem])}"
    text = read_text(root / source)
    if isinstance(text, Problem):
        result: tuple[LabelTrack, ...] | Problem = text
    elif task == "expr":
        result = parse_expression(text, "expression")
    else:
        result = parse_valence_arousal(text)
    return Annotation(source, task, SPLIT_FOLDERS[parts[-2]], videos[stem][0], person, result)


def annotation_reason(ann: Annotation, outcome: ClipRecord | str | None, video_used: bool) -> str:
    """Why an annotation file is not itself a clip: the clip it feeds, or why that is skipped.

    ``outcome`` is its person's clip or skip reason (``None`` when the whole video was skipped
    before its persons were looked at); ``video_used`` tells whether the video has any clip.
    """
    if isinstance(ann.result, Problem):
        where = "file" if ann.result.line == 0 else f"line {ann.result.line}"
        malformed = f"malformed {TASK_NAMES[ann.task]} annotation ({where}: {ann.result.text})"
        return f"{malformed}; the {ann.person} person's clip is skipped" if video_used else malformed
    if isinstance(outcome, ClipRecord):
        return f"{describe(ann)} annotation (per-frame tracks of {person_name(ann.video, ann.person)})"
    if not video_used or outcome is None:
        return f"{describe(ann)} annotation of a skipped video ({ann.video})"
    return f"{describe(ann)} annotation of a skipped clip ({person_name(ann.video, ann.person)}: {outcome})"


def other_reason(source: str) -> str:
    path = PurePosixPath(source)
    if path.name.startswith("."):
        return "hidden file"
    for folder in path.parts[:-1]:
        if folder in NOT_READ_FOLDERS:
            return NOT_READ_FOLDERS[folder]
    return "not a video (.mp4/.avi) or an annotation file"


def read_text(path: Path) -> list[str] | Problem:
    """The lines of an annotation file, without trailing blank lines."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        return Problem(0, "not UTF-8 text")
    except OSError as exc:
        return Problem(0, f"cannot be read ({exc.strerror or exc})")
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def header_of(lines: list[str]) -> tuple[str, ...]:
    return tuple(cell.strip().lower() for cell in lines[0].split(",")) if lines else ()


def parse_expression(lines: list[str], name: str) -> tuple[LabelTrack, ...] | Problem:
    """A categorical per-frame track from the lines of an expression file."""
    classes = header_of(lines)
    if classes not in EXPRESSION_HEADERS:
        expected = ",".join(c.capitalize() for c in EXPRESSIONS)
        return Problem(1, f"header {lines[0].strip()[:80]!r} is not {expected!r} (or its first 7 classes)")
    if len(lines) < 2:
        return Problem(0, "no frame lines after the header")
    codes = np.empty(len(lines) - 1, dtype=np.int16)
    for index, line in enumerate(lines[1:]):
        try:
            code = int(line)
        except ValueError:
            return Problem(index + 2, f"{line.strip()[:40]!r} is not an integer class code")
        if not UNANNOTATED <= code < len(classes):
            return Problem(index + 2, f"class code {code} is outside -1..{len(classes) - 1}")
        codes[index] = code
    frames = np.arange(len(codes), dtype=np.int64)
    return (LabelTrack(name, "categorical", codes, frames=frames, classes=classes),)


def parse_valence_arousal(lines: list[str]) -> tuple[LabelTrack, ...] | Problem:
    """Continuous per-frame valence and arousal tracks from the lines of a VA file."""
    if header_of(lines) != VA_HEADER:
        return Problem(1, f"header {lines[0].strip()[:80] if lines else ''!r} is not 'valence,arousal'")
    if len(lines) < 2:
        return Problem(0, "no frame lines after the header")
    values = read_pairs(lines[1:])
    if isinstance(values, Problem):
        return values
    frames = np.arange(len(values), dtype=np.int64)
    return tuple(
        LabelTrack(dim, "continuous", np.ascontiguousarray(values[:, col]), frames=frames)
        for col, dim in enumerate(VA_HEADER)
    )


def read_pairs(body: list[str]) -> np.ndarray | Problem:
    """``(N, 2)`` float32 valence/arousal (NaN where not annotated), or the first bad line.

    A vectorised pass reads well-formed files (millions of frames) quickly; any failure falls
    back to the line-by-line pass, which names the first bad line.
    """
    if all(line.count(",") == 1 for line in body):
        try:
            pairs = np.array([float(cell) for cell in ",".join(body).split(",")]).reshape(-1, 2)
        except ValueError:
            pairs = None
        if pairs is not None:
            missing = pairs == VA_UNANNOTATED
            if bool((missing | (np.isfinite(pairs) & (np.abs(pairs) <= 1.0))).all()):
                pairs[missing] = math.nan
                return pairs.astype(np.float32)
    return first_bad_pair(body)


def first_bad_pair(body: list[str]) -> Problem:
    for index, line in enumerate(body):
        cells = line.split(",")
        if len(cells) != 2:
            return Problem(index + 2, f"{line.strip()[:40]!r} is not a 'valence,arousal' pair")
        for column, cell in enumerate(cells):
            try:
                value = float(cell)
            except ValueError:
                return Problem(index + 2, f"{cell.strip()[:40]!r} is not a number")
            if value != VA_UNANNOTATED and not (math.isfinite(value) and -1.0 <= value <= 1.0):
                return Problem(index + 2, f"{VA_HEADER[column]} {value} is outside [-1, 1] (and not -5)")
    return Problem(0, "unreadable valence/arousal lines")  # not reached: the fast pass failed for a reason
