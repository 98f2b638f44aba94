"""EMO-DB: the Berlin Database of Emotional Speech (Burkhardt et al., 2005). Audio only.

Layout (as ``download.zip`` from emodb.bilderbar.info and the Zenodo record unpack; any
parent folders are accepted)::

    wav/03a01Fa.wav                  # the 535 clips
    lablaut/  labsilb/  silb/        # phone and syllable segmentations (not read)
    erkennung.txt  erklaerung.txt    # listening-test results and their legend (not read)

File names are ``SSTTTEV.wav``: speaker ``SS`` (03, 10, 11, 12, 15 male; 08, 09, 13, 14, 16
female; the subject, with the age the database documents in ``meta["age"]``); text ``TTT``
(a01 a02 a04 a05 a07 b01 b02 b03 b09 b10, ``meta["text"]``); emotion letter ``E``, the
initial of the German word: W anger (Wut / Ärger), L boredom (Langeweile), E disgust
(Ekel), A fear (Angst), F happiness (Freude), T sadness (Trauer), N neutral; version letter
``V`` (a, b, c, ... when a speaker recorded a text more than once, ``meta["version"]``).
Labels are the database's own English names, in its order. There is no official split.

Peer toolkit (EmoBox): agrees on every one of the 535 files; it spells boredom "boredem"
and calls happiness / sadness "happy" / "sad" (names only, same classes).

Irregular files: a ``.wav`` whose name does not parse, or whose speaker, text or emotion
code is outside the tables above, is reported as skipped with the reason; every other file
(segmentations, documentation) is reported as skipped too.

Licence: freely available from its authors (emodb.bilderbar.info) for research; check the
terms of the copy you downloaded (mirrors differ) and cite Burkhardt, Paeschke, Rolfes,
Sendlmeier & Weiss, "A Database of German Emotional Speech", Interspeech 2005.
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
    "W": "anger",
    "L": "boredom",
    "E": "disgust",
    "A": "fear",
    "F": "happiness",
    "T": "sadness",
    "N": "neutral",
}
#: Speaker -> (sex, age), as the database documents them.
SPEAKERS = {
    "03": ("male", "31"),
    "08": ("female", "34"),
    "09": ("female", "21"),
    "10": ("male", "32"),
    "11": ("male", "26"),
    "12": ("male", "30"),
    "13": ("female", "32"),
    "14": ("female", "35"),
    "15": ("male", "25"),
    "16": ("female", "31"),
}
TEXTS = frozenset({"a01", "a02", "a04", "a05", "a07", "b01", "b02", "b03", "b09", "b10"})
#: Folders and files of the release that are not clips, and what they hold.
SIDE_FOLDERS = {
    "lablaut": "phone segmentation (not read)",
    "labsilb": "syllable segmentation (not read)",
    "silb": "syllable segmentation (not read)",
}
SIDE_FILES = {
    "erkennung.txt": "listening-test recognition rates (not read)",
    "erklaerung.txt": "documentation of erkennung.txt (not read)",
}

_NAME = re.compile(r"^(\d\d)([a-z]\d\d)([A-Za-z])([a-z])\.wav$", re.IGNORECASE)


@register
class EmoDB(CorpusAdapter):
    """EMO-DB adapter (see the module docstring for layout and codes)."""

    name: ClassVar[str] = "emodb"
    labels: ClassVar[tuple[str, ...]] = tuple(EMOTIONS.values())
    layout: ClassVar[str] = "wav/SSTTTEV.wav (speaker, text, German emotion initial, version)"
    unified: ClassVar[Mapping[str, str | None]] = unify(labels)
    licence: ClassVar[str] = "freely available for research from its authors; cite Burkhardt et al., 2005"

    def scan(self, root: Path) -> Manifest:
        return build_manifest(self, check_root(root), self.classify)

    def classify(self, source: str) -> ClipRecord | SkippedFile:
        """Parse one relative path into a clip, or explain why it is not one."""
        path = PurePosixPath(source)
        if path.name in SIDE_FILES:
            return SkippedFile(source, SIDE_FILES[path.name])
        side = [SIDE_FOLDERS[part] for part in path.parts[:-1] if part in SIDE_FOLDERS]
        if side:
            return SkippedFile(source, side[-1])
        if path.suffix.lower() != ".wav":
            return SkippedFile(source, "not a clip (EMO-DB clips are .wav)")
        match = _NAME.match(path.name)
        if match is None:
            return SkippedFile(source, "name is not SSTTTEV.wav (speaker, text, emotion, version)")
        speaker, text, emotion, version = match.groups()
        if speaker not in SPEAKERS:
            return SkippedFile(source, f"unknown speaker {speaker}")
        if text.lower() not in TEXTS:
            return SkippedFile(source, f"unknown text code {text}")
        if emotion not in EMOTIONS:
            return SkippedFile(source, f"unknown emotion letter {emotion!r}")
        sex, age = SPEAKERS[speaker]
        return self.clip(
            source,
            subject=speaker,
            sex=sex,
            label=EMOTIONS[emotion],
            meta={"text": text.lower(), "version": version.lower(), "age": age},
        )
