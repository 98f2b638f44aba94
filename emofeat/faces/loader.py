"""Build the detector a :class:`~emofeat.config.FaceConfig` names."""

from __future__ import annotations

from emofeat.config import FaceConfig
from emofeat.errors import FaceModelError
from emofeat.faces.base import FaceDetector
from emofeat.faces.retinaface import RetinaFaceDetector
from emofeat.faces.scrfd import ScrfdDetector


def load_detector(config: FaceConfig, *, threads: int | None = None) -> FaceDetector:
    """Load the face detector of ``config``.

    Parameters
    ----------
    config : FaceConfig
        ``detector`` (``retinaface`` or ``scrfd``), ``model_path`` (SCRFD only) and
        ``input_size`` are used.
    threads : int, optional
        onnxruntime intra-op threads: a runtime knob, deliberately not part of ``FaceConfig``
        (never hashed). Default ``$EMOFEAT_FACE_THREADS`` or 1.

    Returns
    -------
    FaceDetector
        A picklable detector whose ``weights_sha256`` is the digest of the loaded weights.

    Raises
    ------
    FaceModelError
        When the weights are missing or unusable, or insightface is missing for ``scrfd``.
    FeatureError
        When ``threads`` is not a positive integer.
    """
    if config.detector == "retinaface":
        return RetinaFaceDetector(config.input_size, threads=threads)
    if config.detector == "scrfd":
        if not config.model_path:
            raise FaceModelError("faces.detector = 'scrfd' needs faces.model_path (an SCRFD .onnx file)")
        return ScrfdDetector(config.model_path, config.input_size, threads=threads)
    raise FaceModelError(f"unknown face detector {config.detector!r}; use 'retinaface' or 'scrfd'")
