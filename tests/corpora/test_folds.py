"""Fold assignment: subject-independent, balanced, deterministic."""

from __future__ import annotations

from collections import Counter

import pytest

from emofeat.corpora import ClipRecord
from emofeat.corpora.folds import assign_folds


def clips(counts: dict[str, int]) -> list[ClipRecord]:
    return [
        ClipRecord(f"c/{s}/{i}", "c", f"{s}/{i}", subject=s)
        for s, n in sorted(counts.items())
        for i in range(n)
    ]


def test_no_subject_in_two_folds_and_balanced() -> None:
    data = clips({f"s{i:02d}": 10 + i % 3 for i in range(24)})
    folds = assign_folds(data, 5)
    per_subject: dict[str, set[int]] = {}
    for c in data:
        per_subject.setdefault(c.subject or "", set()).add(folds[c.clip_id])
    assert all(len(v) == 1 for v in per_subject.values())
    sizes = Counter(folds.values())
    assert set(sizes) == set(range(5))
    assert max(sizes.values()) - min(sizes.values()) <= 12  # at most one subject apart


def test_same_input_same_folds_whatever_the_order() -> None:
    data = clips({"a": 3, "b": 5, "c": 2, "d": 7, "e": 1, "f": 4})
    assert assign_folds(data, 3) == assign_folds(list(reversed(data)), 3)


def test_clips_without_subject_are_their_own_group() -> None:
    data = [ClipRecord(f"c/{i}", "c", str(i)) for i in range(10)]
    assert Counter(assign_folds(data, 5).values()) == {0: 2, 1: 2, 2: 2, 3: 2, 4: 2}


def test_needs_two_folds() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        assign_folds(clips({"a": 1}), 1)
