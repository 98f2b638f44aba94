"""A user-supplied insightface SCRFD detector (e.g. buffalo_l's ``det_10g.onnx``), run on the CPU.

insightface is optional: it is imported lazily, only here, and only when an SCRFD detector is
loaded. Install it with ``pip install --no-deps insightface==2.1`` (``--no-deps``: its
``opencv-python`` requirement would replace the headless OpenCV build). insightface's models
are licensed for non-commercial research only; the library code is MIT.

The model bytes are read once, hashed (:attr:`ScrfdDetector.weights_sha256`) and handed to
onnxruntime, so the digest recorded is that of the weights actually run. Decoding, letterboxing
(top-left, zero padding to a square ``input_size``) and NMS (0.4) are insightface's own.
"""

from __future__ import annotations

import hashlib
import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import onnxruntime as ort

from emofeat.errors import FaceModelError
from emofeat.faces.base import (
    N_LANDMARKS,
    ORT_ERRORS,
    Detections,
    check_image,
    check_threshold,
    resolve_threads,
)

INSTALL_HINT = "pip install --no-deps insightface==2.1"

#: Output counts of SCRFD graphs that predict keypoints (3 or 5 stride levels x score/box/kps).
_KPS_OUTPUT_COUNTS = (9, 15)
#: What insightface's SCRFD set-up raises on a graph it cannot use.
_SCRFD_SETUP_ERRORS: tuple[type[Exception], ...] = (
    *ORT_ERRORS,
    AssertionError,
    KeyError,
    IndexError,
    TypeError,
)


def import_scrfd_module() -> ModuleType:
    """Import ``insightface.model_zoo.scrfd`` lazily.

    Raises
    ------
    FaceModelError
        When insightface is not installed, naming the command that installs it.
    """
    try:
        return importlib.import_module("insightface.model_zoo.scrfd")
    except ImportError as exc:
        raise FaceModelError(
            f"the scrfd detector needs insightface, which is not importable ({exc}); "
            f"install it with `{INSTALL_HINT}` or use faces.detector = 'retinaface'"
        ) from exc


def read_model(model_path: str | Path) -> bytes:
    """Read an SCRFD ONNX file.

    Raises
    ------
    FaceModelError
        When the path is missing, not a file, unreadable or empty.
    """
    path = Path(model_path).expanduser()
    if not path.is_file():
        raise FaceModelError(
            f"SCRFD model file not found: {path}; set faces.model_path to an insightface SCRFD "
            "detector .onnx (e.g. buffalo_l/det_10g.onnx)"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FaceModelError(f"cannot read SCRFD model file {path}: {exc.strerror}") from exc
    if not data:
        raise FaceModelError(f"SCRFD model file {path} is empty")
    return data


class ScrfdDetector:
    """An insightface SCRFD model with 5 keypoints, run by onnxruntime on the CPU.

    Parameters
    ----------
    model_path : str or Path
        The SCRFD ``.onnx`` file (a variant with keypoints, 9 or 15 outputs).
    input_size : int
        Side of the square network input (multiple of 32); ignored by fixed-size models.
    threads : int, optional
        onnxruntime intra-op threads (runtime knob, not hashed); default
        ``$EMOFEAT_FACE_THREADS`` or 1.

    Raises
    ------
    FaceModelError
        When insightface is missing, or the file is missing, unreadable, not an ONNX model or
        not an SCRFD detector with keypoints.
    FeatureError
        When ``threads`` is not a positive integer.
    """

    name = "scrfd"

    def __init__(self, model_path: str | Path, input_size: int = 640, *, threads: int | None = None) -> None:
        if input_size < 32 or input_size % 32:
            raise FaceModelError(f"scrfd input_size must be a positive multiple of 32, not {input_size}")
        self.model_path = str(Path(model_path).expanduser())
        self.input_size = int(input_size)
        self.threads = resolve_threads(threads)
        self.weights_sha256 = ""
        self._model: Any = None
        self._model_or_raise()  # fail at load time, not on the first frame

    def _model_or_raise(self) -> Any:
        if self._model is not None:
            return self._model
        scrfd = import_scrfd_module()
        data = read_model(self.model_path)
        digest = hashlib.sha256(data).hexdigest()
        if self.weights_sha256 and digest != self.weights_sha256:
            raise FaceModelError(
                f"SCRFD model file {self.model_path} changed since the detector was loaded "
                f"(sha256 {digest}, expected {self.weights_sha256}); restore it or reload the detector"
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        try:
            session = ort.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])
        except ORT_ERRORS as exc:
            raise FaceModelError(
                f"{self.model_path} is not a loadable ONNX model ({type(exc).__name__}: {exc}); "
                "faces.model_path must be an insightface SCRFD detector .onnx"
            ) from exc
        n_outputs = len(session.get_outputs())
        if n_outputs not in _KPS_OUTPUT_COUNTS:
            raise FaceModelError(
                f"{self.model_path} has {n_outputs} outputs; an SCRFD detector with 5 keypoints has 9 or 15 "
                "(e.g. det_10g.onnx). Models without keypoints cannot be aligned."
            )
        try:
            model = scrfd.SCRFD(model_file=self.model_path, session=session, static_shape_sessions=False)
            model.prepare(ctx_id=-1, input_size=(self.input_size, self.input_size), nms_thresh=0.4)
        except _SCRFD_SETUP_ERRORS as exc:
            raise FaceModelError(
                f"insightface cannot use {self.model_path} as an SCRFD detector: {exc}"
            ) from exc
        self.weights_sha256 = digest
        self._model = model
        return model

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
            When the model cannot be (re)loaded or fails to run.
        """
        check_image(image)
        check_threshold(threshold)
        model = self._model_or_raise()
        bgr = np.ascontiguousarray(image[:, :, ::-1])
        size = (self.input_size, self.input_size)
        try:
            det, kpss = model.detect(bgr, input_size=size, det_thresh=float(threshold))
        except ORT_ERRORS as exc:
            raise FaceModelError(f"SCRFD inference failed with {self.model_path}: {exc}") from exc
        if det is None or len(det) == 0:
            return Detections.empty()
        order = np.argsort(-det[:, 4], kind="stable")
        return Detections(
            boxes=np.ascontiguousarray(det[order, :4], dtype=np.float32),
            scores=np.ascontiguousarray(det[order, 4], dtype=np.float32),
            landmarks=np.ascontiguousarray(kpss[order].reshape(-1, N_LANDMARKS, 2), dtype=np.float32),
        )

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_model"] = None  # re-created lazily (and the file re-verified) after unpickling
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return (
            f"ScrfdDetector({self.model_path!r}, input_size={self.input_size}, threads={self.threads}, "
            f"sha256={self.weights_sha256[:12]})"
        )
