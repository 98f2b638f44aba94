"""CK+: the Extended Cohn-Kanade dataset (posed image sequences, neutral to peak).

Layout (the four archives unpacked side by side; any parent folders above them)::

    cohn-kanade-images/S005/001/S005_001_00000001.png ... S005_001_00000011.png
    Emotion/S005/001/S005_001_00000011_emotion.txt      # only for part of the sequences
    FACS/S005/001/S005_001_00000011_facs.txt
    Landmarks/S005/001/S005_001_00000001_landmarks.txt

A clip is a **sequence folder** (``source = "cohn-kanade-images/S005/001"``), which the media
layer reads as a video whose frames are the folder's images in natural order; the subject is
``S005``. CK+ ships no demographics file, so sex is ``None``, and it has no official split.

Labels: the Emotion file of a sequence holds one float code (``"   3.0000000e+00"``) for its
last, peak frame: 0 neutral, 1 anger, 2 contempt, 3 disgust, 4 fear, 5 happy, 6 sadness,
7 surprise (the native labels are these names). ``meta["peak_frame"]`` is the image file the
label belongs to (the frame number in the Emotion file's name), ``meta["frames"]`` the number
of frames. Only 327 of the 593 sequences carry an Emotion file: the others are clips with label
``None``, not errors.

Irregular files, all reported as skipped with the reason:

* Emotion, FACS and Landmarks files are side files (``"emotion label file"``, ...). An Emotion
  file that cannot be read (not one number, a non-integer value, a code outside 0-7), that
  names a frame the sequence folder lacks, or that is one of two for one sequence leaves the
  sequence a clip with label ``None``, says why in ``meta["label_error"]``, and is itself
  skipped with that reason. The sequence is real media; only its label is unusable.
* An Emotion file for a sequence with no image folder.
* Hidden files (``.DS_Store``, which the CK+ archives carry in many sequence folders) and any
  other file inside a sequence folder that is not one of its frames (``S005_001_NNNNNNNN.png``).
  The media layer itself skips hidden files; a misnamed image would be read as a frame, so
  the clip's ``meta["foreign_files"]`` counts them.
* Anything else outside the four folders (the archives' README and licence text, ...).

Licence: the CK+ database agreement (non-commercial research; images of subjects may appear
in publications only with the subjects' consent as marked); users must sign it with the
University of Pittsburgh before use.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
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

#: Emotion code -> native label.
EMOTIONS: Mapping[int, str] = {
    0: "neutral",
    1: "anger",
    2: "contempt",
    3: "disgust",
    4: "fear",
    5: "happy",
    6: "sadness",
    7: "surprise",
}
IMAGES_DIR = "cohn-kanade-images"
#: Side-file folders -> (file-name suffix, skip reason).
SIDE_DIRS: Mapping[str, tuple[str, str]] = {
    "Emotion": ("_emotion.txt", "emotion label file"),
    "FACS": ("_facs.txt", "FACS label file"),
    "Landmarks": ("_landmarks.txt", "landmark file"),
}

_SUBJECT = re.compile(r"^S\d{3}$")
_SESSION = re.compile(r"^\d{3}$")
_FRAME = re.compile(r"^(S\d{3})_(\d{3})_(\d{8})\.png$", re.IGNORECASE)
_SIDE = re.compile(r"^(S\d{3})_(\d{3})_(\d{8})(_[a-z]+\.txt)$")


@dataclass
class _Sequence:
    """What the scan gathers about one sequence folder."""

    source: str
    subject: str
    frames: list[str] = field(default_factory=list)
    foreign: int = 0


@dataclass(frozen=True)
class _Emotion:
    """One Emotion file: where it is, the frame it names, and its code (or why it has none)."""

    source: str
    frame: str
    code: int | None
    error: str | None


@register
class CkPlus(CorpusAdapter):
    """CK+ adapter (see the module docstring for layout and codes)."""

    name: ClassVar[str] = "ckplus"
    labels: ClassVar[tuple[str, ...]] = tuple(EMOTIONS.values())
    layout: ClassVar[str] = (
        "cohn-kanade-images/SNNN/NNN/SNNN_NNN_NNNNNNNN.png (a clip = one sequence folder); "
        "Emotion/SNNN/NNN/SNNN_NNN_NNNNNNNN_emotion.txt"
    )
    unified: ClassVar[Mapping[str, str | None]] = unify(labels)
    licence: ClassVar[str] = "CK+ database agreement (non-commercial research, signed with Pitt)"

    def scan(self, root: Path) -> Manifest:
        root = check_root(root)
        sequences: dict[str, _Sequence] = {}
        emotions: dict[tuple[str, str], list[_Emotion]] = defaultdict(list)
        skipped: list[SkippedFile] = []
        for source in walk_files(root):
            item = self._sort(root, source, sequences, emotions)
            if item is not None:
                skipped.append(item)
        clips: list[ClipRecord] = []
        reasons: dict[str, str] = {}
        for folder in sorted(sequences):
            seq = sequences[folder]
            if not seq.frames:
                continue
            key = (seq.subject, PurePosixPath(folder).name)
            clip, label_files = self._clip(seq, emotions.get(key, []))
            clips.append(clip)
            reasons |= label_files
        for found in emotions.values():
            for emo in found:
                reason = reasons.get(emo.source, "emotion label file for a sequence with no images")
                skipped.append(SkippedFile(emo.source, reason))
        skipped.sort(key=lambda s: s.source)
        return Manifest(self.name, root, tuple(clips), tuple(skipped))

    def _sort(
        self,
        root: Path,
        source: str,
        sequences: dict[str, _Sequence],
        emotions: dict[tuple[str, str], list[_Emotion]],
    ) -> SkippedFile | None:
        """File one path as a frame, an Emotion file (both gathered) or a skip (returned)."""
        path = PurePosixPath(source)
        parts = path.parts
        if len(parts) >= 4 and parts[-4] == IMAGES_DIR:
            return self._frame(source, sequences)
        if path.name.startswith("."):
            return SkippedFile(source, "hidden file")
        if len(parts) >= 4 and parts[-4] in SIDE_DIRS:
            suffix, reason = SIDE_DIRS[parts[-4]]
            match = _SIDE.match(path.name)
            if match is None or match.group(4) != suffix or match.group(1, 2) != parts[-3:-1]:
                return SkippedFile(source, f"{reason} with an unexpected name")
            if parts[-4] != "Emotion":
                return SkippedFile(source, reason)
            subject, session, frame_no, _ = match.groups()
            code, error = read_emotion(root / source)
            frame = f"{subject}_{session}_{frame_no}.png"
            emotions[(subject, session)].append(_Emotion(source, frame, code, error))
            return None
        return SkippedFile(source, f"not part of the CK+ layout ({IMAGES_DIR}/, Emotion/, FACS/, Landmarks/)")

    def _frame(self, source: str, sequences: dict[str, _Sequence]) -> SkippedFile | None:
        """Gather a file under ``cohn-kanade-images/SNNN/NNN/`` as a frame, or skip it."""
        path = PurePosixPath(source)
        subject, session = path.parts[-3:-1]
        if not (_SUBJECT.match(subject) and _SESSION.match(session)):
            return SkippedFile(source, f"not in a {IMAGES_DIR}/SNNN/NNN sequence folder")
        folder = path.parent.as_posix()
        seq = sequences.setdefault(folder, _Sequence(folder, subject))
        if path.name.startswith("."):
            return SkippedFile(source, "hidden file in a sequence folder (not a frame)")
        match = _FRAME.match(path.name)
        if match is None or match.group(1, 2) != (subject, session):
            seq.foreign += 1
            return SkippedFile(
                source, f"not a frame of sequence {subject}/{session} ({subject}_{session}_NNNNNNNN.png)"
            )
        seq.frames.append(path.name)
        return None

    def _clip(self, seq: _Sequence, found: list[_Emotion]) -> tuple[ClipRecord, dict[str, str]]:
        """The clip of a sequence, and the skip reason of each Emotion file it read."""
        frames = {name.lower() for name in seq.frames}
        meta = {"frames": str(len(frames))}
        if seq.foreign:
            meta["foreign_files"] = str(seq.foreign)
        label: str | None = None
        error: str | None = None
        if len(found) > 1:
            error = f"{len(found)} emotion files for one sequence"
        elif found:
            emo = found[0]
            meta["peak_frame"] = emo.frame
            if emo.error is not None:
                error = emo.error
            elif emo.frame.lower() not in frames:
                error = f"emotion file names frame {emo.frame}, which the sequence lacks"
            elif emo.code is not None:
                label = EMOTIONS[emo.code]
        if error is not None:
            meta["label_error"] = error
        reason = (
            "emotion label file" if error is None else f"emotion label file: {error}; sequence left unlabeled"
        )
        clip = self.clip(seq.source, subject=seq.subject, label=label, meta=meta)
        return clip, {e.source: reason for e in found}


def read_emotion(path: Path) -> tuple[int | None, str | None]:
    """The code of a CK+ Emotion file, or ``(None, why)`` when it holds no valid code.

    Raises
    ------
    Nothing: an unreadable file is reported as the reason.
    """
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except OSError as exc:
        return None, f"emotion file unreadable: {exc.strerror or exc}"
    try:
        value = float(text)
    except ValueError:
        return None, f"emotion file does not hold one number: {text[:40]!r}"
    if not value.is_integer() or int(value) not in EMOTIONS:
        return None, f"emotion code {text!r} is not one of 0-7"
    return int(value), None
