"""5-point face alignment to the ArcFace template (insightface's ``norm_crop``), without insightface.

A similarity transform (rotation, uniform scale, translation) is fitted by least squares
(Umeyama's closed form, as ``skimage.transform.SimilarityTransform.estimate`` does) from the
five landmarks to the ArcFace 112x112 template, scaled for other sizes, and the image is warped
with ``cv2.warpAffine`` (bilinear, zero border). Since the transform follows the landmarks, a
rotated face comes out upright.
"""

from __future__ import annotations

import cv2
import numpy as np

from emofeat.errors import FeatureError
from emofeat.faces.base import N_LANDMARKS, check_image

#: insightface's ``arcface_dst``: left eye, right eye, nose, left and right mouth corners in a
#: 112x112 crop, ``(5, 2)`` float32 ``(x, y)``.
ARCFACE_TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)


def template_for(size: int) -> np.ndarray:
    """The ArcFace template for a ``size x size`` crop: ``(5, 2)`` float32.

    ``size`` multiple of 112: the template scaled by ``size / 112``; multiple of 128: scaled by
    ``size / 128`` and shifted right by ``8 * size / 128`` (insightface's rule).

    Raises
    ------
    FeatureError
        With kind ``bad_crop_size`` when ``size`` is neither a multiple of 112 nor of 128.
    """
    if size > 0 and size % 112 == 0:
        return (ARCFACE_TEMPLATE * np.float32(size / 112.0)).astype(np.float32)
    if size > 0 and size % 128 == 0:
        ratio = size / 128.0
        dst = ARCFACE_TEMPLATE * np.float32(ratio)
        dst[:, 0] += np.float32(8.0 * ratio)
        return dst.astype(np.float32)
    raise FeatureError(
        f"aligned crop size must be a positive multiple of 112 or 128, not {size}",
        kind="bad_crop_size",
        stage="faces",
    )


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform mapping ``src`` points onto ``dst`` (Umeyama 1991).

    Parameters
    ----------
    src, dst : np.ndarray
        ``(N, 2)`` corresponding points, ``N >= 2``.

    Returns
    -------
    np.ndarray
        ``(2, 3)`` float64 affine matrix ``M`` with ``dst ~= M @ [x, y, 1]``. All zeros when
        ``src`` is degenerate (all points equal), which warps to an all-zero crop.
    """
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / len(src)
    u, sigma, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(cov) < 0:
        d[1] = -1.0
    rotation = u @ np.diag(d) @ vt
    src_var = src_c.var(axis=0).sum()
    if src_var <= 0:
        return np.zeros((2, 3))
    scale = float(sigma @ d) / src_var
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - scale * rotation @ src_mean
    return matrix


def align_face(image: np.ndarray, landmarks: np.ndarray, size: int = 112) -> np.ndarray:
    """Crop and align one face to the ArcFace template, like insightface's ``norm_crop``.

    Parameters
    ----------
    image : np.ndarray
        ``(H, W, 3)`` uint8 RGB.
    landmarks : np.ndarray
        ``(5, 2)`` ``(x, y)`` image pixels, insightface order (left eye, right eye, nose, left
        mouth corner, right mouth corner).
    size : int
        Crop side, a multiple of 112 or 128.

    Returns
    -------
    np.ndarray
        ``(size, size, 3)`` uint8 RGB; pixels that fall outside the image are 0.

    Raises
    ------
    FeatureError
        When the image is not ``(H, W, 3)`` uint8 (kind ``bad_image``), the landmarks are not a
        finite ``(5, 2)`` array (``bad_landmarks``) or the size is invalid (``bad_crop_size``).
    """
    check_image(image)
    points = np.asarray(landmarks, dtype=np.float64)
    if points.shape != (N_LANDMARKS, 2) or not np.isfinite(points).all():
        raise FeatureError(
            f"landmarks must be a finite (5, 2) array, got shape {points.shape}",
            kind="bad_landmarks",
            stage="faces",
        )
    matrix = similarity_transform(points, template_for(size))
    return cv2.warpAffine(np.ascontiguousarray(image), matrix, (size, size), borderValue=0.0)
