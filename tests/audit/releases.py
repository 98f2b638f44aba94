"""A store with two tagged releases of one corpus (fixture ``releases`` in tests/audit/conftest.py).

RAF-DB layout, one photo per clip (scikit-image's astronaut, shifted per image).

* ``v1``: ``train_00001`` .. ``train_00003`` and ``test_00001``, default config.
* ``v2``: adds ``train_00004``, corrects the label of ``train_00002`` (4 happiness -> 5
  sadness) and lowers ``faces.threshold`` from 0.7 to 0.6 (a new feature version: every clip
  is extracted again).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emofeat.config import FaceConfig, FeatureConfig
from emofeat.pipeline import IngestSummary, RunOptions, ingest
from emofeat.store.tags import tag
from tests.mediagen import face_frames, write_image

LABELS = "basic/EmoLabel/list_patition_label.txt"
V1_LABELS = {"train_00001": 1, "train_00002": 4, "train_00003": 7, "test_00001": 6}
V2_LABELS = V1_LABELS | {"train_00002": 5, "train_00004": 3}
CHANGED = "rafdb/basic/Image/original/train_00002.jpg"  # the corrected label's clip id
ADDED = "rafdb/basic/Image/original/train_00004.jpg"
V2_CONFIG = FeatureConfig(faces=FaceConfig(threshold=0.6))


@dataclass(frozen=True)
class Releases:
    store: Path
    root: Path
    v1: IngestSummary
    v2: IngestSummary


def clip_id(name: str) -> str:
    return f"rafdb/basic/Image/original/{name}.jpg"


def write_corpus(root: Path, labels: dict[str, int]) -> None:
    images = root / "basic" / "Image" / "original"
    images.mkdir(parents=True, exist_ok=True)
    frames = face_frames(8, size=(240, 320))
    for i, name in enumerate(sorted(labels)):
        path = images / f"{name}.jpg"
        if not path.exists():
            write_image(path, np.roll(frames[i], 3 * i, axis=1))
    (root / LABELS).parent.mkdir(parents=True, exist_ok=True)
    (root / LABELS).write_text("".join(f"{n}.jpg {c}\n" for n, c in sorted(labels.items())))


def build_releases(base: Path) -> Releases:
    root, store = base / "RAF-DB", base / "store"
    options = RunOptions(batch_size=2, workers=1)
    write_corpus(root, V1_LABELS)
    v1 = ingest("rafdb", root, store, options=options)
    tag(store, "v1", message="first release")
    write_corpus(root, V2_LABELS)
    v2 = ingest("rafdb", root, store, V2_CONFIG, options=options)
    tag(store, "v2", message="train_00004 added, train_00002 relabelled, threshold 0.6")
    return Releases(store, root, v1, v2)
