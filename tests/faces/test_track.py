"""track_faces and the primary-face rule."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from emofeat.config import FaceConfig
from emofeat.errors import FeatureError
from emofeat.faces import Detections, FaceTrack, RetinaFaceDetector, choose_primary, track_faces
from emofeat.faces.geometry import box_area
from tests.faces.conftest import ncc, paste_heads, rgb


def _check_shapes(track: FaceTrack, n: int, size: int = 112) -> None:
    assert len(track) == n
    assert track.crops.shape == (n, size, size, 3)
    assert track.crops.dtype == np.uint8
    assert track.present.shape == (n,)
    assert track.present.dtype == np.uint8
    assert track.scores.shape == (n,)
    assert track.scores.dtype == np.float32
    assert track.boxes.shape == (n, 4)
    assert track.boxes.dtype == np.float32
    assert track.landmarks.shape == (n, 5, 2)
    assert track.landmarks.dtype == np.float32


def test_shifted_astronaut_track(
    detector: RetinaFaceDetector, config: FaceConfig, astronaut: np.ndarray
) -> None:
    shifts = [(0, 0), (4, 2), (9, 5), (15, 8)]
    frames = np.stack([astronaut[dy : dy + 480, dx : dx + 480] for dx, dy in shifts])
    track = track_faces(frames, detector, config)
    _check_shapes(track, len(shifts))
    assert track.present.tolist() == [1, 1, 1, 1]
    assert (track.scores > 0.9).all()
    # The face moves against the window: boxes shift by (-dx, -dy), within a couple of pixels.
    moved = track.boxes[:, :2] - track.boxes[0, :2]
    np.testing.assert_allclose(moved, -np.asarray(shifts, np.float32), atol=2.5)
    # Alignment cancels the shift: the crops are nearly the same image.
    for t in range(1, len(shifts)):
        assert ncc(track.crops[t], track.crops[0]) > 0.9


def test_no_face_frames(detector: RetinaFaceDetector, config: FaceConfig) -> None:
    photos = [rgb(getattr(data, name)()) for name in ("coffee", "gravel", "brick", "chelsea")]
    frames = np.stack([p[:300, :300] for p in photos])
    track = track_faces(frames, detector, config)
    _check_shapes(track, 4)
    assert not track.present.any()
    assert not track.crops.any()
    assert not track.scores.any()
    assert not track.boxes.any()
    assert not track.landmarks.any()


def test_mixed_frames(detector: RetinaFaceDetector, config: FaceConfig, astronaut: np.ndarray) -> None:
    blank = np.zeros_like(astronaut)
    track = track_faces(np.stack([blank, astronaut, blank]), detector, config)
    assert track.present.tolist() == [0, 1, 0]
    assert not track.crops[0].any()
    assert not track.crops[2].any()
    assert track.crops[1].any()


def test_empty_input(detector: RetinaFaceDetector, config: FaceConfig) -> None:
    track = track_faces(np.zeros((0, 48, 64, 3), np.uint8), detector, config)
    _check_shapes(track, 0)


def test_crop_size_follows_config(detector: RetinaFaceDetector, astronaut: np.ndarray) -> None:
    track = track_faces(astronaut[None], detector, FaceConfig(crop_size=224))
    _check_shapes(track, 1, 224)
    assert track.present[0] == 1
    with pytest.raises(FeatureError, match="112 or 128"):
        track_faces(np.zeros((0, 8, 8, 3), np.uint8), detector, FaceConfig(crop_size=100))


@pytest.mark.parametrize(
    "images",
    [np.zeros((2, 32, 32), np.uint8), np.zeros((2, 32, 32, 3), np.float32), np.zeros((32, 32, 3), np.uint8)],
)
def test_bad_frames(detector: RetinaFaceDetector, config: FaceConfig, images: np.ndarray) -> None:
    with pytest.raises(FeatureError) as info:
        track_faces(images, detector, config)
    assert info.value.kind == "bad_image"


def test_largest_face_is_primary(
    detector: RetinaFaceDetector, config: FaceConfig, astronaut: np.ndarray
) -> None:
    frame = paste_heads(astronaut, [(20, 150, 0.6), (300, 40, 1.5)])  # small left, large right
    found = detector.detect(frame, config.threshold)
    assert len(found) == 2
    track = track_faces(frame[None], detector, config)
    assert track.present[0] == 1
    assert track.boxes[0, 0] > 300  # the large head on the right
    assert box_area(track.boxes[:1])[0] == pytest.approx(box_area(found.boxes).max())


def test_continuity_keeps_the_tracked_face(
    detector: RetinaFaceDetector, config: FaceConfig, astronaut: np.ndarray
) -> None:
    alone = paste_heads(astronaut, [(40, 100, 1.0)])
    # A second, somewhat larger head appears on the right: the tracked (left) face is kept.
    pair = paste_heads(astronaut, [(40, 100, 1.0), (360, 90, 1.25)])
    # The left head shrinks to much less than half the other's area: switch to the largest.
    shrunk = paste_heads(astronaut, [(40, 100, 0.45), (360, 90, 1.25)])
    frames = np.stack([alone, pair, pair, shrunk])
    in_pair = detector.detect(pair, config.threshold)
    assert len(in_pair) == 2
    assert in_pair.boxes[int(np.argmax(box_area(in_pair.boxes))), 0] > 300  # largest is the right one
    track = track_faces(frames, detector, config)
    assert track.present.tolist() == [1, 1, 1, 1]
    side = ["left" if x1 < 300 else "right" for x1 in track.boxes[:, 0]]
    assert side == ["left", "left", "left", "right"]
    # Without history the pair frame alone picks the larger, right-hand face.
    assert track_faces(pair[None], detector, config).boxes[0, 0] > 300


def _dets(boxes: list[list[int]]) -> Detections:
    n = len(boxes)
    return Detections(
        boxes=np.asarray(boxes, np.float32).reshape(n, 4),
        scores=np.linspace(0.99, 0.9, n, dtype=np.float32),
        landmarks=np.zeros((n, 5, 2), np.float32),
    )


def test_choose_primary_rule() -> None:
    big, medium, small = [300, 0, 400, 100], [0, 0, 80, 80], [500, 500, 530, 530]
    assert choose_primary(Detections.empty(), None) is None
    assert choose_primary(Detections.empty(), np.array([0, 0, 10, 10], np.float32)) is None
    # No history: the largest, whatever the score order.
    assert choose_primary(_dets([small, medium, big]), None) == 2
    # History overlapping the medium face (64 % of the largest area): keep it.
    assert choose_primary(_dets([big, medium]), np.array([5, 3, 85, 83], np.float32)) == 1
    # History overlapping the small face (9 % of the largest): too small, take the largest.
    assert choose_primary(_dets([big, small]), np.array([500, 500, 530, 530], np.float32)) == 0
    # No overlap, but the medium face's centre is within one previous diagonal: keep it.
    assert choose_primary(_dets([big, medium]), np.array([60, 60, 140, 140], np.float32)) == 1
    # No overlap and far away: the largest.
    assert choose_primary(_dets([medium, big]), np.array([700, 700, 720, 720], np.float32)) == 1
    # Equal areas, no history: the first (highest score).
    assert choose_primary(_dets([[0, 0, 10, 10], [20, 0, 30, 10]]), None) == 0


def test_faces_below_min_size_are_ignored(detector: RetinaFaceDetector, astronaut: np.ndarray) -> None:
    # The astronaut's head (about 190 px wide at full size) shrunk into a 64x64 frame.
    small = np.ascontiguousarray(astronaut[::8, ::8])[None]
    found = track_faces(small, detector, FaceConfig(min_size=0.0))
    assert found.present.tolist() == [1]
    side = float(min(found.boxes[0, 2] - found.boxes[0, 0], found.boxes[0, 3] - found.boxes[0, 1]))
    ignored = track_faces(small, detector, FaceConfig(min_size=side + 1.0))
    assert ignored.present.tolist() == [0]
    assert not ignored.crops.any()
    kept = track_faces(small, detector, FaceConfig(min_size=side - 1.0))
    assert kept.present.tolist() == [1]
