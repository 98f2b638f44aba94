"""The feature store: the only code that touches Zarr and the versioned repository."""

from emofeat.store.reader import CATALOG_COLUMNS, Commit, FeatureStore, open_store
from emofeat.store.repo import BRANCH, commit_lock, open_repo, resolve_snapshot
from emofeat.store.writer import ClipArrays, commit, open_group, read_ledger, read_root, record, write_part

__all__ = [
    "BRANCH",
    "CATALOG_COLUMNS",
    "ClipArrays",
    "Commit",
    "FeatureStore",
    "commit",
    "commit_lock",
    "open_group",
    "open_repo",
    "open_store",
    "read_ledger",
    "read_root",
    "record",
    "resolve_snapshot",
    "write_part",
]
