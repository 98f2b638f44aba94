"""RECOLA as released for AVEC 2016: continuous arousal and valence every 40 ms.

Layout (the AVEC 2016 package; any parent folders above each piece)::

    recordings_audio/train_1.wav                    # audio of each recording
    recordings_video/train_1.mp4                    # video of each recording (no audio stream)
    ratings_gold_standard/arousal/train_1.arff      # gold-standard arousal, one value per 40 ms
    ratings_gold_standard/valence/train_1.arff
    ratings_individual/arousal/train_1.csv          # the six raters (not read)
    ratings_individual_centred/...                  # (not read)
    features_audio/arousal/train_1.arff             # challenge baseline features (not read)
    features_video_appearance/... features_video_geometric/... features_ECG/... (not read)
    recordings_physio/filtered/train_1.csv          # ECG / EDA signals (not read)

Recordings are ``train_N``, ``dev_N`` and ``test_N`` (N = 1-9 in AVEC 2016: 27 participants,
one recording each); ``train`` -> split ``train``, ``dev`` -> ``validation``, ``test`` ->
``test``. The test recordings ship without gold standard.

Gold-standard files are ARFF::

    @relation GOLDSTANDARD
    @attribute Instance_name string
    @attribute frameTime numeric
    @attribute GoldStandard numeric
    @data
    train_1,0.000000,-0.069813
    train_1,0.040000,-0.069402

(the instance name may be quoted; blank lines and ``%`` comments are ignored; ``?`` = missing
value, read as NaN).

What the adapter makes of it: one clip per recording. Its audio and its video are separate
files (the video has no sound), so the clip's ``source`` is the mp4 and its ``audio_source``
the wav of the same recording (``meta["modality"]`` = ``audio-video``); the wav is listed
among the skipped files as read for that clip. A recording with only one of the two files is
a clip of that file alone (``audio`` or ``video``). ``subject`` is the recording id (one
participant, so always in one fold); the continuous tracks ``arousal`` and ``valence`` are
timed in seconds (``LabelTrack.times``: the ARFF ``frameTime``) on the recording's clock,
which both files start at 0. ``label`` is ``None``: RECOLA has no categorical labels, so :attr:`Recola.labels`
is empty. ``sex`` is ``None`` (the AVEC ids do not say).

Irregular files, each reported as skipped with the reason: the gold-standard files themselves
("rating file ..."); a rating naming no recording ("rating file without recording"); a
malformed ARFF (missing ``@relation``/``@data``, other attributes than the three above, a data
line whose instance is another recording, a time or value that is not a number, times that do
not increase, no data) skips the recording's files, with the file and line; two rating
files for the same recording and dimension, or two audio or two video files of one recording
(in two parent folders), skip its files; recordings whose name is not
``train_N``/``dev_N``/``test_N`` or whose type does not match its folder; the individual
ratings, baseline features, physiological signals, hidden files and anything else (not read).

Licence: the RECOLA end-user licence agreement (academic research only, no redistribution;
Ringeval et al., 2013), signed with the University of Fribourg before use.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import ClassVar

import numpy as np

from emofeat.corpora.base import (
    ClipRecord,
    CorpusAdapter,
    Manifest,
    SkippedFile,
    check_root,
    register,
    walk_files,
)
from emofeat.corpora.tracks import LabelTrack, Problem

RECORDING = re.compile(r"^(train|dev|test)_([1-9][0-9]*)$")
PARTITIONS: Mapping[str, str] = {"train": "train", "dev": "validation", "test": "test"}
#: Recording folder -> (file suffix, modality).
RECORDING_FOLDERS: Mapping[str, tuple[str, str]] = {
    "recordings_audio": (".wav", "audio"),
    "recordings_video": (".mp4", "video"),
}
RATINGS_FOLDER = "ratings_gold_standard"
DIMENSIONS: tuple[str, ...] = ("arousal", "valence")
#: (name, type) of the three ARFF attributes, lower case; ``real`` is accepted for ``numeric``.
ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("instance_name", "string"),
    ("frametime", "numeric"),
    ("goldstandard", "numeric"),
)
#: Folders of the AVEC package that hold no clip, with the reason.
NOT_READ_FOLDERS: Mapping[str, str] = {
    "ratings_individual": "individual raters' ratings (not read: the clips carry the gold standard)",
    "ratings_individual_centred": "individual raters' ratings (not read: the clips carry the gold standard)",
    "recordings_physio": "physiological signals (ECG/EDA; not read)",
}
NAME_RULE = "train_N, dev_N or test_N"


@dataclass(frozen=True)
class Rating:
    """One gold-standard file of a recording, parsed."""

    source: str
    recording: str
    dimension: str
    result: LabelTrack | Problem


@register
class Recola(CorpusAdapter):
    """RECOLA (AVEC 2016) adapter (see the module docstring for layout and tracks)."""

    name: ClassVar[str] = "recola"
    labels: ClassVar[tuple[str, ...]] = ()
    layout: ClassVar[str] = (
        "recordings_audio/<id>.wav, recordings_video/<id>.mp4, "
        "ratings_gold_standard/{arousal,valence}/<id>.arff (id = train_N|dev_N|test_N)"
    )
    licence: ClassVar[str] = "RECOLA EULA (academic research only, no redistribution; Univ. of Fribourg)"

    def unified_label(self, native: str | None) -> str | None:
        """Always ``None``: RECOLA has continuous ratings only, no categorical label."""
        return None

    def scan(self, root: Path) -> Manifest:
        root = check_root(root)
        sources = list(walk_files(root))
        skipped: dict[str, str] = {}
        recordings: dict[str, tuple[str, str]] = {}  # source -> (recording id, modality)
        for source in sources:
            item = recording_of(source)
            if isinstance(item, str):
                skipped[source] = item
            elif item is not None:
                recordings[source] = item
        recorded = {rid for rid, _ in recordings.values()}
        ratings: dict[str, list[Rating]] = defaultdict(list)
        for source in sources:
            rating = rating_of(root, source, recorded)
            if isinstance(rating, Rating):
                ratings[rating.recording].append(rating)
            elif rating is not None:
                skipped[source] = rating
        outcomes = {rid: tracks_of(ratings.get(rid, [])) for rid in recorded}
        files: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for source, (rid, modality) in recordings.items():
            files[rid][modality].append(source)
        clips: dict[str, ClipRecord] = {}
        for rid in sorted(files):
            outcome = session_clip(self, rid, files[rid], outcomes[rid])
            if isinstance(outcome, ClipRecord):
                clips[outcome.source] = outcome
                if outcome.audio_source is not None:
                    skipped[outcome.audio_source] = f"audio of the recording {rid} (clip {outcome.source})"
            else:
                skipped.update(dict.fromkeys(itertools.chain(*files[rid].values()), outcome))
        for rid, items in ratings.items():
            for used in items:
                skipped[used.source] = rating_reason(used, isinstance(outcomes[rid], str))
        for source in sources:
            if source not in clips and source not in skipped:
                skipped[source] = other_reason(source)
        return Manifest(
            self.name,
            root,
            tuple(clips[s] for s in sources if s in clips),
            tuple(SkippedFile(s, skipped[s]) for s in sources if s in skipped),
        )


def session_clip(
    adapter: CorpusAdapter, rid: str, files: Mapping[str, list[str]], tracks: tuple[LabelTrack, ...] | str
) -> ClipRecord | str:
    """The one clip of a recording (its video with the audio of its wav), or why its files
    are skipped."""
    if isinstance(tracks, str):
        return tracks
    for modality, sources in files.items():
        if len(sources) > 1:
            return f"recording {rid} has {len(sources)} {modality} files: {', '.join(sorted(sources))}"
    video = files.get("video", [None])[0]
    audio = files.get("audio", [None])[0]
    source = video or audio
    if source is None:  # pragma: no cover - a recording has at least one file
        return f"recording {rid} has no file"
    modality = "audio-video" if video and audio else "video" if video else "audio"
    return adapter.clip(
        source,
        subject=rid,
        split=PARTITIONS[rid.partition("_")[0]],
        meta={"modality": modality},
        tracks=tracks,
        audio_source=audio if video else None,
    )


def recording_of(source: str) -> tuple[str, str] | str | None:
    """(recording id, modality) of a recording file, a skip reason, or ``None`` if not one."""
    path = PurePosixPath(source)
    if len(path.parts) < 2 or path.parts[-2] not in RECORDING_FOLDERS or path.name.startswith("."):
        return None
    suffix, modality = RECORDING_FOLDERS[path.parts[-2]]
    if path.suffix.lower() != suffix:
        return f"not a {suffix} file (the {modality} recordings are {suffix})"
    if RECORDING.match(path.stem) is None:
        return f"recording name is not {NAME_RULE}"
    return path.stem, modality


def rating_of(root: Path, source: str, recorded: set[str]) -> Rating | str | None:
    """The parsed gold-standard file, a skip reason, or ``None`` if ``source`` is not one."""
    path = PurePosixPath(source)
    parts = path.parts
    if len(parts) < 3 or parts[-3] != RATINGS_FOLDER or path.name.startswith("."):
        return None
    if parts[-2] not in DIMENSIONS or path.suffix.lower() != ".arff":
        return f"not a rating file ({RATINGS_FOLDER}/arousal|valence/<id>.arff)"
    if RECORDING.match(path.stem) is None:
        return f"rating file name is not {NAME_RULE}"
    if path.stem not in recorded:
        return "rating file without recording"
    return Rating(source, path.stem, parts[-2], parse_rating(root / source, path.stem, parts[-2]))


def tracks_of(ratings: list[Rating]) -> tuple[LabelTrack, ...] | str:
    """A recording's tracks in dimension order, or why its clips are skipped."""
    tracks: dict[str, LabelTrack] = {}
    first: dict[str, str] = {}
    for rating in sorted(ratings, key=lambda r: (r.dimension, r.source)):
        if isinstance(rating.result, Problem):
            return rating.result.where(rating.source)
        if rating.dimension in first:
            return f"rated twice for {rating.dimension}: {first[rating.dimension]} and {rating.source}"
        first[rating.dimension] = rating.source
        tracks[rating.dimension] = rating.result
    return tuple(tracks[d] for d in DIMENSIONS if d in tracks)


