"""AffectNet: facial expression, valence and arousal in the wild (manually annotated part).

Layout (as its authors ship it; any parent folders above the two folders)::

    Manually_Annotated_file_lists/training.csv      # one row per image
    Manually_Annotated_file_lists/validation.csv
    Manually_Annotated_Images/689/737db2483489148d783ef278f43f486c0a97e140fc4b6b61b84363ca.jpg
    Manually_Annotated/Manually_Annotated_Images/... # the same, as the tar archive unpacks

The CSVs have a header row with the columns ``subDirectory_filePath, face_x, face_y,
face_width, face_height, facial_landmarks, expression, valence, arousal``; the path is
relative to ``Manually_Annotated_Images``. Images are clips of one frame. The split is the
CSV's: ``training.csv`` -> ``train``, ``validation.csv`` -> ``validation`` (the test set was
never released; papers report on validation).

Not supported (every file of it is reported as skipped, nothing is mislabelled): the
re-packaged layout ``train_set|val_set/images/N.jpg`` with ``annotations/N_exp.npy``,
``N_val.npy``, ``N_aro.npy`` (same codes), and the ``Manually_Annotated_compressed`` /
``cropped_Annotated`` re-packagings.

Labels (``expression`` codes; the native labels are these names): 0 neutral, 1 happy, 2 sad,
3 surprise, 4 fear, 5 disgust, 6 anger, 7 contempt, 8 none, 9 uncertain, 10 no-face. The
8-class task uses 0-7 (the 7-class task drops contempt). Images coded 8-10 stay clips with
their native label and unified label ``None``, so users can filter them rather than lose them.

Valence and arousal (floats in [-1, 1], ``-2`` = not annotated, as for most 8-10 images) are
per-image constants: they go into ``meta["valence"]``/``meta["arousal"]`` as the CSV writes
them **and** into one-point continuous tracks ``valence``/``arousal`` at time 0, so image and
video corpora share one continuous-label path. A ``-2`` gives neither meta nor a track.
``meta["face_box"]`` is ``"x,y,width,height"``; the 68 landmarks are not copied (they would
dominate the catalog; read them from the CSV if needed).

Subjects: AffectNet names no people, so subject is ``None`` (folds put each image alone).

Irregular files and rows, each reported as skipped with the reason: images listed in no CSV;
rows with an unknown expression code, a valence/arousal that is not a number in [-1, 1] or
-2, or that list an image twice with different values or in both CSVs (the image is skipped); rows naming no
image on disk (reported under the image's expected path); malformed rows (counted in the CSV's
own skip reason); hidden files; the automatically annotated part
(``Automatically_Annotated_*``), which this adapter does not ingest; anything else.

Licence: the AffectNet licence agreement (non-commercial research and education only; no
redistribution), signed by a faculty member with the authors before download.
"""

from __future__ import annotations

import csv
import math
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
from emofeat.corpora.tracks import LabelTrack
from emofeat.corpora.vocabulary import unify
from emofeat.errors import CorpusError

#: Expression code -> native label.
EXPRESSIONS: Mapping[str, str] = {
    "0": "neutral",
    "1": "happy",
    "2": "sad",
    "3": "surprise",
    "4": "fear",
    "5": "disgust",
    "6": "anger",
    "7": "contempt",
    "8": "none",
    "9": "uncertain",
    "10": "no-face",
}
LISTS_DIR = "Manually_Annotated_file_lists"
IMAGES_DIR = "Manually_Annotated_Images"
#: CSV file name -> split.
SPLITS: Mapping[str, str] = {"training.csv": "train", "validation.csv": "validation"}
COLUMNS = ("subDirectory_filePath", "face_x", "face_y", "face_width", "face_height", "expression", "valence")
NOT_ANNOTATED = -2.0


@dataclass(frozen=True)
class _Row:
    """One CSV row, or why it cannot label its image."""

    csv: str
    split: str
    label: str | None = None
    valence: str = ""
    arousal: str = ""
    face_box: str = ""
    error: str | None = None


