"""Deterministic, subject-independent k-fold assignment.

Every clip of a subject goes to the same fold, so no subject is ever in two folds. Subjects
are placed largest first (most clips), ties broken by a hash of ``corpus/subject``, each into
the fold that has the fewest clips so far (lowest fold number on a tie). The result depends
only on the corpus name and the subjects' clip counts: the same input always gives the same
folds, whatever the order of the clips or the machine. Clips without a subject are their own
group (a corpus that does not name speakers cannot promise speaker independence).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable

from emofeat.corpora.base import ClipRecord
from emofeat.options import DEFAULT_FOLDS


def group_of(clip: ClipRecord) -> str:
    return clip.subject if clip.subject is not None else f"clip:{clip.clip_id}"


def assign_folds(clips: Iterable[ClipRecord], k: int = DEFAULT_FOLDS) -> dict[str, int]:
    """Fold number (``0 .. k-1``) of every clip id.

    Raises
    ------
    ValueError
        When ``k`` < 2.
    """
    if k < 2:
        raise ValueError(f"need at least 2 folds, not {k}")
    clips = list(clips)
    sizes = Counter(group_of(c) for c in clips)
    corpus = clips[0].corpus if clips else ""

    def key(group: str) -> tuple[int, str]:
        return (-sizes[group], hashlib.sha256(f"{corpus}/{group}".encode()).hexdigest())

    load = [0] * k
    fold_of_group: dict[str, int] = {}
    for group in sorted(sizes, key=key):
        fold = min(range(k), key=lambda f: (load[f], f))
        fold_of_group[group] = fold
        load[fold] += sizes[group]
    return {c.clip_id: fold_of_group[group_of(c)] for c in clips}
