"""emofeat: audio-visual emotion corpora into a versioned feature store.

The Python API::

    import emofeat
    store = emofeat.open_store("storage/default", snapshot=None)   # pinned to a snapshot
    store.catalog(corpus="ravdess")                                  # pandas DataFrame
    arrays = store.read("ravdess/Actor_01/01-01-03-01-01-01-01.mp4") # dict of numpy arrays
    summary = emofeat.ingest("ravdess", "/data/RAVDESS", "storage/default")

The names below are imported on first use (PEP 562), so ``import emofeat`` and the CLI stay
fast and light layers never pull in heavy ones.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("emofeat")
except PackageNotFoundError:  # a source tree without an install
    __version__ = "0.0.0+local"

_LAZY = {
    "FeatureConfig": "emofeat.config",
    "FeatureStore": "emofeat.store",
    "open_store": "emofeat.store",
    "IngestSummary": "emofeat.pipeline",
    "RunOptions": "emofeat.options",
    "ingest": "emofeat.pipeline",
}

if TYPE_CHECKING:
    from emofeat.config import FeatureConfig
    from emofeat.options import RunOptions
    from emofeat.pipeline import IngestSummary, ingest
    from emofeat.store import FeatureStore, open_store


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'emofeat' has no attribute {name!r}")


__all__ = [
    "FeatureConfig",
    "FeatureStore",
    "IngestSummary",
    "RunOptions",
    "__version__",
    "ingest",
    "open_store",
]