@register
class AffectNet(CorpusAdapter):
    """AffectNet adapter (see the module docstring for layout and codes)."""

    name: ClassVar[str] = "affectnet"
    labels: ClassVar[tuple[str, ...]] = tuple(EXPRESSIONS.values())
    layout: ClassVar[str] = (
        "Manually_Annotated_file_lists/training.csv|validation.csv; Manually_Annotated_Images/<dir>/<file>"
    )
    unified: ClassVar[Mapping[str, str | None]] = unify(labels)
    licence: ClassVar[str] = "AffectNet licence agreement (non-commercial research, no redistribution)"

    def scan(self, root: Path) -> Manifest:
        root = check_root(root)
        files = list(walk_files(root))
        rows: dict[str, _Row] = {}
        skipped: list[SkippedFile] = []
        for source in files:
            path = PurePosixPath(source)
            if path.parent.name == LISTS_DIR and path.name in SPLITS:
                found, malformed = read_csv(root / source, SPLITS[path.name])
                for key, row in found.items():
                    old = rows.get(key)
                    rows[key] = row if old is None or old == row else _conflict(old, row)
                note = f"; {malformed} malformed rows" if malformed else ""
                skipped.append(SkippedFile(source, f"label file{note}"))
        clips: list[ClipRecord] = []
        for source in files:
            item = self._classify(source, rows)
            if isinstance(item, ClipRecord):
                clips.append(item)
            elif item is not None:
                skipped.append(item)
        on_disk = {image: source for source in files if (image := _image_key(source)) is not None}
        prefix = next((s[: -len(k)] for k, s in on_disk.items()), f"{IMAGES_DIR}/")
        for key in sorted(set(rows) - set(on_disk)):
            skipped.append(SkippedFile(prefix + key, f"listed in {rows[key].csv} but no such image"))
        skipped.sort(key=lambda s: s.source)
        return Manifest(self.name, root, tuple(clips), tuple(skipped))

    def _classify(self, source: str, rows: Mapping[str, _Row]) -> ClipRecord | SkippedFile | None:
        """A clip, a skip, or ``None`` for a CSV (already reported)."""
        path = PurePosixPath(source)
        if path.parent.name == LISTS_DIR and path.name in SPLITS:
            return None
        if path.name.startswith("."):
            return SkippedFile(source, "hidden file")
        if any(p.lower().startswith("automatically_annotated") for p in path.parts[:-1]):
            return SkippedFile(source, "automatically annotated part (not ingested by this adapter)")
        key = _image_key(source)
        if key is None:
            return SkippedFile(source, f"not part of the AffectNet layout ({LISTS_DIR}/, {IMAGES_DIR}/)")
        row = rows.get(key)
        if row is None:
            return SkippedFile(source, "image listed in neither training.csv nor validation.csv")
        if row.error is not None:
            return SkippedFile(source, row.error)
        meta = {"face_box": row.face_box}
        tracks: list[LabelTrack] = []
        for name, text in (("valence", row.valence), ("arousal", row.arousal)):
            if float(text) != NOT_ANNOTATED:
                meta[name] = text
                tracks.append(constant_track(name, float(text)))
        return self.clip(source, label=row.label, meta=meta, split=row.split, tracks=tuple(tracks))


def constant_track(name: str, value: float) -> LabelTrack:
    """A one-point continuous track at time 0: a per-image value on the shared track path.

    Raises
    ------
    Nothing.
    """
    return LabelTrack(
        name, "continuous", np.array([value], dtype=np.float32), times=np.zeros(1, dtype=np.float64)
    )


def read_csv(path: Path, split: str) -> tuple[dict[str, _Row], int]:
    """Rows of an AffectNet CSV keyed by image path, and the number of rows naming no image.

    Raises
    ------
    CorpusError
        When the file cannot be read or lacks the expected columns.
    """
    rows: dict[str, _Row] = {}
    malformed = 0
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in (*COLUMNS, "arousal") if c not in (reader.fieldnames or ())]
            if missing:
                raise CorpusError(
                    f"{path} lacks the AffectNet columns {missing}; is it the manually annotated list?",
                    kind="bad_label_file",
                )
            for line_no, raw in enumerate(reader, start=2):
                key = (raw.get("subDirectory_filePath") or "").strip().replace("\\", "/")
                if not key or None in raw:
                    malformed += 1
                    continue
                row = parse_row(raw, path.name, split, line_no)
                old = rows.get(key)
                rows[key] = row if old is None or old == row else _conflict(old, row)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CorpusError(f"cannot read the AffectNet list {path}: {exc}", kind="bad_label_file") from exc
    return rows, malformed


def parse_row(raw: Mapping[str, str | None], csv_name: str, split: str, line_no: int) -> _Row:
    """One CSV row as a label, or as the reason its image is skipped.

    Raises
    ------
    Nothing: a bad row becomes a row with an error.
    """
    where = f"{csv_name} line {line_no}"
    code = (raw.get("expression") or "").strip()
    if code not in EXPRESSIONS:
        return _Row(csv_name, split, error=f"unknown expression code {code!r} ({where})")
    values: dict[str, str] = {}
    for name in ("valence", "arousal"):
        text = (raw.get(name) or "").strip()
        try:
            value = float(text)
        except ValueError:
            return _Row(csv_name, split, error=f"{name} {text!r} is not a number ({where})")
        if value != NOT_ANNOTATED and not (math.isfinite(value) and -1.0 <= value <= 1.0):
            return _Row(csv_name, split, error=f"{name} {text} is outside [-1, 1] and not -2 ({where})")
        values[name] = text
    box = ",".join((raw.get(c) or "").strip() for c in ("face_x", "face_y", "face_width", "face_height"))
    return _Row(csv_name, split, EXPRESSIONS[code], values["valence"], values["arousal"], box)


def _conflict(old: _Row, new: _Row) -> _Row:
    where = old.csv if old.csv == new.csv else f"{old.csv} and {new.csv}"
    return _Row(old.csv, old.split, error=f"listed twice with different labels or splits ({where})")


def _image_key(source: str) -> str | None:
    """The path after ``Manually_Annotated_Images/`` (the CSV's key), or None outside it."""
    parts = PurePosixPath(source).parts
    if IMAGES_DIR not in parts[:-1]:
        return None
    return "/".join(parts[parts.index(IMAGES_DIR) + 1 :])
