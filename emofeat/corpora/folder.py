"""``folder``: any directory of media files, for corpora without an adapter of their own.

Layout: every audio, video or image file anywhere under the root is one clip (image files
are clips of one frame). Labels are optional: a ``labels.csv`` at the root with a header row
and the columns ``source`` (path relative to the root, POSIX slashes) and ``label``, and
optionally ``subject`` and ``sex`` (``male`` / ``female``). Clips missing from the CSV are
unlabeled. Files that are not media (by suffix) are reported as skipped with the reason;
``labels.csv`` itself is reported as the label file. Rows of the CSV that name no file are
ignored by the manifest but counted in the skip list so a typo does not go unnoticed.

Licence: whatever the user's own data carries.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import ClassVar

from emofeat.corpora.base import (
    ClipRecord,
    CorpusAdapter,
    Manifest,
    SkippedFile,
    check_root,
    register,
    regular_file,
    walk_files,
)
from emofeat.corpora.vocabulary import SYNONYMS
from emofeat.errors import CorpusError
from emofeat.media import is_media_file

LABELS_FILE = "labels.csv"
_SEXES = {"male", "female", "m", "f"}


@register
class Folder(CorpusAdapter):
    """Every media file under a directory; labels from an optional ``labels.csv``."""

    name: ClassVar[str] = "folder"
    labels: ClassVar[tuple[str, ...]] = ()
    layout: ClassVar[str] = "any tree of media files; optional labels.csv (source,label[,subject,sex])"
    licence: ClassVar[str] = "whatever the user's own data carries"

    def unified_label(self, native: str | None) -> str | None:
        """A free-form label is unified through the shared synonyms (case-insensitive)."""
        return None if native is None else SYNONYMS.get(native.strip().lower())

    def scan(self, root: Path) -> Manifest:
        root = check_root(root)
        rows = read_labels(root / LABELS_FILE) if regular_file(root / LABELS_FILE) else {}
        clips: list[ClipRecord] = []
        skipped: list[SkippedFile] = []
        seen: set[str] = set()
        for source in walk_files(root):
            if source == LABELS_FILE:
                skipped.append(SkippedFile(source, "label file"))
            elif not is_media_file(Path(source)):
                skipped.append(SkippedFile(source, "not a media file (unknown suffix)"))
            else:
                row = rows.get(source, {})
                seen.add(source)
                sex = (row.get("sex") or "").strip().lower() or None
                clips.append(
                    self.clip(
                        source,
                        subject=(row.get("subject") or "").strip() or None,
                        sex={"m": "male", "f": "female"}.get(sex, sex) if sex else None,
                        label=(row.get("label") or "").strip() or None,
                    )
                )
        for missing in sorted(set(rows) - seen):
            skipped.append(SkippedFile(missing, f"listed in {LABELS_FILE} but no such media file"))
        return Manifest(self.name, root, tuple(clips), tuple(skipped))


def read_labels(path: Path) -> dict[str, dict[str, str]]:
    """Rows of a ``labels.csv`` keyed by ``source``.

    Raises
    ------
    CorpusError
        When the file lacks the ``source`` and ``label`` columns, has an invalid ``sex``, or
        lists a source twice.
    """
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        columns = set(reader.fieldnames or ())
        if not {"source", "label"} <= columns:
            raise CorpusError(f"{path} needs the columns 'source' and 'label', found {sorted(columns)}")
        rows: dict[str, dict[str, str]] = {}
        for line_no, row in enumerate(reader, start=2):
            source = (row.get("source") or "").strip().replace("\\", "/")
            if source in rows:
                raise CorpusError(f"{path}:{line_no}: source {source!r} is listed twice")
            sex = (row.get("sex") or "").strip().lower()
            if sex and sex not in _SEXES:
                raise CorpusError(f"{path}:{line_no}: sex must be male or female, not {sex!r}")
            rows[source] = row
    return rows
