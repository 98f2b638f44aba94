"""Corpus adapters: one module per corpus, registered by name (see ``base``).

Every module of this package that is not infrastructure is imported here, so adding a
corpus touches one file (plus its test): its ``@register`` decorator does the rest.
"""

import importlib
import pkgutil

from emofeat.corpora.base import (
    ClipRecord,
    CorpusAdapter,
    Manifest,
    SkippedFile,
    adapter_names,
    get_adapter,
    register,
    scan_corpus,
)
from emofeat.corpora.tracks import LabelTrack

#: Modules of this package that hold no adapter.
INFRASTRUCTURE = frozenset({"base", "folds", "rows", "tracks", "vocabulary"})

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in INFRASTRUCTURE and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "ClipRecord",
    "CorpusAdapter",
    "LabelTrack",
    "Manifest",
    "SkippedFile",
    "adapter_names",
    "get_adapter",
    "register",
    "scan_corpus",
]
