"""Write-time checksums and schema of a part, and :func:`check_part` on intact and damaged parts."""

from __future__ import annotations

import numpy as np
import pytest
import zarr
import zarr.storage

from emofeat.store import ClipArrays, write_part
from emofeat.store.integrity import CHECKSUMS_ATTR, SCHEMA_ATTR, check_part, row_digest
from emofeat.store.layout import part_path

PART = "p-test"
IDS = ["c/a", "c/b", "c/c"]


def _faces(seed: int) -> np.ndarray:
    # 20 face crops: 37,632 bytes a row, so 27 rows a chunk and the clips cross chunk edges
    return np.random.default_rng(seed).integers(0, 255, (20, 112, 112, 3), dtype=np.uint8)


@pytest.fixture
def part() -> zarr.Group:
    store = zarr.storage.MemoryStore()
    clips = [
        ClipArrays(
            clip,
            {
                "face": [_faces(i)[:7], _faces(i)[7:]] if i == 1 else _faces(i),  # b: two pieces
                "mfcc": np.full((5 + i, 4), float(i), np.float32),
                "egemaps": np.arange(3, dtype=np.float32) + i,
            },
            per_clip=frozenset({"egemaps"}),
        )
        for i, clip in enumerate(IDS)
    ]
    write_part(store, "c", "fv-x", PART, clips, {"label_classes": {}})
    return zarr.open_group(store, mode="a")[part_path("c", "fv-x", PART)]


def test_a_part_records_its_schema_and_a_digest_per_row(part: zarr.Group) -> None:
    schema, sums = part.attrs[SCHEMA_ATTR], part.attrs[CHECKSUMS_ATTR]
    assert schema == {
        "egemaps": {"dtype": "<f4", "shape": [3]},  # per clip: a series of length 1
        "face": {"dtype": "|u1", "shape": [112, 112, 3]},
        "mfcc": {"dtype": "<f4", "shape": [4]},
    }
    assert {k: len(v) for k, v in sums.items()} == {"egemaps": 3, "face": 3, "mfcc": 3}
    # the digest of a row is the same whether it was written in one piece or in two
    assert sums["face"][1] == row_digest([_faces(1)], np.uint8, (112, 112, 3))
    assert sums["mfcc"][2] == row_digest([np.full((7, 4), 2.0, np.float32)], "<f4", (4,))
    assert len(set(sums["face"])) == 3
    assert part.attrs["label_classes"] == {}


def test_an_intact_part_has_no_findings(part: zarr.Group) -> None:
    assert check_part(part, expected=dict(enumerate(IDS))) == []
    assert check_part(part, block_bytes=1) == []  # one chunk at a time


def test_one_changed_value_is_found_in_its_row_only(part: zarr.Group) -> None:
    face = part["face"]
    start = int(part["face.offsets"][1])
    face[start + 12, 0, 0, 0] = (int(face[start + 12, 0, 0, 0]) + 1) % 256  # clip b, second piece
    found = check_part(part)
    assert [(f.kind, f.clip, f.key, f.part) for f in found] == [("checksum", "c/b", "face", PART)]
    assert "c/b" in found[0].message
    assert "'face'" in found[0].message
    assert check_part(part, rows=[0, 2]) == []  # only the rows asked for are hashed


def test_a_rewritten_array_breaks_the_schema(part: zarr.Group) -> None:
    values = np.asarray(part["mfcc"][:]).astype(np.float64)
    part.create_array("mfcc", shape=values.shape, dtype="float64", overwrite=True)[:] = values
    found = check_part(part)
    assert [(f.kind, f.key) for f in found] == [("schema", "mfcc")]
    assert "<f8" in found[0].message


def test_offsets_that_do_not_cover_the_array_are_found(part: zarr.Group) -> None:
    offsets = np.asarray(part["mfcc.offsets"][:])
    part["mfcc.offsets"][-1] = offsets[-1] - 1
    assert [(f.kind, f.key) for f in check_part(part)] == [("structure", "mfcc")]


def test_a_row_holding_another_clip_is_found(part: zarr.Group) -> None:
    found = check_part(part, [0], expected={0: "c/other"})
    assert [(f.kind, f.clip) for f in found] == [("structure", "c/other")]


def test_a_part_without_checksums_gets_one_note(part: zarr.Group) -> None:
    attrs = dict(part.attrs)
    del attrs[CHECKSUMS_ATTR], attrs[SCHEMA_ATTR]
    part.attrs.clear()
    part.attrs.update(attrs)
    found = check_part(part)
    assert [(f.kind, f.is_note) for f in found] == [("no_checksums", True)]
    assert "no checksums recorded" in found[0].message
