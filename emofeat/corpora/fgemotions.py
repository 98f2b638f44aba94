"""FG-Emotions: fine-grained facial expressions in the wild (33 fine classes under 6 coarse).

Layout (images under their fine-class folder, grouped by coarse class; any parent folders)::

    [train|test/]<coarse>/<fine>/<image>.jpg      e.g. train/fear/anxiety/000123.jpg
    [train|test/]<fine>/<image>.jpg               the fine folders without their coarse parents

Folder names are matched case-insensitively, and a fine folder also in its noun form
(``embarrassment`` for ``embarrass``, see :data:`ALIASES`). A split folder above the class
folders (``train``/``training`` -> ``train``, ``val``/``validation`` -> ``validation``,
``test``/``testing`` -> ``test``) gives the split; without one the split is ``None``. The
corpus's public description gives 10,371 key-frame images (7,245 train, 3,126 test) from
films and TV series; its exact archive layout is not public, hence the variants above. Every
image or video file in a fine folder is a clip (image corpora are clips of one frame).

Labels: the native label is the **fine** class, named as in the RALD paper's Table 1 (the only
source we have for the class list; Liang et al. 2020 introduced the corpus), which groups them:

=========== ========= ==============================================================
polarity    coarse    fine
=========== ========= ==============================================================
unpleasant  fear      anxiety worry panic terror nervous
unpleasant  sadness   depression embarrass gloom guilt remorse sorrow suffering
unpleasant  anger     anger contempt disgust frustrate hate irritate loathing torment wrath
pleasant    surprise  amaze astonish surprise
pleasant    happiness cheerful enthrall optimism pleasure pride relief
pleasant    love      thrill affection lust
=========== ========= ==============================================================

The hierarchy is data (:data:`HIERARCHY`, fine -> coarse; :data:`POLARITY`, coarse ->
polarity); ``meta["coarse"]`` and ``meta["polarity"]`` carry them per clip. Inferred from the
table, which lost its merged-cell layout in the text we have: each coarse (and polarity) name
is printed on the first row of its group (as ``fear``/``anxiety``, ``pleasant``/``amaze``
show), so ``pride`` and ``relief``, printed without a coarse name, belong to ``happiness``
and ``thrill``, printed on the ``love`` row, to ``love``; the counts (5+7+9+3+6+3 = 33) match
the paper's 33 fine and 6 coarse classes. The coarse and fine names ``anger`` and ``surprise``
repeat, as the paper notes; a lone ``anger``/``surprise`` folder is the fine class (its coarse
parent has the same name, so nothing is lost).

Unified labels come from the coarse class (fear -> fearful, sadness -> sad, anger -> angry,
surprise -> surprised, happiness -> happy; love -> ``None``: the unified vocabulary has no
love and folding it into happy would mislabel lust and thrill), except where the fine class
is itself a unified label: fine ``disgust`` and ``contempt`` (under coarse anger) map to
``disgust`` and ``contempt``, so they meet the other corpora's disgust and contempt (same
Q2 quadrant as angry, so the coarse-fine quadrant is unchanged).

Subjects: the images are film and TV frames with no actor names, so subject is ``None``
(folds put each image alone: they cannot promise actor independence).

Irregular files, each reported as skipped with the reason: hidden files, non-media files,
images directly in a coarse folder (no fine class), in an unknown class folder, or under a
coarse folder that is not their fine class's parent.

Licence: the FG-Emotions release terms (academic research only, on request from the authors
of Liang et al., 2020); users must accept them before use.
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
from emofeat.media.suffixes import is_media_file

#: Fine class -> coarse class, in the order of the RALD paper's Table 1.
HIERARCHY: Mapping[str, str] = {
    **dict.fromkeys(("anxiety", "worry", "panic", "terror", "nervous"), "fear"),
    **dict.fromkeys(
        ("depression", "embarrass", "gloom", "guilt", "remorse", "sorrow", "suffering"), "sadness"
    ),
    **dict.fromkeys(
        ("anger", "contempt", "disgust", "frustrate", "hate", "irritate", "loathing", "torment", "wrath"),
        "anger",
    ),
    **dict.fromkeys(("amaze", "astonish", "surprise"), "surprise"),
    **dict.fromkeys(("cheerful", "enthrall", "optimism", "pleasure", "pride", "relief"), "happiness"),
    **dict.fromkeys(("thrill", "affection", "lust"), "love"),
}
#: Coarse class -> polarity (the table's first column).
POLARITY: Mapping[str, str] = {
    "fear": "unpleasant",
    "sadness": "unpleasant",
    "anger": "unpleasant",
    "surprise": "pleasant",
    "happiness": "pleasant",
    "love": "pleasant",
}
#: Coarse class -> unified label.
COARSE_UNIFIED: Mapping[str, str | None] = {
    "fear": "fearful",
    "sadness": "sad",
    "anger": "angry",
    "surprise": "surprised",
    "happiness": "happy",
    "love": None,
}
#: Fine classes that are themselves unified labels (they override their coarse parent's).
FINE_UNIFIED: Mapping[str, str] = {"disgust": "disgust", "contempt": "contempt"}
#: Other spellings of fine-class folder names (noun forms of the table's stems) -> fine class.
ALIASES: Mapping[str, str] = {
    "nervousness": "nervous",
    "embarrassment": "embarrass",
    "frustration": "frustrate",
    "irritation": "irritate",
    "amazement": "amaze",
    "astonishment": "astonish",
    "cheerfulness": "cheerful",
    "enthrallment": "enthrall",
}
#: Split folder (lower case) -> split.
SPLITS: Mapping[str, str] = {
    "train": "train",
    "training": "train",
    "val": "validation",
    "validation": "validation",
    "test": "test",
    "testing": "test",
}


def fine_class(folder: str) -> str | None:
    """The fine class a folder name stands for (case-insensitive, aliases too), or ``None``."""
    name = folder.lower()
    name = ALIASES.get(name, name)
    return name if name in HIERARCHY else None


@register
class FgEmotions(CorpusAdapter):
    """FG-Emotions adapter (see the module docstring for layout, classes and hierarchy)."""

    name: ClassVar[str] = "fgemotions"
    labels: ClassVar[tuple[str, ...]] = tuple(HIERARCHY)
    layout: ClassVar[str] = "[train|test/]<coarse>/<fine>/<image>.jpg (6 coarse, 33 fine classes)"
    unified: ClassVar[Mapping[str, str | None]] = {
        fine: FINE_UNIFIED.get(fine, COARSE_UNIFIED[coarse]) for fine, coarse in HIERARCHY.items()
    }
    licence: ClassVar[str] = "FG-Emotions release terms (academic research only, from the authors)"

    def scan(self, root: Path) -> Manifest:
        return build_manifest(self, check_root(root), self.classify)

    def classify(self, source: str) -> ClipRecord | SkippedFile:
        """Parse one relative path into a clip, or explain why it is not one."""
        path = PurePosixPath(source)
        if path.name.startswith("."):
            return SkippedFile(source, "hidden file")
        if not is_media_file(Path(path.name)):
            return SkippedFile(source, "not an image or video file")
        folders = list(path.parts[:-1])
        if not folders:
            return SkippedFile(source, "not in a fine-class folder")
        fine = fine_class(folders[-1])
        if fine is None:
            if folders[-1].lower() in POLARITY:
                return SkippedFile(
                    source, f"directly in coarse folder {folders[-1]!r}, not in a fine-class folder"
                )
            return SkippedFile(source, f"unknown class folder {folders[-1]!r}")
        coarse = HIERARCHY[fine]
        above = [f.lower() for f in folders[:-1]]
        if above and above[-1] in POLARITY and above[-1] != coarse:
            return SkippedFile(
                source, f"fine class {fine!r} belongs to coarse {coarse!r}, not {folders[-2]!r}"
            )
        split = next((SPLITS[f] for f in reversed(above) if f in SPLITS), None)
        meta = {"coarse": coarse, "polarity": POLARITY[coarse]}
        return self.clip(source, label=fine, meta=meta, split=split)
