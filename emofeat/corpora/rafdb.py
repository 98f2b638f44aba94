"""RAF-DB (basic): the Real-world Affective Faces Database, single-label part.

Layout (the ``basic`` folder as its authors ship it; the root may be ``basic``'s parent or
``basic`` itself)::

    basic/EmoLabel/list_patition_label.txt        # "train_00001.jpg 5" per line ("patition" sic)
    basic/Image/original/train_00001.jpg          # the downloaded photo
    basic/Image/aligned/train_00001_aligned.jpg   # the authors' 100x100 aligned face
    basic/Annotation/manual/train_00001_manu_attri.txt   # 5 landmarks, gender, race, age
    basic/Annotation/...                          # auto landmarks, bounding boxes

The release ships ``Image/original.zip``, ``Image/aligned.zip`` and ``Annotation/manual.zip``:
unzip them in place first (a zip file is reported as skipped, so sex, race and age stay
``None`` until ``manual.zip`` is unpacked).

Images are clips of one frame. Labels (codes in the label file; the native labels are these
names): 1 surprise, 2 fear, 3 disgust, 4 happiness, 5 sadness, 6 anger, 7 neutral. The split
is the name's prefix (``train_`` -> ``train``, ``test_`` -> ``test``); RAF-DB has no
validation set. The label file's corrected spelling ``list_partition_label.txt`` is accepted.

Which image is the clip: the **original** when both exist. emofeat detects and aligns faces
itself, and the original keeps the context a detector needs; the aligned copy is then skipped
with the reason naming the original, so nothing is silent. When only the aligned folder was
downloaded, the aligned image is the clip (``meta["image"]`` says which).

Subjects: the photos come from the web and RAF-DB names no people, so subject is ``None``
(folds then put each image in its own group). Sex is read from the manual attribute file when
present (its 6th value: 0 male, 1 female, 2 unsure -> ``None``); ``meta`` keeps its race and
age-group codes (``race``: 0 Caucasian, 1 African-American, 2 Asian; ``age_group``: 0 0-3,
1 4-19, 2 20-39, 3 40-69, 4 70+).

Irregular files, each reported as skipped with the reason: images not in the label file,
label-file lines with an unknown code or naming the same image twice with different codes
(the image is skipped), label-file lines naming no image (reported under the path the
original image would have), malformed label-file lines (named in the label file's own skip
reason), attribute files that do not parse (the clip keeps sex ``None``),
hidden files, everything under a ``compound`` folder (RAF-DB's compound set, whose label file
uses other codes; this adapter does not read it), and anything else outside the layout.

Licence: the RAF-DB release agreement (non-commercial research only; no redistribution of the
images), signed with the authors before download.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import ClassVar

from emofeat.corpora.base import (
    ClipRecord,
    CorpusAdapter,
    Manifest,
    SkippedFile,
    check_root,
    register,
    walk_files,
)
from emofeat.corpora.vocabulary import unify
from emofeat.errors import CorpusError

#: Label-file code -> native label.
EMOTIONS: Mapping[str, str] = {
    "1": "surprise",
    "2": "fear",
    "3": "disgust",
    "4": "happiness",
    "5": "sadness",
    "6": "anger",
    "7": "neutral",
}
LABEL_FILES = frozenset({"list_patition_label.txt", "list_partition_label.txt"})
#: Attribute-file gender code -> sex.
SEXES: Mapping[str, str | None] = {"0": "male", "1": "female", "2": None}
RACES = frozenset({"0", "1", "2"})
AGE_GROUPS = frozenset({"0", "1", "2", "3", "4"})

_IMAGE = re.compile(r"^((train|test)_\d+)(_aligned)?\.jpg$")
_ATTRIBUTES = re.compile(r"^((?:train|test)_\d+)_manu_attri\.txt$")


@dataclass(frozen=True)
class _Label:
    code: str | None
    error: str | None


@register
class RafDb(CorpusAdapter):
    """RAF-DB basic adapter (see the module docstring for layout and codes)."""

    name: ClassVar[str] = "rafdb"
    labels: ClassVar[tuple[str, ...]] = tuple(EMOTIONS.values())
    layout: ClassVar[str] = (
        "basic/Image/original|aligned/train_00001[_aligned].jpg; basic/EmoLabel/list_patition_label.txt"
    )
    unified: ClassVar[Mapping[str, str | None]] = unify(labels)
    licence: ClassVar[str] = "RAF-DB release agreement (non-commercial research, no redistribution)"

    def scan(self, root: Path) -> Manifest:
        root = check_root(root)
        files = list(walk_files(root))
        labels: dict[tuple[str, str], _Label] = {}
        attributes: dict[tuple[str, str], tuple[str, str, str] | None] = {}
        originals: set[tuple[str, str]] = set()
        skipped: list[SkippedFile] = []
        for source in files:
            path = PurePosixPath(source)
            if _compound(source):
                continue
            if path.name in LABEL_FILES and (base := _base_of(source, "EmoLabel")) is not None:
                found, problems = read_labels(root / source)
                labels |= {(base, stem): label for stem, label in found.items()}
                skipped.append(SkippedFile(source, "; ".join(["label file", *problems])))
            elif (match := _ATTRIBUTES.match(path.name)) and path.parent.as_posix().endswith(
                "Annotation/manual"
            ):
                attributes[(_base_of(source, "Annotation") or "", match.group(1))] = read_attributes(
                    root / source
                )
            elif (match := _IMAGE.match(path.name)) and _folder(source) == "original":
                originals.add((_base_of(source, "Image") or "", match.group(1)))
        clips: list[ClipRecord] = []
        seen: set[tuple[str, str]] = set()
        for source in files:
            item = self._classify(source, labels, attributes, originals, seen)
            if isinstance(item, ClipRecord):
                clips.append(item)
            elif item is not None:
                skipped.append(item)
        for base, stem in sorted(set(labels) - seen):
            skipped.append(
                SkippedFile(f"{base}Image/original/{stem}.jpg", "listed in the label file but no such image")
            )
        skipped.sort(key=lambda s: s.source)
        return Manifest(self.name, root, tuple(clips), tuple(skipped))

    def _classify(
        self,
        source: str,
        labels: Mapping[tuple[str, str], _Label],
        attributes: Mapping[tuple[str, str], tuple[str, str, str] | None],
        originals: set[tuple[str, str]],
        seen: set[tuple[str, str]],
    ) -> ClipRecord | SkippedFile | None:
        """A clip, a skip, or ``None`` for a label file (already reported)."""
        path = PurePosixPath(source)
        if _compound(source):
            return SkippedFile(source, "RAF-DB compound set (not read by this adapter)")
        if path.name in LABEL_FILES and _base_of(source, "EmoLabel") is not None:
            return None
        if path.name.startswith("."):
            return SkippedFile(source, "hidden file")
        if (base := _base_of(source, "Annotation")) is not None:
            match = _ATTRIBUTES.match(path.name)
            if match and (base, match.group(1)) in attributes:
                if attributes[(base, match.group(1))] is None:
                    return SkippedFile(
                        source, "attribute file that does not parse (its image keeps sex None)"
                    )
                return SkippedFile(source, "attribute file (sex, race and age group read from it)")
            return SkippedFile(source, "annotation file (landmarks or boxes)")
        match = _IMAGE.match(path.name)
        folder = _folder(source)
        if folder is None:
            return SkippedFile(
                source, "not part of the RAF-DB basic layout (Image/original|aligned, EmoLabel)"
            )
        if match is None or (folder == "aligned") != (match.group(3) is not None):
            expected = "train_NNNNN_aligned.jpg" if folder == "aligned" else "train_NNNNN.jpg"
            return SkippedFile(source, f"name is not {expected} (or test_NNNN)")
        base, stem, split = _base_of(source, "Image") or "", match.group(1), match.group(2)
        if folder == "aligned" and (base, stem) in originals:
            return SkippedFile(
                source, f"aligned copy of Image/original/{stem}.jpg (the original is the clip)"
            )
        label = labels.get((base, stem))
        if label is None:
            return SkippedFile(source, f"{stem}.jpg is not in the label file")
        seen.add((base, stem))
        if label.code is None:
            return SkippedFile(source, label.error or "no label")
        meta = {"image": folder}
        sex: str | None = None
        parsed = attributes.get((base, stem))
        if parsed is not None:
            sex = SEXES[parsed[0]]
            meta |= {"race": parsed[1], "age_group": parsed[2]}
        return self.clip(source, sex=sex, label=EMOTIONS[label.code], meta=meta, split=split)


def _base_of(source: str, folder: str) -> str | None:
    """The path (with a trailing slash, or ``""``) before the first ``folder`` component."""
    parts = PurePosixPath(source).parts
    if folder not in parts[:-1]:
        return None
    index = parts.index(folder)
    return "".join(f"{p}/" for p in parts[:index])


def _compound(source: str) -> bool:
    """Whether a file lies in RAF-DB's compound set (its own label file uses other codes)."""
    return any(p.lower() == "compound" for p in PurePosixPath(source).parts[:-1])


