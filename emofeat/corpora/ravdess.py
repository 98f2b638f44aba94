"""RAVDESS: the Ryerson Audio-Visual Database of Emotional Speech and Song.

Layout (as Zenodo ships it, any of the archives unpacked under one root)::

    Actor_01/01-01-01-01-01-01-01.mp4     # audio-video (modality 01)
    Actor_01/02-01-06-01-02-01-01.mp4     # video only (modality 02, no audio stream)
    Audio_Speech_Actors_01-24/Actor_01/03-01-05-01-02-01-01.wav   # audio only (modality 03)

File names are seven two-digit codes ``MM-VV-EE-II-SS-RR-AA``:
modality (01 audio-video, 02 video-only, 03 audio-only); vocal channel (01 speech, 02 song);
emotion (01 neutral, 02 calm, 03 happy, 04 sad, 05 angry, 06 fearful, 07 disgust,
08 surprised); intensity (01 normal, 02 strong; neutral has no strong); statement
(01 "Kids are talking by the door", 02 "Dogs are sitting by the door"); repetition (01, 02);
actor (01-24; odd numbers male, even female). The actor code in the file name is
authoritative; the subject is ``Actor_NN``.

Irregular files: any file whose name does not parse, or whose codes are outside the tables
above, is reported as skipped with the reason (never silently dropped).

Licence: CC BY-NC-SA 4.0 (Livingstone & Russo, 2018); users must accept it before use.
"""

from __future__ import annotations

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
)
from emofeat.corpora.vocabulary import unify

EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
MODALITIES = {"01": "audio-video", "02": "video-only", "03": "audio-only"}
CHANNELS = {"01": "speech", "02": "song"}
INTENSITIES = {"01": "normal", "02": "strong"}
STATEMENTS = {"01": "kids", "02": "dogs"}
REPETITIONS = {"01": "1", "02": "2"}

_NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)\.(mp4|wav)$", re.IGNORECASE)


@register
class Ravdess(CorpusAdapter):
    """RAVDESS adapter (see the module docstring for layout and codes)."""

    name: ClassVar[str] = "ravdess"
    labels: ClassVar[tuple[str, ...]] = tuple(EMOTIONS.values())
    layout: ClassVar[str] = "Actor_NN/MM-VV-EE-II-SS-RR-AA.mp4|wav (any parent folders)"
    unified: ClassVar[Mapping[str, str | None]] = unify(labels)
    licence: ClassVar[str] = "CC BY-NC-SA 4.0 (Livingstone & Russo, 2018)"

    def scan(self, root: Path) -> Manifest:
        return build_manifest(self, check_root(root), self.classify)

    def classify(self, source: str) -> ClipRecord | SkippedFile:
        """Parse one relative path into a clip, or explain why it is not one."""
        name = PurePosixPath(source).name
        match = _NAME.match(name)
        if match is None:
            return SkippedFile(source, "name is not MM-VV-EE-II-SS-RR-AA.mp4|wav")
        modality, channel, emotion, intensity, statement, repetition, actor, suffix = match.groups()
        tables = (
            ("modality", modality, MODALITIES),
            ("vocal channel", channel, CHANNELS),
            ("emotion", emotion, EMOTIONS),
            ("intensity", intensity, INTENSITIES),
            ("statement", statement, STATEMENTS),
            ("repetition", repetition, REPETITIONS),
        )
        for what, code, table in tables:
            if code not in table:
                return SkippedFile(source, f"unknown {what} code {code}")
        actor_no = int(actor)
        if not 1 <= actor_no <= 24:
            return SkippedFile(source, f"unknown actor code {actor}")
        if (modality == "03") != (suffix.lower() == "wav"):
            return SkippedFile(source, f"modality {modality} does not match the .{suffix} file type")
        return self.clip(
            source,
            subject=f"Actor_{actor}",
            sex="male" if actor_no % 2 else "female",
            label=EMOTIONS[emotion],
            meta={
                "modality": MODALITIES[modality],
                "vocal_channel": CHANNELS[channel],
                "intensity": INTENSITIES[intensity],
                "statement": STATEMENTS[statement],
                "repetition": REPETITIONS[repetition],
            },
        )
