"""Hostile corpora: nothing outside the corpus root is read, and no symbolic link is followed."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from emofeat.cli.app import app
from emofeat.corpora import get_adapter, scan_corpus
from emofeat.corpora.base import escapes


def hostile_folder(tmp_path: Path) -> Path:
    """A folder corpus whose root links to files and a folder outside it."""
    outside = tmp_path / "outside"
    (outside / "private").mkdir(parents=True)
    (outside / "secret.wav").write_bytes(b"not yours")
    (outside / "private" / "other.wav").write_bytes(b"not yours either")
    (outside / "labels.csv").write_text("source,label\nmine.wav,happy\n")
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "mine.wav").write_bytes(b"")
    (root / "linked.wav").symlink_to(outside / "secret.wav")
    (root / "linked_dir").symlink_to(outside / "private", target_is_directory=True)
    (root / "labels.csv").symlink_to(outside / "labels.csv")
    return root


def test_links_are_reported_and_never_followed(tmp_path: Path) -> None:
    root = hostile_folder(tmp_path)
    manifest = scan_corpus(get_adapter("folder"), root)
    assert [c.source for c in manifest.clips] == ["mine.wav"]
    assert manifest.clips[0].label is None  # the linked labels.csv was not read
    reasons = {s.source: s.reason for s in manifest.skipped}
    for link in ("linked.wav", "linked_dir", "labels.csv"):
        assert "symbolic link" in reasons[link]
        assert "not followed" in reasons[link]
    assert not any("other.wav" in s for s in reasons)  # the linked folder was not walked


def test_an_annotation_naming_a_path_outside_the_root_gives_no_clip(tmp_path: Path) -> None:
    root = tmp_path / "AffectNet"
    lists = root / "Manually_Annotated_file_lists"
    lists.mkdir(parents=True)
    header = "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression"
    header += ",valence,arousal"
    (lists / "training.csv").write_text(f"{header}\n../../../etc/passwd,0,0,1,1,,1,0.5,0.5\n")
    manifest = scan_corpus(get_adapter("affectnet"), root)
    assert manifest.clips == ()
    assert any("passwd" in s.source and "no such image" in s.reason for s in manifest.skipped)


def test_escapes_names_each_way_out(tmp_path: Path) -> None:
    root = hostile_folder(tmp_path)
    assert escapes(root, "mine.wav") is None
    assert "outside" in str(escapes(root, "../outside/secret.wav"))
    assert "outside" in str(escapes(root, "/etc/passwd"))
    assert "linked_dir" in str(escapes(root, "linked_dir/other.wav"))
    assert "symbolic link" in str(escapes(root, "linked.wav"))


def test_the_manifest_command_shows_the_links(tmp_path: Path) -> None:
    root = hostile_folder(tmp_path)
    result = CliRunner().invoke(app, ["manifest", "folder", str(root), "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["clip_id"] for r in rows if "clip_id" in r] == ["folder/mine.wav"]
    assert {r["source"] for r in rows if "symbolic link" in r.get("skip_reason", "")} == {
        "linked.wav",
        "linked_dir",
        "labels.csv",
    }
