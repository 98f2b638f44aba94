"""track_faces and the primary-face rule."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from emofeat.config import FaceConfig
from emofeat.errors import FeatureError
from emofeat.faces import (
    Detections,
    FaceTrack,
    FaceTracker,
    RetinaFaceDetector,
    choose_primary,
    track_faces,
)
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


class ScriptedDetector:
    """A fake detector: frame ``k`` (its pixel ``[0, 0, 0]``) finds the boxes ``script[k]``,
    in the script's order (taken as descending score), with landmarks placed in each box."""

    name = "scripted"
    weights_sha256 = "0" * 64

    def __init__(self, script: list[list[list[int]]]) -> None:
        self.script = script

    def detect(self, image: np.ndarray, threshold: float) -> Detections:
        boxes = np.asarray(self.script[int(image[0, 0, 0])], np.float32).reshape(-1, 4)
        n = len(boxes)
        unit = np.array([[0.3, 0.4], [0.7, 0.4], [0.5, 0.6], [0.35, 0.8], [0.65, 0.8]], np.float32)
        landmarks = boxes[:, None, :2] + unit[None] * (boxes[:, None, 2:] - boxes[:, None, :2])
        return Detections(
            boxes=boxes, scores=np.linspace(0.99, 0.9, n, dtype=np.float32), landmarks=landmarks
        )


def _scripted_frames(n: int, width: int = 640, height: int = 480) -> np.ndarray:
    frames = np.full((n, height, width, 3), 90, np.uint8)
    frames[:, 0, 0, 0] = np.arange(n)
    return frames


# A small face on the left (120x140, centre x 120) and a large one on the right (200x220,
# centre x 480) of a 640-pixel-wide frame: the left one has 38 % of the right one's area, too
# small to be chosen at all when every face is a candidate.
LEFT, RIGHT = [60, 100, 180, 240], [380, 80, 580, 300]
LEFT_MOVED, RIGHT_MOVED = [70, 104, 190, 244], [372, 84, 572, 304]
TWO_PEOPLE = [[LEFT, RIGHT], [RIGHT_MOVED, LEFT_MOVED], [RIGHT_MOVED], [LEFT, RIGHT]]


def test_side_follows_the_face_in_its_half_of_the_frame(config: FaceConfig) -> None:
    detector = ScriptedDetector(TWO_PEOPLE)
    frames = _scripted_frames(len(TWO_PEOPLE))
    left = track_faces(frames, detector, config, side="left")
    _check_shapes(left, 4)
    # The right person alone in frame 2: no face for the left one, not the other person.
    assert left.present.tolist() == [1, 1, 0, 1]
    np.testing.assert_array_equal(left.boxes, np.asarray([LEFT, LEFT_MOVED, [0] * 4, LEFT], np.float32))
    assert not left.crops[2].any()
    assert left.scores[2] == 0.0
    assert left.crops[[0, 1, 3]].any(axis=(1, 2, 3)).all()
    right = track_faces(frames, detector, config, side="right")
    assert right.present.tolist() == [1, 1, 1, 1]
    np.testing.assert_array_equal(
        right.boxes, np.asarray([RIGHT, RIGHT_MOVED, RIGHT_MOVED, RIGHT], np.float32)
    )
    # Without a side: the larger face in every frame, which here is the right person.
    anyone = track_faces(frames, detector, config)
    np.testing.assert_array_equal(anyone.boxes, right.boxes)
    # The streaming tracker gives the same track as track_faces.
    tracker = FaceTracker(detector, config, side="left")
    streamed = [tracker.push(frame) for frame in frames]
    assert [f.present for f in streamed] == left.present.tolist()
    np.testing.assert_array_equal(np.stack([f.box for f in streamed]), left.boxes)


def test_side_applies_the_primary_rule_within_its_half(config: FaceConfig) -> None:
    small_left, big_left = [0, 0, 60, 60], [100, 100, 250, 250]  # both centred left of 320
    detector = ScriptedDetector([[small_left, RIGHT, big_left]])
    frame = _scripted_frames(1)
    assert track_faces(frame, detector, config, side="left").boxes[0].tolist() == big_left
    assert track_faces(frame, detector, config, side="right").boxes[0].tolist() == RIGHT


def test_a_box_centred_on_the_middle_belongs_to_the_right(config: FaceConfig) -> None:
    middle = [270, 100, 370, 200]  # centre x 320 = width / 2
    detector = ScriptedDetector([[middle]])
    frame = _scripted_frames(1)
    assert track_faces(frame, detector, config, side="left").present.tolist() == [0]
    assert track_faces(frame, detector, config, side="right").boxes[0].tolist() == middle
    odd = ScriptedDetector([[[0, 0, 40, 40], [41, 0, 81, 40]]])  # centres 20 and 61, width 121
    narrow = _scripted_frames(1, width=121)
    assert track_faces(narrow, odd, config, side="left").boxes[0, 0] == 0
    assert track_faces(narrow, odd, config, side="right").boxes[0, 0] == 41


@pytest.mark.parametrize("side", ["Left", "middle", "", "l"])
def test_an_invalid_side_is_a_feature_error(config: FaceConfig, side: str) -> None:
    detector = ScriptedDetector([[LEFT]])
    with pytest.raises(FeatureError, match="side must be one of 'left', 'right' or None") as info:
        FaceTracker(detector, config, side=side)
    assert info.value.kind == "bad_side"
    with pytest.raises(FeatureError) as info:
        track_faces(_scripted_frames(1), detector, config, side=side)
    assert info.value.kind == "bad_side"
