"""The feature store: the only code that touches Zarr and the versioned repository."""

from emofeat.store.reader import CATALOG_COLUMNS, Commit, FeatureStore, open_store
from emofeat.store.repo import BRANCH, commit_lock, open_repo, resolve_snapshot
from emofeat.store.writer import (
    ClipArrays,
    commit,
    corpus_identity,
    open_group,
    prepare_version,
    read_catalog,
    read_ledger,
    read_root,
    record,
    set_corpus_identity,
    write_part,
)

__all__ = [
    "BRANCH",
    "CATALOG_COLUMNS",
    "ClipArrays",
    "Commit",
    "FeatureStore",
    "commit",
    "commit_lock",
    "corpus_identity",
    "open_group",
    "open_repo",
    "open_store",
    "prepare_version",
    "read_catalog",
    "read_ledger",
    "read_root",
    "record",
    "resolve_snapshot",
    "set_corpus_identity",
    "write_part",
]
