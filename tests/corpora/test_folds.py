"""Fold assignment: subject-independent, stable under added/removed subjects, balanced, reported."""

from __future__ import annotations

import math
import random
import string
from collections import Counter

import pytest

from emofeat.corpora import ClipRecord
from emofeat.corpora.folds import assign_folds, fold_balance, group_fold


def clips(counts: dict[str, int], corpus: str = "c") -> list[ClipRecord]:
    return [
        ClipRecord(f"{corpus}/{s}/{i}", corpus, f"{s}/{i}", subject=s)
        for s, n in sorted(counts.items())
        for i in range(n)
    ]


def subject_folds(data: list[ClipRecord], folds: dict[str, int]) -> dict[str | None, set[int]]:
    out: dict[str | None, set[int]] = {}
    for c in data:
        out.setdefault(c.subject, set()).add(folds[c.clip_id])
    return out


def random_corpus(seed: int) -> list[ClipRecord]:
    """A seeded corpus mixing the namings real corpora use, with gaps, and clips without subject."""
    rng = random.Random(seed)
    names: set[str] = set()
    for pattern in ("Actor_{:02d}", "S{:03d}", "{}", "subject {}"):
        names.update(pattern.format(n) for n in rng.sample(range(1, 120), rng.randint(3, 25)))
    names.update("".join(rng.choices(string.ascii_uppercase, k=2)) for _ in range(rng.randint(0, 6)))
    counts = {s: rng.randint(1, 30) for s in sorted(names)}
    anonymous = [
        ClipRecord(f"c/anon/{i:05d}.avi", "c", f"anon/{i:05d}.avi") for i in range(rng.randint(0, 9))
    ]
    return clips(counts) + anonymous


SEEDS = range(8)


def test_published_assignments_are_frozen() -> None:
    # Folds are published with the data: this scheme must never change. If this fails, a
    # change to emofeat/corpora/folds.py moved published folds; revert it.
    actors = clips({f"Actor_{i:02d}": 2 for i in range(1, 13)}, corpus="ravdess")
    folds = assign_folds(actors, 5)
    by_actor = {c.subject: folds[c.clip_id] for c in actors}
    assert by_actor == {
        "Actor_01": 3, "Actor_02": 4, "Actor_03": 0, "Actor_04": 2, "Actor_05": 0, "Actor_06": 1,
        "Actor_07": 4, "Actor_08": 3, "Actor_09": 2, "Actor_10": 1, "Actor_11": 4, "Actor_12": 0,
    }  # fmt: skip
    assert {s: group_fold("savee", s, 5) for s in ("DC", "JE", "JK", "KL")} == {
        "DC": 3,
        "JE": 0,
        "JK": 0,
        "KL": 1,
    }
    assert group_fold("afew", "clip:afew/Train_AFEW/Angry/000046280.avi", 5) == 4
    assert group_fold("ravdess", "Actor_01", 10) == 1


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [2, 5, 10])
def test_adding_subjects_moves_no_other_subject(seed: int, k: int) -> None:
    base = random_corpus(seed)
    before = assign_folds(base, k)
    rng = random.Random(1000 + seed)
    taken = {c.subject for c in base}
    new = [
        s for s in (f"Actor_{rng.randint(1, 200):02d}", f"S{rng.randint(1, 999):03d}", "ZZ") if s not in taken
    ]
    grown = (
        base + clips({s: rng.randint(1, 20) for s in new}) + [ClipRecord("c/anon/x.avi", "c", "anon/x.avi")]
    )
    after = assign_folds(grown, k)
    assert {cid: after[cid] for cid in before} == before


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [2, 5, 10])
def test_removing_a_subject_moves_no_other_subject(seed: int, k: int) -> None:
    base = random_corpus(seed)
    before = assign_folds(base, k)
    rng = random.Random(2000 + seed)
    gone = rng.choice(sorted({c.subject for c in base if c.subject is not None}))
    shrunk = [c for c in base if c.subject != gone]
    assert assign_folds(shrunk, k) == {c.clip_id: before[c.clip_id] for c in shrunk}


@pytest.mark.parametrize("seed", SEEDS)
def test_same_folds_whatever_the_order_and_no_subject_in_two_folds(seed: int) -> None:
    data = random_corpus(seed)
    folds = assign_folds(data, 5)
    shuffled = list(data)
    random.Random(seed).shuffle(shuffled)
    assert assign_folds(shuffled, 5) == folds
    assert assign_folds(reversed(data), 5) == folds
    assert set(folds) == {c.clip_id for c in data}
    assert set(folds.values()) <= set(range(5))
    per_subject = subject_folds(data, folds)
    assert all(len(v) == 1 for s, v in per_subject.items() if s is not None)


def test_clips_without_subject_are_their_own_group() -> None:
    data = [ClipRecord(f"c/{i}", "c", str(i)) for i in range(10)]
    folds = assign_folds(data, 5)
    assert folds == {c.clip_id: assign_folds([c], 5)[c.clip_id] for c in data}
    # Ids c/0 .. c/9 are two complete blocks of five: exactly two clips per fold.
    assert Counter(folds.values()) == {0: 2, 1: 2, 2: 2, 3: 2, 4: 2}


