"""CREMA-D: the Crowd-sourced Emotional Multimodal Actors Dataset (Cao et al., 2014).

Layout (as the GitHub / Git LFS release ships it; any parent folders are accepted)::

    AudioWAV/1001_DFA_ANG_XX.wav      # 16 kHz WAV converted from the video (audio)
    AudioMP3/1001_DFA_ANG_XX.mp3      # MP3 played to the raters (audio)
    VideoFlash/1001_DFA_ANG_XX.flv    # Flash video played to the raters (audio-video)
    VideoDemographics.csv             # ActorID, Age, Sex, Race, Ethnicity (read when at the root)

Re-encoded ``.mp4`` copies of the videos (some mirrors) are accepted as audio-video clips.

One clip per utterance: where its video and its WAV both exist, the clip's ``source`` is the
video (the .flv; an .mp4 copy without one) and its ``audio_source`` the WAV, so the clip has
the WAV's clean 16 kHz audio and the video's faces on one clock (the WAV was converted from
the video: its first sample is where the video's own audio starts). Without a video the WAV
is the clip; an MP3 is a clip only when the utterance has neither. The utterance's other files
(its WAV, MP3, further copies) are reported as skipped, each with the reason.
File names are ``AAAA_SSS_EEE_LL``: actor 1001-1091 (91 actors, the subject); sentence code
(IEO "It's eleven o'clock", TIE "That is exactly what happened", IOM "I'm on my way to the
meeting", IWW "I wonder what this is about", TAI "The airplane is almost full", MTI "Maybe
tomorrow it will be cold", IWL "I would like a new alarm clock", ITH "I think I have a
doctor's appointment", DFA "Don't forget a jacket", ITS "I think I've seen this before", TSI
"The surface is slick", WSI "We'll stop in a couple of minutes"), kept as
``meta["sentence"]``; emotion ANG anger, DIS disgust, FEA fear, HAP happy, NEU neutral, SAD
sad (the label is the intended emotion; the crowd ratings in ``processedResults/`` are not
read); level LO low, MD medium, HI high, XX unspecified (``meta["level"]``).

Sex and age come from ``VideoDemographics.csv`` at the root (``meta["age"]``); without that
file sex is ``None``. An actor missing from the file gets sex ``None``. There is no official
split.

Peer toolkit (EmoBox): its list of the 7442 ``AudioWAV`` files is found in full, with the
same emotion for every file (both read the file-name code).

Irregular files: a name that does not parse, or whose codes are outside the tables above, is
reported as skipped with the reason; so are the side tables (the demographics file is
reported as read). ``AudioWAV/1076_MTI_SAD_XX.wav`` is an empty or broken file in some
releases; an adapter cannot tell without opening it, so it stays a clip and ingestion records
the decode failure.

Licence: Open Database License v1.0 (database) and Database Contents License v1.0
(contents); cite Cao et al., IEEE Trans. Affective Computing 5(4), 2014.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import ClassVar

from emofeat.corpora.base import (
    ClipRecord,
    CorpusAdapter,
    Manifest,
    SkippedFile,
    build_manifest,
    check_root,
    register,
    regular_file,
)
from emofeat.corpora.vocabulary import unify
from emofeat.errors import CorpusError

EMOTIONS = {"ANG": "anger", "DIS": "disgust", "FEA": "fear", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}
LEVELS = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}
SENTENCES = frozenset({"IEO", "TIE", "IOM", "IWW", "TAI", "MTI", "IWL", "ITH", "DFA", "ITS", "TSI", "WSI"})
MODALITIES = {"wav": "audio", "mp3": "audio", "flv": "audio-video", "mp4": "audio-video"}
ACTORS = range(1001, 1092)
DEMOGRAPHICS = "VideoDemographics.csv"

_NAME = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})\.([A-Za-z0-9]+)$")


@register
class CremaD(CorpusAdapter):
    """CREMA-D adapter (see the module docstring for layout and codes)."""

    name: ClassVar[str] = "cremad"
    labels: ClassVar[tuple[str, ...]] = tuple(EMOTIONS.values())
    layout: ClassVar[str] = "AudioWAV/AAAA_SSS_EEE_LL.wav, VideoFlash/....flv (+ VideoDemographics.csv)"
    unified: ClassVar[Mapping[str, str | None]] = unify(labels)
    licence: ClassVar[str] = "ODbL v1.0 / DbCL v1.0 (Cao et al., 2014)"

    def scan(self, root: Path) -> Manifest:
        root = check_root(root)
        path = root / DEMOGRAPHICS
        actors = read_demographics(path) if regular_file(path) else {}
        return pair_files(build_manifest(self, root, lambda source: self.classify(source, actors)))

    def classify(self, source: str, actors: Mapping[str, Mapping[str, str]]) -> ClipRecord | SkippedFile:
        """Parse one relative path into a clip, or explain why it is not one."""
        if source == DEMOGRAPHICS:
            return SkippedFile(source, "demographics file (read for actor sex and age)")
        match = _NAME.match(PurePosixPath(source).name)
        if match is None:
            return SkippedFile(source, "name is not AAAA_SSS_EEE_LL.wav|mp3|flv|mp4")
        actor, sentence, emotion, level, suffix = match.groups()
        if suffix.lower() not in MODALITIES:
            return SkippedFile(source, f"unknown file type .{suffix} (CREMA-D clips are .wav .mp3 .flv .mp4)")
        if int(actor) not in ACTORS:
            return SkippedFile(source, f"unknown actor {actor} (CREMA-D actors are 1001-1091)")
        if sentence not in SENTENCES:
            return SkippedFile(source, f"unknown sentence code {sentence}")
        if emotion not in EMOTIONS:
            return SkippedFile(source, f"unknown emotion code {emotion}")
        if level not in LEVELS:
            return SkippedFile(source, f"unknown emotion level code {level}")
        row = actors.get(actor, {})
        meta = {"sentence": sentence, "level": LEVELS[level], "modality": MODALITIES[suffix.lower()]}
        if row.get("age"):
            meta["age"] = row["age"]
        return self.clip(source, subject=actor, sex=row.get("sex"), label=EMOTIONS[emotion], meta=meta)


#: Which file of an utterance is its clip's source, by suffix (first wins): the video, else
#: the WAV, else the MP3.
SOURCE_ORDER = {"flv": 0, "mp4": 1, "wav": 2, "mp3": 3}
AUDIO_OF_VIDEO = "WAV audio of an utterance's video (read as that clip's audio_source)"
MP3_COPY = "MP3 copy of an utterance's audio (its clip reads the WAV or the video)"
OTHER_COPY = "another copy of an utterance's file (its clip reads the first in path order)"


def pair_files(manifest: Manifest) -> Manifest:
    """One clip per utterance: its video with the audio of its WAV where both exist.

    The files of one utterance (same ``AAAA_SSS_EEE_LL`` name, in any folders) become one
    clip whose ``source`` is the video (.flv, else an .mp4 copy) and whose ``audio_source``
    is the WAV; without a video the WAV is the clip, and an MP3 only when neither exists.
    Every other file of the utterance is reported as skipped with the reason.
    """
    by_name: dict[str, list[ClipRecord]] = {}
    for clip in manifest.clips:
        by_name.setdefault(PurePosixPath(clip.source).stem, []).append(clip)
    clips: list[ClipRecord] = []
    skipped = list(manifest.skipped)
    for group in by_name.values():
        group.sort(key=lambda c: (SOURCE_ORDER[PurePosixPath(c.source).suffix[1:].lower()], c.source))
        first, wav = group[0], next((c for c in group if c.source.lower().endswith(".wav")), None)
        audio = wav.source if wav is not None and wav is not first else None
        if audio is not None:
            first = dataclasses.replace(first, audio_source=audio)
        clips.append(first)
        for other in group[1:]:
            reason = AUDIO_OF_VIDEO if other.source == audio else OTHER_COPY
            if other.source.lower().endswith(".mp3"):
                reason = MP3_COPY
            skipped.append(SkippedFile(other.source, reason))
    clips.sort(key=lambda c: c.source)
    skipped.sort(key=lambda s: s.source)
    return dataclasses.replace(manifest, clips=tuple(clips), skipped=tuple(skipped))


def read_demographics(path: Path) -> dict[str, dict[str, str]]:
    """Sex (``male`` / ``female``) and age of every actor in ``VideoDemographics.csv``.

    Parameters
    ----------
    path : pathlib.Path
        The CSV file, with at least the columns ``ActorID`` and ``Sex`` (``Age`` optional).

    Returns
    -------
    dict
        ``{actor id: {"sex": ..., "age": ...}}``.

    Raises
    ------
    CorpusError
        When the file lacks the columns, has an ActorID that is not a number, names an actor
        twice, or has a sex other than Male / Female.
    """
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        columns = set(reader.fieldnames or ())
        if not {"ActorID", "Sex"} <= columns:
            raise CorpusError(f"{path} needs the columns 'ActorID' and 'Sex', found {sorted(columns)}")
        actors: dict[str, dict[str, str]] = {}
        for line_no, row in enumerate(reader, start=2):
            actor = (row.get("ActorID") or "").strip()
            sex = (row.get("Sex") or "").strip().lower()
            if not actor.isdigit():
                raise CorpusError(f"{path}:{line_no}: ActorID must be a number, not {actor!r}")
            if actor in actors:
                raise CorpusError(f"{path}:{line_no}: actor {actor} is listed twice")
            if sex not in ("male", "female"):
                raise CorpusError(f"{path}:{line_no}: Sex must be Male or Female, not {row.get('Sex')!r}")
            actors[actor] = {"sex": sex, "age": (row.get("Age") or "").strip()}
    return actors
