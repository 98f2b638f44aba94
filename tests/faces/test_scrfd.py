"""The SCRFD path, run on the embedded RetinaFace rewritten into SCRFD's output contract."""

from __future__ import annotations

import hashlib
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

from emofeat.config import FaceConfig
from emofeat.errors import FaceModelError
from emofeat.faces import RetinaFaceDetector, ScrfdDetector, load_detector, track_faces
from emofeat.faces.retinaface import embedded_weights
from tests.faces.conftest import paste_heads


@pytest.fixture(scope="module")
def scrfd(scrfd_model_path: Path) -> ScrfdDetector:
    detector = load_detector(FaceConfig(detector="scrfd", model_path=str(scrfd_model_path)), threads=1)
    assert isinstance(detector, ScrfdDetector)
    return detector


def test_both_detectors_agree_on_the_astronaut(
    scrfd: ScrfdDetector, detector: RetinaFaceDetector, astronaut: np.ndarray
) -> None:
    # Square image: both letterbox it to the same 640 x 640 input, so insightface's decoder
    # must reproduce ours almost exactly.
    a, b = detector.detect(astronaut, 0.7), scrfd.detect(astronaut, 0.7)
    assert len(a) == len(b) == 1
    np.testing.assert_allclose(b.scores, a.scores, atol=1e-4)
    np.testing.assert_allclose(b.boxes, a.boxes, atol=0.05)
    np.testing.assert_allclose(b.landmarks, a.landmarks, atol=0.05)
    assert b.boxes.dtype == b.scores.dtype == b.landmarks.dtype == np.float32


def test_both_detectors_agree_on_small_faces(
    scrfd: ScrfdDetector, detector: RetinaFaceDetector, astronaut: np.ndarray
) -> None:
    image = paste_heads(astronaut, [(50, 60, 0.3), (300, 200, 0.45)], (640, 640))  # stride-8/16 priors
    a, b = detector.detect(image, 0.7), scrfd.detect(image, 0.7)
    assert len(a) == len(b) == 2
    np.testing.assert_allclose(b.boxes, a.boxes, atol=0.05)
    np.testing.assert_allclose(b.landmarks, a.landmarks, atol=0.05)


def test_both_detectors_agree_on_a_portrait_crop(
    scrfd: ScrfdDetector, detector: RetinaFaceDetector, astronaut: np.ndarray
) -> None:
    # 480 x 320: SCRFD pads to a 640 square, we pad to 640 x 448; the network sees different
    # padding, hence a small tolerance.
    image = np.ascontiguousarray(astronaut[:480, 64:384])
    a, b = detector.detect(image, 0.7), scrfd.detect(image, 0.7)
    assert len(a) == len(b) == 1
    np.testing.assert_allclose(b.boxes, a.boxes, atol=2.5)
    np.testing.assert_allclose(b.landmarks, a.landmarks, atol=2.5)


def test_scrfd_no_face_and_track(scrfd: ScrfdDetector, astronaut: np.ndarray) -> None:
    assert len(scrfd.detect(np.zeros((100, 200, 3), np.uint8), 0.7)) == 0
    track = track_faces(np.stack([astronaut, np.zeros_like(astronaut)]), scrfd, FaceConfig())
    assert track.present.tolist() == [1, 0]


def test_scrfd_digest_and_pickle(scrfd: ScrfdDetector, scrfd_model_path: Path, astronaut: np.ndarray) -> None:
    assert scrfd.weights_sha256 == hashlib.sha256(scrfd_model_path.read_bytes()).hexdigest()
    assert scrfd.name == "scrfd"
    clone = pickle.loads(pickle.dumps(scrfd))
    assert clone.weights_sha256 == scrfd.weights_sha256
    np.testing.assert_array_equal(
        clone.detect(astronaut, 0.7).landmarks, scrfd.detect(astronaut, 0.7).landmarks
    )


def test_scrfd_refuses_a_changed_file(scrfd_model_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "det.onnx"
    path.write_bytes(scrfd_model_path.read_bytes())
    detector = ScrfdDetector(path, threads=1)
    blob = pickle.dumps(detector)
    path.write_bytes(scrfd_model_path.read_bytes() + b"\0")
    with pytest.raises(FaceModelError, match="changed"):
        pickle.loads(blob).detect(np.zeros((32, 32, 3), np.uint8), 0.7)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FaceModelError, match="not found") as info:
        load_detector(FaceConfig(detector="scrfd", model_path=str(tmp_path / "det_10g.onnx")))
    assert info.value.kind == "face_model"
    with pytest.raises(FaceModelError, match="not found"):
        ScrfdDetector(tmp_path)  # a directory


@pytest.mark.parametrize("content", [b"", b"this is not an onnx model at all" * 10])
def test_garbage_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "det_10g.onnx"
    path.write_bytes(content)
    with pytest.raises(FaceModelError, match=r"empty|not a loadable ONNX model"):
        ScrfdDetector(path)


def test_onnx_that_is_not_an_scrfd_detector(tmp_path: Path) -> None:
    path = tmp_path / "retinaface.onnx"
    path.write_bytes(embedded_weights())  # 3 outputs, not SCRFD's 9 or 15
    with pytest.raises(FaceModelError, match="has 3 outputs"):
        ScrfdDetector(path)


def test_missing_insightface_names_the_extra(monkeypatch: pytest.MonkeyPatch, scrfd_model_path: Path) -> None:
    # A None entry in sys.modules makes that import raise ImportError, as if not installed.
    monkeypatch.setitem(sys.modules, "insightface.model_zoo.scrfd", None)
    with pytest.raises(FaceModelError, match=r"pip install --no-deps insightface==2\.1"):
        ScrfdDetector(scrfd_model_path)


def test_bad_input_size(scrfd_model_path: Path) -> None:
    with pytest.raises(FaceModelError, match="multiple of 32"):
        ScrfdDetector(scrfd_model_path, input_size=100)
