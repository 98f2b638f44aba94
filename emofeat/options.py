"""Runtime options of an ingestion run: how it executes, never what it computes.

Nothing here is part of a feature version (see :mod:`emofeat.config`).
"""

from __future__ import annotations

from dataclasses import dataclass

from emofeat.errors import ConfigError

DEFAULT_FOLDS = 5


@dataclass(frozen=True)
class RunOptions:
    """How a run executes (never part of the feature version).

    ``batch_size`` clips make one task; ``workers`` batches run at once, in a rolling window
    (a worker that finishes one takes the next at once); a checkpoint commit follows every
    ``checkpoint_every`` finished batches.
    """

    batch_size: int = 8
    checkpoint_every: int = 4
    workers: int = 2
    retry_failed: bool = False
    #: Subject-independent folds written into the catalog (data, not a feature setting).
    folds: int = DEFAULT_FOLDS
    #: Frames larger than this many megapixels are refused before decoding (``too_large``).
    max_megapixels: float = 100.0
    #: The corpus's name in the store (default: the adapter's); clip ids are ``<name>/<source>``.
    name: str | None = None
    #: The corpus under ``name`` was moved: accept its new root (its sources keep their ids).
    root_moved: bool = False
    #: Each batch runs in a spawned worker process (:mod:`emofeat.pipeline.workers`), so a
    #: crash or OOM kill of one clip is a recorded ``worker_died`` failure; ``False`` runs
    #: batches on threads of this process (for debugging, and for tests that monkeypatch
    #: pipeline code).
    isolate: bool = True

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.checkpoint_every < 1 or self.workers < 1:
            raise ConfigError("batch_size, checkpoint_every and workers must all be >= 1")
        if not self.max_megapixels > 0:
            raise ConfigError(f"max_megapixels must be > 0, not {self.max_megapixels}")
        if self.folds < 2:
            raise ConfigError(f"folds must be >= 2, not {self.folds}")