def test_each_corpus_hashes_its_own_subjects() -> None:
    a, b = clips({f"s{i}": 1 for i in range(20)}, "a"), clips({f"s{i}": 1 for i in range(20)}, "b")
    together = assign_folds(a + b, 5)
    assert together == assign_folds(a, 5) | assign_folds(b, 5)
    # The same subject name in two corpora is two people, placed independently.
    assert [together[c.clip_id] for c in a] != [together[c.clip_id] for c in b]


@pytest.mark.parametrize("k", [2, 3, 5, 10])
def test_consecutive_numbers_balance_within_two_subjects(k: int) -> None:
    # Complete blocks of k numbers give every fold one subject; only the two partial end
    # blocks add imbalance.
    for start in range(2 * k):
        for n in (k - 1, k, 2 * k + 1, 24, 43, 91):
            data = clips({f"Actor_{start + i:02d}": 1 for i in range(n)})
            sizes = Counter(assign_folds(data, k).values())
            counts = [sizes.get(f, 0) for f in range(k)]
            assert max(counts) - min(counts) <= 2, (k, start, n, counts)
            if start % k == 0 and n % k == 0:
                assert max(counts) == min(counts) == n // k


@pytest.mark.parametrize("seed", range(4))
def test_each_gap_in_the_numbering_costs_at_most_one_subject(seed: int) -> None:
    rng = random.Random(seed)
    numbers = sorted(rng.sample(range(1, 101), 90))  # 1..100 with ten gaps
    gaps = len(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))
    sizes = Counter(assign_folds(clips({f"S{n:03d}": 1 for n in numbers}), 5).values())
    counts = [sizes.get(f, 0) for f in range(5)]
    assert max(counts) - min(counts) <= 2 + gaps


@pytest.mark.parametrize("seed", range(4))
def test_names_without_numbers_balance_like_fair_dice(seed: int) -> None:
    # Hashed names: binomial fold sizes; all within 4 standard deviations of n / k.
    rng = random.Random(seed)
    names = {"".join(rng.choices(string.ascii_letters, k=8)) for _ in range(2000)}
    k = 5
    sizes = Counter(assign_folds(clips(dict.fromkeys(names, 1)), k).values())
    n = len(names)
    sd = math.sqrt(n * (1 / k) * (1 - 1 / k))
    assert all(abs(sizes[f] - n / k) <= 4 * sd for f in range(k)), sizes


@pytest.mark.parametrize("k", [2, 4])
def test_numbering_patterns_do_not_become_fold_patterns(k: int) -> None:
    # RAVDESS: odd actors are male, even female. fold = n % k would make every fold one sex
    # for even k; each block dealt in its own order mixes them.
    data = clips({f"Actor_{i:02d}": 1 for i in range(1, 25)}, corpus="ravdess")
    folds = assign_folds(data, k)
    parities: dict[int, set[int]] = {}
    for c in data:
        parities.setdefault(folds[c.clip_id], set()).add(int(str(c.subject)[-2:]) % 2)
    assert all(p == {0, 1} for p in parities.values())


def test_fold_balance_counts_clips_subjects_and_imbalance() -> None:
    anonymous = [ClipRecord("c/x", "c", "x"), ClipRecord("c/y", "c", "y")]
    data = [*clips({"a": 3, "b": 1, "c": 2, "d": 2}), *anonymous]
    group = {"a": 0, "b": 1, "c": 1, "d": 2}
    folds = {c.clip_id: group[c.subject] if c.subject else 2 for c in data}
    assert fold_balance(folds, data, 3) == {
        "k": 3,
        "folds": [
            {"fold": 0, "clips": 3, "subjects": 1},
            {"fold": 1, "clips": 3, "subjects": 2},
            {"fold": 2, "clips": 4, "subjects": 1},  # d's two clips and the two without a subject
        ],
        "imbalance": 1.333,
    }
    report = fold_balance(folds, data, 4)
    assert report["folds"][3] == {"fold": 3, "clips": 0, "subjects": 0}
    assert report["imbalance"] is None
    assert fold_balance({}, [], 2)["imbalance"] is None


def test_fold_balance_of_assign_folds_adds_up() -> None:
    data = random_corpus(3)
    report = fold_balance(assign_folds(data, 5), data, 5)
    assert sum(f["clips"] for f in report["folds"]) == len(data)
    assert sum(f["subjects"] for f in report["folds"]) == len({c.subject for c in data} - {None})
    sizes = [f["clips"] for f in report["folds"]]
    assert report["imbalance"] == round(max(sizes) / min(sizes), 3)


def test_fold_balance_rejects_inconsistent_input() -> None:
    data = clips({"a": 1})
    with pytest.raises(ValueError, match="has no fold"):
        fold_balance({}, data, 5)
    with pytest.raises(ValueError, match=r"outside 0\.\.4"):
        fold_balance({data[0].clip_id: 5}, data, 5)
    with pytest.raises(ValueError, match="at least 2"):
        fold_balance({}, [], 1)


def test_needs_two_folds() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        assign_folds(clips({"a": 1}), 1)
    with pytest.raises(ValueError, match="at least 2"):
        group_fold("c", "a", 1)
