"""SAVEE: the Surrey Audio-Visual Expressed Emotion database (Haq & Jackson, 2009).

Layout (any of the releases unpacked under one root; any parent folders are accepted)::

    AudioVisualClip/DC/a1.avi        # audio-video clips, sentence numbers not zero-padded
    AudioData/DC/a01.wav             # the audio-only release (AudioData/Info.txt beside it)
    ALL/DC_a01.wav                   # the flat re-packaging of the audio (speaker prefix)

Speakers DC, JE, JK, KL: four male native British English speakers (the subject; sex is
``male`` for every clip). The speaker comes from the ``<spk>`` folder or the ``<spk>_``
prefix; where both are present they must agree. File names are ``<code><n>``: emotion code
``a`` anger, ``d`` disgust, ``f`` fear, ``h`` happiness, ``n`` neutral, ``sa`` sadness,
``su`` surprise (the database's own names, lower case), then the sentence number, 1-15 per
emotion and 1-30 for neutral (``meta["sentence"]``, without zero padding). Codes are matched
whole: a bare ``s`` is neither sadness nor surprise and is reported. 120 clips per speaker
per modality. There is no official split.

Irregular files: a name that does not parse, an unknown emotion code, a sentence number out
of range, no speaker, or a folder and prefix that name different speakers is reported as
skipped with the reason; so is every other file (``Info.txt``, frames, ...).

Licence: free for research use after registering with the University of Surrey (CVSSP);
cite Haq & Jackson, "Speaker-Dependent Audio-Visual Emotion Recognition", AVSP 2009.
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
    "a": "anger",
    "d": "disgust",
    "f": "fear",
    "h": "happiness",
    "n": "neutral",
    "sa": "sadness",
    "su": "surprise",
}
#: Sentences per emotion code (neutral has twice as many).
SENTENCES = {code: 30 if code == "n" else 15 for code in EMOTIONS}
SPEAKERS = frozenset({"DC", "JE", "JK", "KL"})
MODALITIES = {".avi": "audio-video", ".wav": "audio"}

_NAME = re.compile(r"^(?:([A-Za-z]{2})_)?([a-z]+)(\d+)$")


@register
class Savee(CorpusAdapter):
    """SAVEE adapter (see the module docstring for layout and codes)."""

    name: ClassVar[str] = "savee"
    labels: ClassVar[tuple[str, ...]] = tuple(EMOTIONS.values())
    layout: ClassVar[str] = "AudioVisualClip/<spk>/<code><n>.avi, AudioData/<spk>/<code><nn>.wav"
    unified: ClassVar[Mapping[str, str | None]] = unify(labels)
    licence: ClassVar[str] = "free for research use after registration (Haq & Jackson, 2009)"

    def scan(self, root: Path) -> Manifest:
        return build_manifest(self, check_root(root), self.classify)

    def classify(self, source: str) -> ClipRecord | SkippedFile:
        """Parse one relative path into a clip, or explain why it is not one."""
        path = PurePosixPath(source)
        suffix = path.suffix.lower()
        if suffix not in MODALITIES:
            return SkippedFile(source, "not a clip (SAVEE clips are .avi or .wav)")
        match = _NAME.match(path.stem)
        if match is None:
            return SkippedFile(source, "name is not [<spk>_]<code><n>.avi|wav")
        prefix, code, number = match.groups()
        if code not in EMOTIONS:
            return SkippedFile(source, f"unknown emotion code {code!r} (SAVEE codes: {' '.join(EMOTIONS)})")
        sentence = int(number)
        if not 1 <= sentence <= SENTENCES[code]:
            return SkippedFile(source, f"sentence {number} is outside 1-{SENTENCES[code]} for code {code!r}")
        folder = path.parent.name if path.parent.name in SPEAKERS else None
        if prefix is not None and prefix not in SPEAKERS:
            return SkippedFile(source, f"unknown speaker prefix {prefix!r}")
        if prefix is not None and folder is not None and prefix != folder:
            return SkippedFile(
                source, f"speaker prefix {prefix!r} disagrees with the speaker folder {folder!r}"
            )
        speaker = prefix or folder
        if speaker is None:
            return SkippedFile(source, "no speaker: expected <spk>/<code><n> or <spk>_<code><n>")
        return self.clip(
            source,
            subject=speaker,
            sex="male",
            label=EMOTIONS[code],
            meta={"sentence": str(sentence), "modality": MODALITIES[suffix]},
        )