def _folder(source: str) -> str | None:
    """``original`` or ``aligned`` for a file directly in ``Image/original|aligned``, else None."""
    parts = PurePosixPath(source).parts
    if len(parts) >= 3 and parts[-3] == "Image" and parts[-2] in ("original", "aligned"):
        return parts[-2]
    return None


def read_labels(path: Path) -> tuple[dict[str, _Label], list[str]]:
    """Labels by image stem, and a note for each line that names no image.

    An unknown code, or two different codes for one image, give that image a label with an
    error (the image is then skipped with it).

    Raises
    ------
    CorpusError
        When the file cannot be read.
    """
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"cannot read the RAF-DB label file {path}: {exc}", kind="bad_label_file") from exc
    labels: dict[str, _Label] = {}
    problems: list[str] = []
    for line_no, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue
        match = _IMAGE.match(fields[0])
        if len(fields) != 2 or match is None or match.group(3):
            problems.append(f"line {line_no} is not '<train|test>_NNNNN.jpg <code>'")
            continue
        stem, code = match.group(1), fields[1]
        new = (
            _Label(code, None)
            if code in EMOTIONS
            else _Label(None, f"unknown emotion code {code!r} in the label file")
        )
        old = labels.get(stem)
        if old is not None and old != new:
            new = _Label(None, f"listed twice in the label file with different codes (line {line_no})")
        labels[stem] = new
    return labels, problems


def read_attributes(path: Path) -> tuple[str, str, str] | None:
    """``(gender, race, age_group)`` codes of a manual attribute file, or ``None`` if malformed.

    The file holds five landmark lines (two numbers each), then the gender, race and age-group
    codes, one per line.

    Raises
    ------
    Nothing: a file that cannot be read or parsed gives ``None``.
    """
    try:
        lines = [ln.split() for ln in path.read_text(encoding="ascii").splitlines() if ln.strip()]
    except (OSError, UnicodeDecodeError):
        return None
    if len(lines) != 8 or any(len(ln) != 2 for ln in lines[:5]) or any(len(ln) != 1 for ln in lines[5:]):
        return None
    gender, race, age = (ln[0] for ln in lines[5:])
    if gender not in SEXES or race not in RACES or age not in AGE_GROUPS:
        return None
    return gender, race, age
