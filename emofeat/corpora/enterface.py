"""eNTERFACE'05: the eNTERFACE'05 Audio-Visual Emotion Database (Martin et al., 2006).

Layout (as the database ships, optionally under any parent folder such as
``enterface database/``)::

    subject 1/anger/sentence 1/s1_an_1.avi
    subject 1/happiness/sentence 5/s1_ha_5.avi
    subject 6/anger/s6_an.avi                      # subject 6: no sentence folders, one clip each
    subject 3/sadness/sentence 2/s_3_sa_2.avi      # subject 3: some names carry "s_3_"
    subject 16/surprise/sentence 3/s16_su_3avi.avi # a doubled extension
    subject 11/fear/sentence 4/s12_fe_4.avi        # folder "subject 11" holds files named s12_*
    subject 2/anger/sentence 1/s2_an_2.avi         # subject 2: anger sentences 1 and 2 swapped

Emotion folders and file-name codes: ``anger`` (an), ``disgust`` (di), ``fear`` (fe),
``happiness`` (ha), ``sadness`` (sa), ``surprise`` (su); labels are the folder names.
Every subject reads five sentences per emotion; the real release has folders ``subject 1``
to ``subject 44`` without ``subject 12`` (43 folders, 1263 clips: subject 6 has 6 clips,
subject 23 has no happiness sentences 1-3). There is no official split.

Rules (the folder is authoritative: it is what one person recorded in one session):

* The subject is the ``subject N`` folder, written ``"subject N"``. The files of folder
  ``subject 11`` are named ``s12_*``; no ``s11_*`` file and no ``subject 12`` folder exist,
  so they are one person's 30 clips whichever number is right, and folds stay
  subject-independent. A file-name subject number that differs from the folder's is kept as
  ``meta["name_subject"]``.
* The label is the emotion folder. The file-name code must name the same emotion; a clip
  whose code disagrees is skipped with both values in the reason (its label is ambiguous).
  No real file disagrees.
* The sentence is the ``sentence M`` folder (or, without one, the number in the file name;
  subject 6 has neither, so no ``sentence`` key). A file-name sentence number that differs
  from the folder's (subject 2's anger 1 and 2) is kept as ``meta["name_sentence"]``: the
  swap exchanges sentence numbers only, never emotions.
* Sex is ``None``: the database ships no per-subject list (its paper gives only the share
  of men).

Peer toolkit (EmoBox): its real file list (1263 clips) is found in full, and its emotion for
every file is the one here; its codes are the file-name codes, which never disagree with the
folders in the real release.

Irregular files: anything not under a ``subject N`` folder, not at
``<emotion>/[sentence M/]<file>``, in an unknown emotion folder, or whose name is not one of
the known variants ``sN_<code>_M.avi``, ``s_N_<code>_M.avi``, ``sN_<code>.avi`` and
``sN_<code>_Mavi.avi`` is reported as skipped with the reason (never silently dropped).

Licence: free for research use; cite Martin, Kotsia, Macq & Pitas, "The eNTERFACE'05
Audio-Visual Emotion Database", ICDE Workshops 2006.
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

#: File-name code -> emotion folder (the native label).
CODES = {
    "an": "anger",
    "di": "disgust",
    "fe": "fear",
    "ha": "happiness",
    "sa": "sadness",
    "su": "surprise",
}

_SUBJECT = re.compile(r"^subject[ _]?(\d+)$", re.IGNORECASE)
_SENTENCE = re.compile(r"^sentence[ _]?(\d+)$", re.IGNORECASE)
_NAME = re.compile(r"^s_?(\d+)_([a-z]+)(?:_(\d+)(?:avi)?)?\.avi$", re.IGNORECASE)


@register
class Enterface(CorpusAdapter):
    """eNTERFACE'05 adapter (see the module docstring for layout, codes and rules)."""

    name: ClassVar[str] = "enterface"
    labels: ClassVar[tuple[str, ...]] = tuple(CODES.values())
    layout: ClassVar[str] = "subject N/<emotion>/sentence M/sN_<code>_M.avi (known variants accepted)"
    unified: ClassVar[Mapping[str, str | None]] = unify(labels)
    licence: ClassVar[str] = "free for research use; cite Martin et al., eNTERFACE'05 database (2006)"

    def scan(self, root: Path) -> Manifest:
        return build_manifest(self, check_root(root), self.classify)

    def classify(self, source: str) -> ClipRecord | SkippedFile:
        """Parse one relative path into a clip, or explain why it is not one."""
        parts = PurePosixPath(source).parts
        subjects = [(i, m) for i, part in enumerate(parts[:-1]) if (m := _SUBJECT.match(part))]
        if not subjects:
            return SkippedFile(source, "not under a 'subject N' folder")
        at, subject_match = subjects[-1]
        rest = parts[at + 1 :]
        if len(rest) not in (2, 3):
            return SkippedFile(source, "not at subject N/<emotion>/[sentence M/]<file>.avi")
        emotion = rest[0].lower()
        if emotion not in self.labels:
            return SkippedFile(source, f"unknown emotion folder {rest[0]!r}")
        folder_sentence = None
        if len(rest) == 3:
            sentence_match = _SENTENCE.match(rest[1])
            if sentence_match is None:
                return SkippedFile(source, f"folder {rest[1]!r} is not 'sentence M'")
            folder_sentence = str(int(sentence_match.group(1)))
        name = _NAME.match(rest[-1])
        if name is None:
            return SkippedFile(source, "name is not sN_<code>_M.avi (or a known variant)")
        name_subject, code, name_sentence = name.groups()
        code = code.lower()
        if code not in CODES:
            return SkippedFile(source, f"unknown emotion code {code!r} in the file name")
        if CODES[code] != emotion:
            return SkippedFile(
                source,
                f"file-name code {code!r} ({CODES[code]}) disagrees with the emotion folder {rest[0]!r}",
            )
        subject = str(int(subject_match.group(1)))
        meta: dict[str, str] = {}
        name_sentence = None if name_sentence is None else str(int(name_sentence))
        sentence = folder_sentence or name_sentence
        if sentence is not None:
            meta["sentence"] = sentence
        if folder_sentence is not None and name_sentence is not None and name_sentence != folder_sentence:
            meta["name_sentence"] = name_sentence
        if str(int(name_subject)) != subject:
            meta["name_subject"] = str(int(name_subject))
        return self.clip(source, subject=f"subject {subject}", label=emotion, meta=meta)
