"""Face detection, primary-face choice with temporal continuity, 5 landmarks, 112x112 alignment.

Layer 3: imports only :mod:`emofeat.errors` and :mod:`emofeat.config` from emofeat.
"""

from emofeat.faces.align import ARCFACE_TEMPLATE, align_face
from emofeat.faces.base import THREADS_ENV, Detections, FaceDetector
from emofeat.faces.loader import load_detector
from emofeat.faces.retinaface import RetinaFaceDetector
from emofeat.faces.scrfd import ScrfdDetector
from emofeat.faces.track import FaceFrame, FaceTrack, FaceTracker, choose_primary, stack_track, track_faces

__all__ = [
    "ARCFACE_TEMPLATE",
    "THREADS_ENV",
    "Detections",
    "FaceDetector",
    "FaceFrame",
    "FaceTrack",
    "FaceTracker",
    "RetinaFaceDetector",
    "ScrfdDetector",
    "align_face",
    "choose_primary",
    "load_detector",
    "stack_track",
    "track_faces",
]
