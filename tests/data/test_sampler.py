"""The epoch sampler: an order that depends only on seed and epoch, sharding that keeps it,
and a mid-epoch resume that yields exactly the items not yet consumed."""

from __future__ import annotations

import itertools
import pickle
from collections import Counter

import numpy as np
import pytest

from emofeat.data import EpochSampler
from emofeat.errors import ConfigError


def test_an_epoch_is_a_permutation_fixed_by_seed_and_epoch() -> None:
    a, b = EpochSampler(100, seed=7), EpochSampler(100, seed=7)
    first = list(a)
    assert sorted(first) == list(range(100))
    assert first == list(b)  # the same seed and epoch: the same order
    a.set_epoch(1)
    second = list(a)
    assert sorted(second) == list(range(100))
    assert second != first  # another epoch: another order
    assert list(EpochSampler(100, seed=8)) != first


def test_without_shuffle_the_order_is_the_items() -> None:
    assert list(EpochSampler(5, seed=1, shuffle=False)) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("world_size", [2, 3, 7])
def test_shards_partition_the_single_process_order(world_size: int) -> None:
    single = EpochSampler(100, seed=3).order()
    shards = [list(EpochSampler(100, seed=3, rank=r, world_size=world_size)) for r in range(world_size)]
    assert len({len(s) for s in shards}) == 1  # every rank the same count (padded)
    interleaved = [i for group in itertools.zip_longest(*shards) for i in group if i is not None]
    assert interleaved[:100] == single.tolist()  # rank r holds positions r, r + world_size, ...
    assert set(interleaved) == set(range(100))


def test_resume_mid_epoch_yields_exactly_the_rest() -> None:
    sampler = EpochSampler(50, seed=11)
    sampler.set_epoch(4)
    whole = sampler.order(4).tolist()
    seen = list(itertools.islice(iter(sampler), 17))
    state = sampler.state_dict()
    assert state["consumed"] == 17
    fresh = EpochSampler(50, seed=11)
    fresh.load_state_dict(pickle.loads(pickle.dumps(state)))
    rest = list(fresh)
    assert seen + rest == whole
    assert fresh.epoch == 4


def test_a_prefetching_loader_resumes_from_what_the_loop_consumed() -> None:
    sampler = EpochSampler(40, seed=5)
    iterator = iter(sampler)
    pulled = [next(iterator) for _ in range(12)]  # a DataLoader pulled 12 indices ahead
    used = pulled[:8]  # the training loop consumed 8 of them
    state = sampler.state_dict(consumed=len(used))
    fresh = EpochSampler(40, seed=5)
    fresh.load_state_dict(state)
    assert used + list(fresh) == sampler.order().tolist()


def test_resume_refuses_another_dataset_or_sharding() -> None:
    state = EpochSampler(10, seed=1).state_dict()
    with pytest.raises(ConfigError, match="state to resume"):
        EpochSampler(11, seed=1).load_state_dict(state)
    with pytest.raises(ConfigError, match="state to resume"):
        EpochSampler(10, seed=1, rank=1, world_size=2).load_state_dict(state)


def test_balance_makes_every_label_equally_likely() -> None:
    labels = ["neutral"] * 900 + ["anger"] * 90 + ["fear"] * 10
    sampler = EpochSampler(len(labels), seed=2, balance=labels)
    counts = Counter(labels[i] for epoch in range(5) for i in sampler.order(epoch))
    shares = np.array([counts[k] for k in ("neutral", "anger", "fear")]) / sum(counts.values())
    np.testing.assert_allclose(shares, 1 / 3, atol=0.03)


def test_weights_mix_corpora_in_proportion() -> None:
    # corpus A: 100 items, B: 900 items; ask for half of each epoch from each corpus
    weights = [0.5 / 100] * 100 + [0.5 / 900] * 900
    order = EpochSampler(1000, seed=4, weights=weights).order()
    share_a = float(np.mean(order < 100))
    assert share_a == pytest.approx(0.5, abs=0.05)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"items": 0}, "at least one item"),
        ({"balance": ["a"], "weights": [1.0]}, "not both"),
        ({"weights": [-1.0, 1.0]}, "non-negative"),
        ({"weights": [1.0]}, "1 values for 2 items"),
        ({"rank": 2, "world_size": 2}, "rank"),
    ],
)
def test_bad_options_are_clear_errors(kwargs: dict[str, object], match: str) -> None:
    options: dict[str, object] = {"items": 2, "seed": 0} | kwargs
    with pytest.raises(ConfigError, match=match):
        EpochSampler(**options)  # type: ignore[arg-type]
