"""Stable, subject-independent k-fold assignment, and a report of how balanced it is.

Guarantees
----------
* **Subject-independent**: every clip of a subject is in the same fold. Clips without a
  subject are their own group (a corpus that names no speakers cannot promise speaker
  independence).
* **Stable**: a group's fold is a pure function of ``(corpus, group name, k)``, where the
  corpus is the clip's own ``ClipRecord.corpus`` (the adapter's name). Adding, removing or
  reordering other clips or subjects never moves it, so a published fold assignment stays
  valid when a corpus gains or loses subjects. (Any scheme that looks at the other subjects,
  such as the greedy "largest subject into the emptiest fold" used before, cannot promise
  this: one new subject reshuffles every subject placed after it.)

The scheme (frozen: changing it moves published folds)
------------------------------------------------------
The group name is the subject, or ``"clip:<clip_id>"`` for a clip without one.

* **Numbered names** (``Actor_07``, ``subject 11``, ``1001``, ``S005``, ``train_3``,
  ``clip:rafdb/.../train_00042.jpg``): the name's last run of ASCII digits is its number
  ``n``; the name with that run replaced by ``#`` is its series (``Actor_#``). Numbers are
  cut into blocks of ``k`` consecutive values (block ``b = n // k``, position ``p = n % k``),
  and each block deals its ``k`` positions to the ``k`` folds in its own pseudo-random
  order: the folds sorted by ``sha256(f"{corpus}/{series}/{b}/{fold}")`` (of the UTF-8 text,
  read as a big-endian integer); position ``p`` gets the ``p``-th of them. (Names that differ
  only in zero padding, ``Actor_7`` and ``Actor_07``, therefore share a fold.)
* **Other names** (``DC``, ``JE``): fold ``int(sha256(f"{corpus}/{name}"), 16) % k``.

Balance trade-off
-----------------
Corpora number their speakers, mostly consecutively, so the block scheme balances almost as
well as a greedy one while staying stable: each complete block puts exactly one subject in
every fold, so for one series of consecutive numbers the folds' subject counts differ by at
most 2 (the partial blocks at the two ends), plus at most one per gap in the numbering.
Dealing each block in its own random order, rather than ``fold = n % k`` (which would differ
by at most 1), keeps patterns in the numbering out of the folds: RAVDESS's odd-numbered
actors are male, and ``n % k`` would make every fold a single sex for even ``k``. Names
without digits are hashed independently: fold sizes are then binomial, ``n / k`` plus or
minus about ``2 * sqrt(n / k)``, and a corpus with few such subjects (SAVEE's 4 speakers)
leaves a fold empty. On the real file lists, subjects per fold with ``k = 5`` (the greedy
scheme in brackets): RAVDESS 4-5 (4-5), eNTERFACE'05 8-9 (8-9), CREMA-D 18-19 (18-19),
EMO-DB 1-3 (2), whose ten speakers ``03, 08 .. 16`` have a gap; with ``k = 10`` EMO-DB
leaves one fold empty (no stable scheme can promise one speaker per fold when the numbering
has gaps: use the ``subject`` column for leave-one-speaker-out). Subjects with very
different clip counts unbalance clip counts in any subject-independent scheme.
:func:`fold_balance` reports both (the ingest summary prints it).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import TypedDict

from emofeat.corpora.base import ClipRecord
from emofeat.options import DEFAULT_FOLDS

#: Name of the scheme in the module docstring, to record with the folds (run metadata).
FOLD_SCHEME = "stable-blocks-1"

#: The last run of ASCII digits in a group name, with what comes before and after it.
_NUMBERED = re.compile(r"(.*?)([0-9]+)([^0-9]*)", re.DOTALL)


class FoldCount(TypedDict):
    """One fold's size: its number, its clips and its distinct named subjects."""

    fold: int
    clips: int
    subjects: int


class FoldBalance(TypedDict):
    """How balanced a fold assignment is (see :func:`fold_balance`)."""

    k: int
    folds: list[FoldCount]
    imbalance: float | None


def group_of(clip: ClipRecord) -> str:
    """The fold group of a clip: its subject, or ``"clip:<clip_id>"`` when it has none."""
    return clip.subject if clip.subject is not None else f"clip:{clip.clip_id}"


def _sha256_int(text: str) -> int:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16)


def group_fold(corpus: str, group: str, k: int = DEFAULT_FOLDS) -> int:
    """The fold (``0 .. k-1``) of one group of a corpus, by the scheme in the module docstring.

    It depends on nothing else, which is what makes :func:`assign_folds` stable.

    Raises
    ------
    ValueError
        When ``k`` < 2.
    """
    if k < 2:
        raise ValueError(f"need at least 2 folds, not {k}")
    match = _NUMBERED.fullmatch(group)
    if match is None:
        return _sha256_int(f"{corpus}/{group}") % k
    series = f"{match.group(1)}#{match.group(3)}"
    block, position = divmod(int(match.group(2)), k)
    order = sorted(range(k), key=lambda fold: _sha256_int(f"{corpus}/{series}/{block}/{fold}"))
    return order[position]


def assign_folds(clips: Iterable[ClipRecord], k: int = DEFAULT_FOLDS) -> dict[str, int]:
    """Fold number (``0 .. k-1``) of every clip id: :func:`group_fold` of its corpus and group.

    Raises
    ------
    ValueError
        When ``k`` < 2.
    """
    if k < 2:
        raise ValueError(f"need at least 2 folds, not {k}")
    cache: dict[tuple[str, str], int] = {}
    folds: dict[str, int] = {}
    for clip in clips:
        key = (clip.corpus, group_of(clip))
        if key not in cache:
            cache[key] = group_fold(*key, k)
        folds[clip.clip_id] = cache[key]
    return folds


def fold_balance(folds: Mapping[str, int], clips: Iterable[ClipRecord], k: int) -> FoldBalance:
    """Per fold, the number of clips and of distinct named subjects, and the clip imbalance.

    Parameters
    ----------
    folds : Mapping[str, int]
        Clip id -> fold, as :func:`assign_folds` returns.
    clips : Iterable[ClipRecord]
        The clips those folds were assigned to (every one must be in ``folds``).
    k : int
        The number of folds (empty folds are reported too).

    Returns
    -------
    FoldBalance
        ``{"k": k, "folds": [{"fold", "clips", "subjects"}, ...] (fold 0 first),
        "imbalance": max / min clips per fold}``, rounded to 3 decimals; ``imbalance`` is
        None when some fold has no clip (or there are no clips). Clips without a subject
        count as clips, not as subjects. Plain data, JSON-ready.

    Raises
    ------
    ValueError
        When ``k`` < 2, a clip has no fold in ``folds``, or a fold is outside ``0 .. k-1``.
    """
    if k < 2:
        raise ValueError(f"need at least 2 folds, not {k}")
    n_clips = [0] * k
    subjects: list[set[tuple[str, str]]] = [set() for _ in range(k)]
    for clip in clips:
        fold = folds.get(clip.clip_id)
        if fold is None:
            raise ValueError(f"clip {clip.clip_id!r} has no fold")
        if not 0 <= fold < k:
            raise ValueError(f"clip {clip.clip_id!r} is in fold {fold}, outside 0..{k - 1}")
        n_clips[fold] += 1
        if clip.subject is not None:
            subjects[fold].add((clip.corpus, clip.subject))
    smallest = min(n_clips)
    return {
        "k": k,
        "folds": [{"fold": f, "clips": n_clips[f], "subjects": len(subjects[f])} for f in range(k)],
        "imbalance": round(max(n_clips) / smallest, 3) if smallest else None,
    }
