"""Inputs at their real size: a 48 MP photo is one stored frame, a 20000x20000 PNG is refused
before it is decoded, and a long clip is stored in pieces that read back as one clip."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

import emofeat
from emofeat.config import FeatureConfig, VideoConfig
from emofeat.errors import TooLargeError
from emofeat.media import iter_frames
from emofeat.pipeline import RunOptions, batch, clip, ingest
from tests.mediagen import face_frames, speech_like, write_image, write_video


def huge_png(path: Path, side: int = 20000) -> Path:
    """A valid 1-bit greyscale PNG of ``side`` x ``side`` pixels (50 kB on disk)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\0" * (1 + (side + 7) // 8)
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )
    return path


def test_a_huge_png_is_refused_before_decoding_and_names_size_and_limit(tmp_path: Path) -> None:
    path = huge_png(tmp_path / "huge.png")
    with pytest.raises(TooLargeError) as caught:
        next(iter_frames(path, VideoConfig()))
    assert caught.value.kind == "too_large"
    assert "20000x20000" in caught.value.message
    assert "400.0 megapixels" in caught.value.message
    assert "100.0 megapixels" in caught.value.message


@pytest.mark.slow
def test_48_mp_photo_is_one_frame_and_a_huge_png_a_failure_in_one_run(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    photo = cv2.resize(data.astronaut(), (8000, 6000), interpolation=cv2.INTER_LINEAR)
    write_image(root / "phone.jpg", photo)
    del photo
    huge_png(root / "scan.png")
    write_video(root / "talk.mp4", face_frames(8, size=(144, 192)), 8, audio=speech_like(1.0, 16000))
    summary = ingest("folder", root, tmp_path / "store", options=RunOptions(workers=1))
    assert summary.clips == {"ok": 2, "failed": 1, "skipped": 0}
    (failure,) = summary.failures
    assert failure["clip_id"] == "folder/scan.png"
    assert failure["error_kind"] == "too_large"
    store = emofeat.open_store(tmp_path / "store")
    still = store.read("folder/phone.jpg")
    assert still["face"].shape == (1, 112, 112, 3)  # detected once, not repeated to T
    assert still["face_present"].tolist() == [1]
    assert store.read("folder/talk.mp4")["face"].shape[0] == 16


def test_a_long_clip_is_stored_in_pieces_that_read_back_as_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    write_video(root / "a.mp4", face_frames(50, size=(144, 192), seed=3), 25, audio=speech_like(2.0, 16000))
    write_video(root / "b.mp4", face_frames(20, size=(144, 192), seed=4), 25, audio=speech_like(0.8, 16000))
    config = FeatureConfig(video=VideoConfig(sampling="all"))
    whole = ingest("folder", root, tmp_path / "whole", config, RunOptions(workers=1))
    assert whole.clips["ok"] == 2

    monkeypatch.setattr(clip, "SEGMENT_FRAMES", 8)
    monkeypatch.setattr(batch, "MAX_PART_BYTES", 8 * 112 * 112 * 3)  # a part per segment
    options = RunOptions(workers=1, batch_size=2, isolate=False)  # the batches see the patches
    pieces = ingest("folder", root, tmp_path / "pieces", config, options)
    assert pieces.clips["ok"] == 2
    assert pieces.feature_version == whole.feature_version

    a, b = emofeat.open_store(tmp_path / "whole"), emofeat.open_store(tmp_path / "pieces")
    ledger = b._ledger("folder", pieces.feature_version).set_index("clip_id")
    assert len(ledger.loc["folder/a.mp4", "part"].split()) >= 50 // 8
    for clip_id in ("folder/a.mp4", "folder/b.mp4"):
        expected, got = a.read(clip_id), b.read(clip_id)
        assert sorted(got) == sorted(expected)
        for key, value in expected.items():
            np.testing.assert_array_equal(got[key], value, err_msg=key)
        for name in ledger.loc[clip_id, "part"].split():  # no part row holds more than a segment
            group = b._root[f"folder/features/{pieces.feature_version}/parts/{name}"]
            assert np.diff(group["face.offsets"][:]).max() <= 8
