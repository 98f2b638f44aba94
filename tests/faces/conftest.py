"""Shared fixtures: one detector per session, real photos from scikit-image, helper images."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from emofeat.config import FaceConfig
from emofeat.faces import RetinaFaceDetector
from emofeat.faces.retinaface import embedded_weights
from tests.faces.scrfd_model import retinaface_as_scrfd

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

#: Where the astronaut's head lies in skimage's 512x512 photo (rows, cols), hand-checked.
HEAD = (slice(20, 220), slice(130, 320))


@pytest.fixture(scope="session")
def config() -> FaceConfig:
    return FaceConfig()


@pytest.fixture(scope="session")
def detector(config: FaceConfig) -> RetinaFaceDetector:
    return RetinaFaceDetector(config.input_size, threads=1)


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    return data.astronaut()


@pytest.fixture(scope="session")
def scrfd_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scrfd") / "retinaface_as_scrfd.onnx"
    path.write_bytes(retinaface_as_scrfd(embedded_weights()))
    return path


def rgb(image: np.ndarray) -> np.ndarray:
    """Grey images to 3-channel RGB uint8."""
    return np.ascontiguousarray(np.stack([image] * 3, axis=-1) if image.ndim == 2 else image)


def paste_heads(
    astronaut: np.ndarray, placements: list[tuple[int, int, float]], shape: tuple[int, int] = (480, 640)
) -> np.ndarray:
    """A grey canvas with the astronaut's head pasted at ``(x, y)`` top-left, scaled by ``scale``."""
    canvas = np.full((*shape, 3), 90, np.uint8)
    head = astronaut[HEAD]
    for x, y, scale in placements:
        h, w = round(head.shape[0] * scale), round(head.shape[1] * scale)
        canvas[y : y + h, x : x + w] = cv2.resize(head, (w, h), interpolation=cv2.INTER_AREA)
    return canvas


def ncc(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised cross-correlation of two same-shape images (on grey levels)."""
    x = a.astype(np.float64).mean(axis=-1).ravel()
    y = b.astype(np.float64).mean(axis=-1).ravel()
    x -= x.mean()
    y -= y.mean()
    return float(x @ y / np.sqrt((x @ x) * (y @ y)))