def rating_reason(rating: Rating, recording_skipped: bool) -> str:
    if isinstance(rating.result, Problem):
        where = "file" if rating.result.line == 0 else f"line {rating.result.line}"
        return f"malformed rating file ({where}: {rating.result.text})"
    of = f"gold-standard {rating.dimension} of {rating.recording}"
    return f"rating file ({of}, whose clip is skipped)" if recording_skipped else f"rating file ({of})"


def other_reason(source: str) -> str:
    path = PurePosixPath(source)
    if path.name.startswith("."):
        return "hidden file"
    for folder in path.parts[:-1]:
        if folder in NOT_READ_FOLDERS:
            return NOT_READ_FOLDERS[folder]
        if folder.startswith("features_"):
            return "challenge baseline features (not read)"
    return "not part of the AVEC 2016 layout (not read)"


def parse_rating(path: Path, recording: str, dimension: str) -> LabelTrack | Problem:
    """The continuous track of one gold-standard ARFF file."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        return Problem(0, "not UTF-8 text")
    except OSError as exc:
        return Problem(0, f"cannot be read ({exc.strerror or exc})")
    relation = False
    attributes: list[tuple[str, str]] = []
    in_data = False
    times: list[float] = []
    values: list[float] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("%"):
            continue
        if in_data:
            row = parse_row(line, recording, times[-1] if times else None)
            if isinstance(row, str):
                return Problem(number, row)
            times.append(row[0])
            values.append(row[1])
            continue
        keyword = line.split(maxsplit=1)[0].lower()
        if keyword == "@relation":
            relation = True
        elif keyword == "@attribute":
            cells = line.split()
            if len(cells) != 3:
                return Problem(number, f"{line[:60]!r} is not '@attribute NAME TYPE'")
            kind = cells[2].lower()
            attributes.append((cells[1].strip("'\"").lower(), "numeric" if kind == "real" else kind))
        elif keyword == "@data":
            problem = check_header(relation, attributes)
            if problem:
                return Problem(number, problem)
            in_data = True
        else:
            return Problem(number, f"{line[:40]!r} before @data is not an ARFF header line")
    if not in_data:
        return Problem(0, "no @data line")
    if not times:
        return Problem(0, "no data lines after @data")
    return LabelTrack(
        dimension,
        "continuous",
        np.asarray(values, dtype=np.float32),
        times=np.asarray(times, dtype=np.float64),
    )


def check_header(relation: bool, attributes: list[tuple[str, str]]) -> str | None:
    if not relation:
        return "no @relation line before @data"
    if tuple(attributes) != ATTRIBUTES:
        got = ", ".join(f"{n} {t}" for n, t in attributes) or "none"
        return f"attributes are ({got}), not (Instance_name string, frameTime numeric, GoldStandard numeric)"
    return None


def parse_row(line: str, recording: str, last: float | None) -> tuple[float, float] | str:
    """(time, value) of a data line, or what is wrong with it."""
    cells = [cell.strip() for cell in line.split(",")]
    if len(cells) != 3:
        return f"{line[:60]!r} is not 'instance,time,value'"
    instance = cells[0].strip("'\"")
    if instance != recording:
        return f"instance {instance[:40]!r} is not {recording!r}"
    try:
        time = float(cells[1])
        value = math.nan if cells[2] == "?" else float(cells[2])
    except ValueError:
        return f"{line[:60]!r}: time or value is not a number"
    if not (math.isfinite(time) and (math.isfinite(value) or cells[2] == "?")):
        return f"{line[:60]!r}: time or value is not a finite number"
    if last is not None and time <= last:
        return f"time {time} does not increase (previous {last})"
    return time, value
