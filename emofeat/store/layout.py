"""Names and paths inside the store (documented for users in ``storage/README.md``).

::

    /                                   attrs: emofeat_store (layout version)
    /<corpus>/catalog/<column>          one row per clip (readers sort by clip_id)
    /<corpus>/features/<fv>/            attrs: feature version, config, provenance
    /<corpus>/features/<fv>/ledger/<column>   per clip: status, stage, error, part, ...
    /<corpus>/features/<fv>/parts/<part>/     one batch of clips, written by one writer:
        clip_id (n,)                    the clips of the part, in row order
        <key> (sum of lengths, ...)     a feature, the clips' arrays concatenated on axis 0
        <key>.offsets (n + 1,)          row ranges: clip i is <key>[offsets[i]:offsets[i+1]]
    /<corpus>/features/<fv>/stats/<group>/   normalisation statistics of a group of clips
        <key>.mean, <key>.std, <key>.count    (``all`` or a split); attrs: computed_from, ...
"""

from __future__ import annotations

import hashlib
import re

LAYOUT_VERSION = 1
CATALOG = "catalog"
FEATURES = "features"
LEDGER = "ledger"
PARTS = "parts"
OFFSETS_SUFFIX = ".offsets"
STATS = "stats"

_SAFE = re.compile(r"^[A-Za-z0-9_.-]+$")


def check_name(name: str, what: str) -> str:
    """Return ``name`` if it is safe as one path component of the store, else raise ValueError."""
    if not _SAFE.match(name) or name in (".", ".."):
        raise ValueError(f"{what} {name!r} must use only letters, digits, '_', '.' and '-'")
    return name


def corpus_path(corpus: str) -> str:
    return check_name(corpus, "corpus name")


def catalog_path(corpus: str) -> str:
    return f"{corpus_path(corpus)}/{CATALOG}"


def features_path(corpus: str) -> str:
    return f"{corpus_path(corpus)}/{FEATURES}"


def version_path(corpus: str, feature_version: str) -> str:
    return f"{features_path(corpus)}/{check_name(feature_version, 'feature version')}"


def ledger_path(corpus: str, feature_version: str) -> str:
    return f"{version_path(corpus, feature_version)}/{LEDGER}"


def part_path(corpus: str, feature_version: str, part: str) -> str:
    return f"{version_path(corpus, feature_version)}/{PARTS}/{check_name(part, 'part id')}"


def stats_path(corpus: str, feature_version: str, group: str) -> str:
    """Where the normalisation statistics of one group (``all`` or a split) of a version live."""
    return f"{version_path(corpus, feature_version)}/{STATS}/{check_name(group, 'statistics group')}"


def part_id(clip_ids: list[str], digests: list[str]) -> str:
    """Deterministic id of a part: the hash of its clips and their source digests."""
    h = hashlib.sha256()
    for clip_id, digest in sorted(zip(clip_ids, digests, strict=True)):
        h.update(clip_id.encode())
        h.update(b"\0")
        h.update(digest.encode())
        h.update(b"\n")
    return "p-" + h.hexdigest()[:16]


def corpus_of(clip_id: str) -> str:
    """The corpus name of a clip id (``<corpus>/<source>``)."""
    corpus, sep, _ = clip_id.partition("/")
    if not sep:
        raise ValueError(f"clip id {clip_id!r} is not '<corpus>/<source>'")
    return corpus
