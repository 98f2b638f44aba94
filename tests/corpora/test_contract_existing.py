"""The existing adapters under the shared contract."""

from __future__ import annotations

from pathlib import Path

from tests.corpora.contract import AdapterContract


def touch(root: Path, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"")


class TestRavdessContract(AdapterContract):
    adapter = "ravdess"

    def build(self, root: Path) -> None:
        touch(
            root,
            "Actor_01/01-01-01-01-01-01-01.mp4",
            "Actor_01/02-02-03-02-01-02-01.mp4",
            "Actor_02/03-01-08-02-02-01-02.wav",
            "Actor_02/desktop.ini",
        )


class TestFolderContract(AdapterContract):
    adapter = "folder"

    def build(self, root: Path) -> None:
        touch(root, "a/x.mp4", "b/y.wav", "notes.txt")
        (root / "labels.csv").write_text("source,label,subject\na/x.mp4,Happy,s1\nb/y.wav,weird,s2\n")
