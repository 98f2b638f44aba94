"""The fixture itself, and tags: immutable names of snapshots."""

from __future__ import annotations

import pytest

from emofeat.errors import NotFoundError, StoreError
from emofeat.store import open_store
from emofeat.store.tags import list_tags, tag
from tests.audit.releases import ADDED, CHANGED, Releases


def test_each_tag_reads_its_release(releases: Releases) -> None:
    v1, v2 = open_store(releases.store, tag="v1"), open_store(releases.store, tag="v2")
    assert ADDED not in set(v1.catalog()["clip_id"])
    assert ADDED in set(v2.catalog()["clip_id"])
    label = {s.snapshot: s.catalog().set_index("clip_id").loc[CHANGED, "label"] for s in (v1, v2)}
    assert label == {v1.snapshot: "happiness", v2.snapshot: "sadness"}
    assert v2.snapshot == open_store(releases.store).snapshot


def test_tags_are_listed_with_their_messages(releases: Releases) -> None:
    found = {t.name: t for t in list_tags(releases.store)}
    assert set(found) == {"v1", "v2"}
    assert found["v1"].message == "first release"
    assert found["v1"].snapshot == open_store(releases.store, tag="v1").snapshot
    assert found["v1"].written_at <= found["v2"].written_at


def test_a_tag_name_is_used_once(releases: Releases) -> None:
    with pytest.raises(StoreError) as err:
        tag(releases.store, "v1", snapshot=open_store(releases.store).snapshot)
    assert err.value.kind == "tag_exists"
    assert open_store(releases.store, tag="v1").snapshot != open_store(releases.store).snapshot


def test_an_unknown_tag_names_the_known_ones(releases: Releases) -> None:
    with pytest.raises(NotFoundError, match="v1, v2"):
        open_store(releases.store, tag="v3")
