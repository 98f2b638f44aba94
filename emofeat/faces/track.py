"""Per-frame primary-face choice with temporal continuity, and the aligned face track of a clip.

The primary-face rule (:func:`choose_primary`), for the detections of one frame:

1. No detection above the threshold: no face in this frame (the previous choice is kept as
   the reference for later frames).
2. *Eligible* detections are those whose box area is at least :data:`MIN_AREA_RATIO` (0.5) of
   the largest box in the frame; a face much smaller than the largest is never chosen.
3. Without a previous choice (first frame with a face), the largest box wins.
4. With a previous choice, the eligible detection with the highest IoU with the previous box
   wins, if that IoU is at least :data:`MIN_IOU` (0.1). Else the eligible detection whose centre
   is nearest the previous centre wins, if it lies within one previous-box diagonal. Else the
   largest box wins (the tracked face is gone or shrank to less than half the largest).

Ties are broken by the detector's order (descending score).

A tracker following one *side* of the frame (``side="left"`` or ``"right"``: one of two
people, as Aff-Wild2's ``_left`` / ``_right`` annotations name them) first keeps only the
detections whose box centre lies in that half of the frame: ``(x1 + x2) / 2 < W / 2`` for
left, ``>= W / 2`` for right (``W`` the frame width in pixels). The rule above then applies
to those alone (the largest, eligibility and continuity all among that half's faces); no
detection in that half is no face in this frame, even when the other half has one. Without
a side (``None``) every detection is a candidate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emofeat.config import FaceConfig
from emofeat.errors import FeatureError
from emofeat.faces.align import align_face, template_for
from emofeat.faces.base import N_LANDMARKS, Detections, FaceDetector
from emofeat.faces.geometry import box_area, iou

#: An eligible face has at least this fraction of the largest face's box area.
MIN_AREA_RATIO = 0.5
#: The IoU with the previous box at which continuity by overlap applies.
MIN_IOU = 0.1
#: The halves of the frame a tracker can follow (``None``: the whole frame).
SIDES = ("left", "right")


@dataclass(frozen=True)
class FaceTrack:
    """The primary face of every frame of a clip.

    Attributes
    ----------
    crops : np.ndarray
        ``(T, S, S, 3)`` uint8 RGB aligned crops (``S = FaceConfig.crop_size``, 112 by default);
        all zeros where no face.
    present : np.ndarray
        ``(T,)`` uint8, 1 where a face was found, else 0.
    scores : np.ndarray
        ``(T,)`` float32 detector score, 0 where no face.
    boxes : np.ndarray
        ``(T, 4)`` float32 ``x1, y1, x2, y2`` frame pixels, 0 where no face.
    landmarks : np.ndarray
        ``(T, 5, 2)`` float32 frame pixels (insightface order), 0 where no face.
    """

    crops: np.ndarray
    present: np.ndarray
    scores: np.ndarray
    boxes: np.ndarray
    landmarks: np.ndarray

    def __len__(self) -> int:
        return int(self.present.shape[0])


def choose_primary(detections: Detections, previous_box: np.ndarray | None) -> int | None:
    """Index of the primary face among one frame's detections (rule in the module docstring).

    Parameters
    ----------
    detections : Detections
        The frame's detections, by descending score.
    previous_box : np.ndarray or None
        ``(4,)`` box of the face chosen in an earlier frame, or None.

    Returns
    -------
    int or None
        Index into ``detections``, or None when there is none.
    """
    if len(detections) == 0:
        return None
    areas = box_area(detections.boxes)
    largest = int(np.argmax(areas))  # first of equals = highest score
    if previous_box is None:
        return largest
    eligible = np.flatnonzero(areas >= MIN_AREA_RATIO * areas[largest])
    overlaps = iou(previous_box, detections.boxes[eligible])
    best = int(np.argmax(overlaps))
    if overlaps[best] >= MIN_IOU:
        return int(eligible[best])
    prev_centre = (previous_box[:2] + previous_box[2:4]) / 2.0
    centres = (detections.boxes[eligible, :2] + detections.boxes[eligible, 2:4]) / 2.0
    distances = np.hypot(*(centres - prev_centre).T)
    nearest = int(np.argmin(distances))
    diagonal = float(np.hypot(*(previous_box[2:4] - previous_box[:2])))
    if distances[nearest] <= diagonal:
        return int(eligible[nearest])
    return largest


def kept(found: Detections, keep: np.ndarray) -> Detections:
    """The detections where the ``(N,)`` bool ``keep`` is true, in their order."""
    if keep.all():
        return found
    return Detections(boxes=found.boxes[keep], scores=found.scores[keep], landmarks=found.landmarks[keep])


def large_enough(found: Detections, min_size: float) -> Detections:
    """The detections whose box is at least ``min_size`` pixels wide and high."""
    sides = np.minimum(found.boxes[:, 2] - found.boxes[:, 0], found.boxes[:, 3] - found.boxes[:, 1])
    return kept(found, sides >= min_size)


def check_side(side: str | None) -> None:
    """Raise unless ``side`` is ``None`` or one of :data:`SIDES`.

    Raises
    ------
    FeatureError
        Kind ``bad_side``.
    """
    if side is not None and side not in SIDES:
        raise FeatureError(
            f"face tracking side must be one of {', '.join(map(repr, SIDES))} or None, not {side!r}",
            kind="bad_side",
            stage="faces",
        )


def on_side(found: Detections, side: str | None, width: int) -> Detections:
    """The detections whose box centre lies in the ``side`` half of a frame ``width`` pixels
    wide (module docstring); all of them when ``side`` is ``None``."""
    if side is None:
        return found
    centres = (found.boxes[:, 0] + found.boxes[:, 2]) / 2.0
    left = centres < width / 2.0
    return kept(found, left if side == "left" else ~left)


def check_rgb(value: object, ndim: int, need: str) -> None:
    """Raise unless ``value`` is a uint8 array of ``ndim`` dimensions with 3 channels last.

    Raises
    ------
    FeatureError
        Kind ``bad_image``, starting with ``need``.
    """
    if not (
        isinstance(value, np.ndarray)
        and value.dtype == np.uint8
        and value.ndim == ndim
        and value.shape[-1] == 3
    ):
        raise FeatureError(
            f"{need}, got {type(value).__name__} "
            f"shape {getattr(value, 'shape', None)} dtype {getattr(value, 'dtype', None)}",
            kind="bad_image",
            stage="faces",
        )


@dataclass(frozen=True)
class FaceFrame:
    """The primary face of one frame: crop ``(S, S, 3)`` uint8, present 0/1, score, box
    ``(4,)`` and landmarks ``(5, 2)`` (zeros where no face)."""

    crop: np.ndarray
    present: int
    score: float
    box: np.ndarray
    landmarks: np.ndarray


class FaceTracker:
    """Frame-by-frame primary-face tracking: detect, keep one side, choose (module rule), align.

    Holds only the previous frame's box, so a clip of any length streams through it.

    Parameters
    ----------
    detector : FaceDetector
        From :func:`emofeat.faces.load_detector`.
    config : FaceConfig
        ``threshold``, ``min_size`` and ``crop_size`` are used.
    side : str or None
        ``"left"`` or ``"right"``: follow only faces whose box centre lies in that half of the
        frame (one of two people, e.g. ``ClipRecord.person``); ``None`` (default): any face.

    Raises
    ------
    FeatureError
        When the crop size is invalid (kind ``bad_crop_size``) or ``side`` is not ``None``,
        ``"left"`` or ``"right"`` (kind ``bad_side``).
    """

    def __init__(self, detector: FaceDetector, config: FaceConfig, side: str | None = None) -> None:
        template_for(config.crop_size)  # validate the crop size even when no frame has a face
        check_side(side)
        self._detector = detector
        self._config = config
        self._side = side
        self._previous: np.ndarray | None = None

    def push(self, image: np.ndarray) -> FaceFrame:
        """Track one ``(H, W, 3)`` uint8 RGB frame.

        Raises
        ------
        FeatureError
            When ``image`` is not an ``(H, W, 3)`` uint8 array (kind ``bad_image``).
        FaceModelError
            When the detector's model cannot be (re)loaded.
        """
        check_rgb(image, 3, "face tracking needs (H, W, 3) uint8 RGB frames")
        cfg = self._config
        found = large_enough(self._detector.detect(image, cfg.threshold), cfg.min_size)
        found = on_side(found, self._side, image.shape[1])
        index = choose_primary(found, self._previous)
        if index is None:
            size = cfg.crop_size
            return FaceFrame(
                np.zeros((size, size, 3), np.uint8),
                0,
                0.0,
                np.zeros(4, np.float32),
                np.zeros((N_LANDMARKS, 2), np.float32),
            )
        self._previous = found.boxes[index]
        return FaceFrame(
            align_face(image, found.landmarks[index], cfg.crop_size),
            1,
            float(found.scores[index]),
            found.boxes[index].astype(np.float32),
            found.landmarks[index].astype(np.float32),
        )


def stack_track(frames: list[FaceFrame], crop_size: int) -> FaceTrack:
    """The :class:`FaceTrack` of consecutive tracked frames (``frames`` may be empty)."""
    n = len(frames)
    return FaceTrack(
        crops=np.stack([f.crop for f in frames]) if n else np.zeros((0, crop_size, crop_size, 3), np.uint8),
        present=np.asarray([f.present for f in frames], np.uint8),
        scores=np.asarray([f.score for f in frames], np.float32),
        boxes=np.stack([f.box for f in frames]).astype(np.float32) if n else np.zeros((0, 4), np.float32),
        landmarks=(
            np.stack([f.landmarks for f in frames]).astype(np.float32)
            if n
            else np.zeros((0, N_LANDMARKS, 2), np.float32)
        ),
    )


def track_faces(
    images: np.ndarray, detector: FaceDetector, config: FaceConfig, side: str | None = None
) -> FaceTrack:
    """Detect, choose and align the primary face in every frame (a :class:`FaceTracker` run
    over a stacked clip).

    Parameters
    ----------
    images : np.ndarray
        ``(T, H, W, 3)`` uint8 RGB frames (``T`` may be 0).
    detector : FaceDetector
        From :func:`emofeat.faces.load_detector`.
    config : FaceConfig
        ``threshold`` (minimum score), ``min_size`` (minimum box side, source pixels) and
        ``crop_size`` are used.
    side : str or None
        ``"left"`` or ``"right"``: follow only faces centred in that half of the frame;
        ``None`` (default): any face (see the module docstring).

    Returns
    -------
    FaceTrack
        Crops ``(T, S, S, 3)`` uint8, present ``(T,)`` uint8, scores ``(T,)`` float32, boxes
        ``(T, 4)`` float32, landmarks ``(T, 5, 2)`` float32; zeros where no face.

    Raises
    ------
    FeatureError
        When ``images`` is not a ``(T, H, W, 3)`` uint8 array (kind ``bad_image``), the crop
        size is invalid (``bad_crop_size``) or ``side`` is not ``None``, ``"left"`` or
        ``"right"`` (``bad_side``).
    FaceModelError
        When the detector's model cannot be (re)loaded.
    """
    check_rgb(images, 4, "track_faces needs (T, H, W, 3) uint8 RGB frames")
    tracker = FaceTracker(detector, config, side)
    return stack_track([tracker.push(image) for image in images], config.crop_size)
