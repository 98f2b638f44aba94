"""AFEW: Acted Facial Expressions in the Wild (the EmotiW challenge's video corpus).

Layout (as the EmotiW organisers ship it; any parent folders above the split folder)::

    Train/Angry/000046280.avi          # split folder / emotion folder / clip
    Val/Happy/000149120.avi
    Train_AFEW/Angry/000046280.avi     # the EmotiW 2017+ archives name the folders *_AFEW
    Test/000234080.avi                 # the test set (when present) has no emotion folders

Split folders (case-insensitive): ``Train`` or ``Train_AFEW`` -> ``train``, ``Val`` or
``Val_AFEW`` -> ``validation``, ``Test`` or ``Test_AFEW`` -> ``test``. Emotion folders
(case-insensitive; the native labels are their lower-cased names): Angry, Disgust, Fear, Happy,
Neutral, Sad, Surprise. Clips are ``.avi`` files (``.mp4`` is accepted for re-encoded copies).
Test clips, which ship without labels, are clips with label ``None``.

Subjects: AFEW clips are cut from films and the EmotiW releases name no actors, so every clip
has subject ``None`` and sex ``None``. Folds then put each clip in its own group: a k-fold
split of AFEW cannot promise actor independence (use the official Train/Val split for that).

Irregular files, each reported as skipped with the reason: hidden files (``.DS_Store``,
``._x.avi``), files that are not ``.avi``/``.mp4`` (the aligned-face frames and landmark
points of the ``AlignedFaces_LBPTOP_Points`` folders are derived data, not clips), clips under
no split folder, under an unknown emotion folder, or nested deeper than the layout above.

Licence: the EmotiW/AFEW end-user licence agreement (academic research only; clips stay the
property of their studios and may not be redistributed); users must sign it with the
organisers before use.
"""

from __future__ import annotations

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

#: Emotion folder (lower case) -> native label, in the corpus's order.
EMOTIONS: Mapping[str, str] = {
    "angry": "angry",
    "disgust": "disgust",
    "fear": "fear",
    "happy": "happy",
    "neutral": "neutral",
    "sad": "sad",
    "surprise": "surprise",
}
#: Split folder (lower case) -> split.
SPLITS: Mapping[str, str] = {
    "train": "train",
    "train_afew": "train",
    "val": "validation",
    "val_afew": "validation",
    "test": "test",
    "test_afew": "test",
}
CLIP_SUFFIXES = frozenset({".avi", ".mp4"})


@register
class Afew(CorpusAdapter):
    """AFEW adapter (see the module docstring for layout and codes)."""

    name: ClassVar[str] = "afew"
    labels: ClassVar[tuple[str, ...]] = tuple(EMOTIONS.values())
    layout: ClassVar[str] = "Train|Val[_AFEW]/<Emotion>/<id>.avi; Test[_AFEW]/<id>.avi (unlabeled)"
    unified: ClassVar[Mapping[str, str | None]] = unify(labels)
    licence: ClassVar[str] = "EmotiW/AFEW end-user licence agreement (academic research only)"

    def scan(self, root: Path) -> Manifest:
        return build_manifest(self, check_root(root), self.classify)

    def classify(self, source: str) -> ClipRecord | SkippedFile:
        """Parse one relative path into a clip, or explain why it is not one."""
        path = PurePosixPath(source)
        if path.name.startswith("."):
            return SkippedFile(source, "hidden file")
        if path.suffix.lower() not in CLIP_SUFFIXES:
            return SkippedFile(source, "not an AFEW clip (.avi or .mp4)")
        parts = [p.lower() for p in path.parts[:-1]]
        # The nearest split folder decides: Train/Angry/x.avi or Test/x.avi (any parents above).
        if len(parts) >= 2 and parts[-2] in SPLITS:
            split, emotion = SPLITS[parts[-2]], parts[-1]
            if split == "test" and emotion not in EMOTIONS:
                return SkippedFile(source, f"unexpected folder {path.parts[-2]!r} inside the test set")
            if emotion not in EMOTIONS:
                return SkippedFile(source, f"unknown emotion folder {path.parts[-2]!r}")
            return self.clip(source, label=EMOTIONS[emotion], split=split)
        if parts and parts[-1] in SPLITS:
            split = SPLITS[parts[-1]]
            if split != "test":
                return SkippedFile(source, f"{path.parts[-2]}/ clip outside an emotion folder")
            return self.clip(source, split=split)
        return SkippedFile(source, "not under a Train/Val/Test split folder")
