"""The detector interface: :class:`Detections`, the :class:`FaceDetector` protocol and input checks.

Landmarks everywhere in this package follow insightface's 5-point order, in image coordinates:
left eye, right eye, nose tip, left mouth corner, right mouth corner ("left" = smaller x in an
upright, unmirrored image, i.e. the subject's right eye).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from onnxruntime.capi import onnxruntime_pybind11_state as _ort_state

from emofeat.errors import FeatureError

#: Environment variable read when no explicit thread count is given to a detector
#: (a runtime knob: never part of :class:`emofeat.config.FaceConfig`, never hashed).
THREADS_ENV = "EMOFEAT_FACE_THREADS"

#: The exceptions onnxruntime raises for a bad model (they derive from ``Exception`` only).
ORT_ERRORS: tuple[type[Exception], ...] = (
    _ort_state.Fail,
    _ort_state.InvalidArgument,
    _ort_state.InvalidGraph,
    _ort_state.InvalidProtobuf,
    _ort_state.NoSuchFile,
    _ort_state.NoModel,
    _ort_state.RuntimeException,
    RuntimeError,
    ValueError,
)

#: Number of 5-point landmarks.
N_LANDMARKS = 5


@dataclass(frozen=True)
class Detections:
    """The faces found in one image, sorted by descending score.

    Attributes
    ----------
    boxes : np.ndarray
        ``(N, 4)`` float32 ``x1, y1, x2, y2`` in input-image pixels.
    scores : np.ndarray
        ``(N,)`` float32 detector confidences in ``[0, 1]``.
    landmarks : np.ndarray
        ``(N, 5, 2)`` float32 ``(x, y)`` points in input-image pixels, insightface order.
    """

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    @staticmethod
    def empty() -> Detections:
        """No faces: arrays of shapes ``(0, 4)``, ``(0,)`` and ``(0, 5, 2)``, float32."""
        return Detections(
            boxes=np.zeros((0, 4), np.float32),
            scores=np.zeros((0,), np.float32),
            landmarks=np.zeros((0, N_LANDMARKS, 2), np.float32),
        )


@runtime_checkable
class FaceDetector(Protocol):
    """A face detector with 5-point landmarks.

    Implementations must be deterministic, pickle (dropping and lazily re-creating any runtime
    session) and accept any image size.

    Attributes
    ----------
    name : str
        ``"retinaface-mnet025"`` or ``"scrfd"``.
    weights_sha256 : str
        sha256 hex digest of the ONNX weight bytes actually loaded (provenance).
    """

    name: str
    weights_sha256: str

    def detect(self, image: np.ndarray, threshold: float) -> Detections:
        """Find faces in one ``(H, W, 3)`` uint8 RGB image; keep those with score >= ``threshold``."""
        ...


def check_image(image: np.ndarray) -> None:
    """Check that ``image`` is an ``(H, W, 3)`` uint8 array with ``H, W >= 1``.

    Raises
    ------
    FeatureError
        With kind ``bad_image`` otherwise.
    """
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise FeatureError(
            f"face detection needs a uint8 RGB image, got {type(image).__name__} "
            f"of dtype {getattr(image, 'dtype', None)}",
            kind="bad_image",
            stage="faces",
        )
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] < 1 or image.shape[1] < 1:
        raise FeatureError(
            f"face detection needs an (H, W, 3) RGB image, got shape {image.shape}",
            kind="bad_image",
            stage="faces",
        )


def check_threshold(threshold: float) -> None:
    """Check that a score threshold lies in ``[0, 1]``.

    Raises
    ------
    FeatureError
        With kind ``bad_threshold`` otherwise.
    """
    if not 0.0 <= float(threshold) <= 1.0:
        raise FeatureError(
            f"detection threshold must be in [0, 1], not {threshold}", kind="bad_threshold", stage="faces"
        )


def resolve_threads(threads: int | None) -> int:
    """The onnxruntime intra-op thread count: ``threads``, else ``$EMOFEAT_FACE_THREADS``, else 1.

    Raises
    ------
    FeatureError
        With kind ``bad_threads`` when the value is not a positive integer.
    """
    value: object = threads if threads is not None else os.environ.get(THREADS_ENV, "1")
    try:
        n = int(str(value))
    except ValueError:
        n = 0
    if n < 1:
        raise FeatureError(
            f"face detector threads must be a positive integer (argument or ${THREADS_ENV}), not {value!r}",
            kind="bad_threads",
            stage="faces",
        )
    return n
