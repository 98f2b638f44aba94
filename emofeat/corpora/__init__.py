"""Corpus adapters: one module per corpus, registered by name (see ``base``)."""

from emofeat.corpora import folder, ravdess
from emofeat.corpora.base import (
    ClipRecord,
    CorpusAdapter,
    Manifest,
    SkippedFile,
    adapter_names,
    get_adapter,
    register,
)

__all__ = [
    "ClipRecord",
    "CorpusAdapter",
    "Manifest",
    "SkippedFile",
    "adapter_names",
    "folder",
    "get_adapter",
    "ravdess",
    "register",
]
