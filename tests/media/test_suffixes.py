"""is_media_file: by suffix, case-insensitive, no I/O."""

from __future__ import annotations

from pathlib import Path

import pytest

from emofeat.media import IMAGE_SUFFIXES, MEDIA_SUFFIXES, is_media_file


@pytest.mark.parametrize(
    "name",
    [
        "a.mp4",
        "B.MP4",
        "c.avi",
        "d.mov",
        "e.mkv",
        "f.wav",
        "g.FLAC",
        "h.m4a",
        "i.mp3",
        "j.png",
        "k.JPG",
        "l.jpeg",
        "m.bmp",
        "n.tif",
        "o.tiff",
        "p.webp",
        "q.webm",
        "r.ogg",
        "s.opus",
        "t.ac3",
    ],
)
def test_media_suffixes(name: str) -> None:
    assert is_media_file(Path("/corpus/some dir") / name)


@pytest.mark.parametrize("name", ["notes.txt", "labels.csv", "x.mp4.part", "README", "clip", "._clip.mp4"])
def test_not_media(name: str) -> None:
    assert not is_media_file(Path(name))


def test_nonexistent_paths_are_judged_by_name_only(tmp_path: Path) -> None:
    assert is_media_file(tmp_path / "missing.mp4")


def test_suffix_sets() -> None:
    assert IMAGE_SUFFIXES <= MEDIA_SUFFIXES
    assert {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"} == IMAGE_SUFFIXES
    assert all(s.startswith(".") and s == s.lower() for s in MEDIA_SUFFIXES)
