"""A deterministic, resumable epoch sampler for training on a dataset of ``n`` items.

What it guarantees (the field's loaders each miss one of these):

* **The order depends only on the seed and the epoch** (:meth:`EpochSampler.set_epoch`): never
  on the number of DataLoader workers, processes or machines. Each epoch draws its own
  permutation from ``numpy.random.Generator(PCG64([seed, epoch]))``.
* **Sharding keeps the global order.** With ``world_size`` ranks, rank ``r`` takes positions
  ``r, r + world_size, ...`` of the epoch's one global order (padded by repeating its first
  items so every rank has the same count, as ``torch.utils.data.DistributedSampler`` does):
  the union of the ranks' items is the single-process epoch.
* **Resume in O(1) reads, without replaying the epoch.** ``state_dict()`` is the seed, the
  epoch and how many items of it this rank has consumed; ``load_state_dict`` recomputes the
  epoch's order (one permutation: milliseconds at 300,000 items, no item is read) and yields
  exactly the items not yet consumed. A DataLoader pulls indices ahead of what the training
  loop has used (prefetching), so pass the count the loop really consumed:
  ``sampler.state_dict(consumed=step * batch_size)``.
* **Balanced or mixed epochs.** ``balance`` (one label per item, or ``"label"`` for a
  dataset's class indices) draws each epoch's ``n`` items with replacement so that every
  label is equally likely; ``weights`` (one per item, or ``{corpus: weight}`` for a dataset
  of several corpora: each corpus is drawn with its weight's share, whatever its size)
  draws them in proportion. Both are seeded the same way as the shuffle.

The sampler is plain Python over NumPy: any loop can use it, and ``torch.utils.data.DataLoader``
takes it as ``sampler=`` (it has ``__iter__`` and ``__len__``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence, Sized
from typing import Any

import numpy as np

from emofeat.errors import ConfigError


class EpochSampler:
    """Indices ``0 .. n - 1`` in a seeded order per epoch (see the module docstring).

    Parameters
    ----------
    items : int or sized
        The number of items, or the dataset itself (its ``len``).
    seed : int
        The order's seed (with the epoch).
    shuffle : bool
        False: ``0 .. n - 1`` in order every epoch (still sharded and resumable).
    balance : sequence or "label", optional
        One label per item (or ``"label"``: the dataset's ``labels()``): draw each epoch
        with replacement, every label equally likely.
    weights : sequence of float or dict, optional
        One non-negative weight per item, or ``{corpus: weight}`` (the dataset's
        ``corpora_of_items()``): draw each epoch with replacement in proportion.
    rank, world_size : int
        This process's shard of the global order.

    Raises
    ------
    ConfigError
        On an empty dataset, both ``balance`` and ``weights``, lengths that differ from
        ``n``, negative or all-zero weights, or a rank outside ``[0, world_size)``.
    """

    def __init__(
        self,
        items: int | Sized,
        seed: int,
        shuffle: bool = True,
        balance: Sequence[Any] | str | None = None,
        weights: Sequence[float] | Mapping[str, float] | None = None,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        n = items if isinstance(items, int) else len(items)
        if isinstance(balance, str):
            balance = _dataset_column(items, "labels", balance)
        if isinstance(weights, Mapping):
            weights = _corpus_weights(_dataset_column(items, "corpora_of_items", "corpus"), weights)
        if n < 1:
            raise ConfigError("an epoch sampler needs at least one item")
        if balance is not None and weights is not None:
            raise ConfigError("give balance or weights, not both")
        if not 0 <= rank < world_size:
            raise ConfigError(f"rank must be in [0, {world_size}), not {rank}")
        self.n, self.seed, self.shuffle = n, int(seed), shuffle
        self.rank, self.world_size = rank, world_size
        self._probabilities = _probabilities(n, balance, weights)
        self.epoch = 0
        self._consumed = 0

    def set_epoch(self, epoch: int) -> None:
        """Start epoch ``epoch`` (from its first item)."""
        self.epoch, self._consumed = int(epoch), 0

    def order(self, epoch: int | None = None) -> np.ndarray:
        """The global order of an epoch (every rank's items, before sharding), int64."""
        epoch = self.epoch if epoch is None else epoch
        rng = np.random.Generator(np.random.PCG64([self.seed, epoch]))
        if self._probabilities is not None:
            return rng.choice(self.n, size=self.n, replace=True, p=self._probabilities).astype(np.int64)
        if not self.shuffle:
            return np.arange(self.n, dtype=np.int64)
        return rng.permutation(self.n).astype(np.int64)

    def shard(self, epoch: int | None = None) -> np.ndarray:
        """This rank's items of an epoch, in order."""
        order = self.order(epoch)
        total = len(self) * self.world_size
        padded = np.resize(order, total) if total > len(order) else order  # repeats the first items
        return padded[self.rank :: self.world_size]

    def __len__(self) -> int:
        return -(-self.n // self.world_size)

    def __iter__(self) -> Iterator[int]:
        shard = self.shard()
        while self._consumed < len(shard):
            index = int(shard[self._consumed])
            self._consumed += 1
            yield index

    def state_dict(self, consumed: int | None = None) -> dict[str, int]:
        """Where this rank is: seed, epoch, items consumed (``consumed`` overrides the count
        this sampler has yielded, which runs ahead of a prefetching DataLoader)."""
        return {
            "seed": self.seed,
            "epoch": self.epoch,
            "consumed": self._consumed if consumed is None else int(consumed),
            "n": self.n,
            "rank": self.rank,
            "world_size": self.world_size,
        }

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Resume where ``state`` was taken: the next iteration yields the epoch's remaining items.

        Raises
        ------
        ConfigError
            When the state is of another dataset size, seed or sharding.
        """
        mine = {"seed": self.seed, "n": self.n, "rank": self.rank, "world_size": self.world_size}
        theirs = {k: state.get(k) for k in mine}
        if theirs != mine:
            raise ConfigError(f"this sampler is {mine}; the state to resume is of {theirs}")
        if not 0 <= state["consumed"] <= len(self):
            raise ConfigError(f"consumed must be in [0, {len(self)}], not {state['consumed']}")
        self.epoch, self._consumed = int(state["epoch"]), int(state["consumed"])


def _dataset_column(items: Any, method: str, what: str) -> list[Any]:
    if what not in ("label", "corpus") or not hasattr(items, method):
        raise ConfigError(f"{what!r} sampling needs a dataset from emofeat.data.open_dataset")
    return list(getattr(items, method)())


def _corpus_weights(corpora: list[Any], weights: Mapping[str, float]) -> list[float]:
    """Per item ``weights[corpus] / items of that corpus``."""
    missing = sorted({str(c) for c in corpora} - set(weights))
    if missing:
        raise ConfigError(f"weights name no weight for corpus(es) {missing}")
    counts: dict[str, int] = {}
    for c in corpora:
        counts[str(c)] = counts.get(str(c), 0) + 1
    return [float(weights[str(c)]) / counts[str(c)] for c in corpora]


def _probabilities(
    n: int, balance: Sequence[Any] | None, weights: Sequence[float] | None
) -> np.ndarray | None:
    """Each item's probability of a draw, or None for a plain permutation."""
    if balance is not None:
        labels = np.asarray(list(balance), dtype=object)
        if len(labels) != n:
            raise ConfigError(f"balance has {len(labels)} labels for {n} items")
        _, inverse, counts = np.unique(labels.astype(str), return_inverse=True, return_counts=True)
        p = 1.0 / counts[inverse]
    elif weights is not None:
        p = np.asarray(weights, dtype=np.float64)
        if p.shape != (n,):
            raise ConfigError(f"weights has {p.size} values for {n} items")
        if not (np.isfinite(p).all() and (p >= 0).all() and p.sum() > 0):
            raise ConfigError("weights must be finite, non-negative and not all zero")
    else:
        return None
    return np.asarray(p / p.sum(), dtype=np.float64)
