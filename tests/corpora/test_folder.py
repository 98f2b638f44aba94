"""The folder adapter: every media file, labels from labels.csv, everything accounted for."""

from __future__ import annotations

from pathlib import Path

import pytest

from emofeat.corpora import get_adapter
from emofeat.errors import CorpusError


def write(root: Path, name: str, text: str = "") -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_every_file_is_a_clip_or_a_reported_skip(tmp_path: Path) -> None:
    for name in ("a.mp4", "sub dir/b.WAV", "ünï/c.png", "notes.txt", ".hidden"):
        write(tmp_path, name)
    manifest = get_adapter("folder").scan(tmp_path)
    assert sorted(c.source for c in manifest.clips) == ["a.mp4", "sub dir/b.WAV", "ünï/c.png"]
    assert {s.source for s in manifest.skipped} == {"notes.txt", ".hidden"}
    assert all("not a media file" in s.reason for s in manifest.skipped)
    assert all(c.label is None and c.sex is None for c in manifest.clips)


def test_labels_csv(tmp_path: Path) -> None:
    write(tmp_path, "x/a.mp4")
    write(tmp_path, "b.wav")
    write(
        tmp_path,
        "labels.csv",
        "source,label,subject,sex\nx/a.mp4,happy,s1,F\nb.wav,sad,,\nmissing.mp4,angry,,\n",
    )
    manifest = get_adapter("folder").scan(tmp_path)
    clips = {c.source: c for c in manifest.clips}
    assert (clips["x/a.mp4"].label, clips["x/a.mp4"].subject, clips["x/a.mp4"].sex) == (
        "happy",
        "s1",
        "female",
    )
    assert (clips["b.wav"].label, clips["b.wav"].subject, clips["b.wav"].sex) == ("sad", None, None)
    reasons = {s.source: s.reason for s in manifest.skipped}
    assert reasons["labels.csv"] == "label file"
    assert "no such media file" in reasons["missing.mp4"]


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        ("path,emotion\na.mp4,x\n", "needs the columns"),
        ("source,label\na.mp4,x\na.mp4,y\n", "listed twice"),
        ("source,label,sex\na.mp4,x,robot\n", "sex must be"),
    ],
)
def test_bad_labels_csv_is_a_clear_error(tmp_path: Path, csv: str, message: str) -> None:
    write(tmp_path, "a.mp4")
    write(tmp_path, "labels.csv", csv)
    with pytest.raises(CorpusError, match=message):
        get_adapter("folder").scan(tmp_path)
