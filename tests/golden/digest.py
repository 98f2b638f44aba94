"""Noise-robust digests of extractor outputs, and how far each part is from changing one.

A digest hashes a *view* of an output: named :class:`Part` arrays. A float part is compared
on a grid ``rel`` of its magnitude wide (``rel * floor`` near zero, ``floor`` being the part's
unit): each value ``x`` becomes the integer ``round(asinh(x / floor) / rel)``. Integer parts
are hashed exactly. Names and shapes are hashed too.

Why the grids are coarse
------------------------
A digest changes when any one value crosses a grid boundary. With ``N`` values each moved by
``e`` (relative), about ``2 * N * e / rel`` of them cross one, so ``rel`` must be far above
``N * e``; a real change that moves values by ``d`` crosses about ``N * d / rel`` boundaries,
so it is caught even when ``d`` is far below ``rel``. A grid of a few per cent therefore
ignores float noise across thousands of values yet catches systematic changes of 1e-4.

:func:`margin` makes this a property of the fixed output at hand rather than a probability:
the largest ``rho`` such that moving every value ``x`` of a part by up to
``rho * sqrt(x**2 + floor**2)`` cannot change the digest (to first order; ``asinh(x / floor)``
has slope ``1 / sqrt(x**2 + floor**2)``). Each part states the ``noise`` its values can show
across machines in the same units; when the margin exceeds it, machines cannot disagree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class Part:
    """One named array of a view.

    Attributes
    ----------
    values : np.ndarray
        Any shape; integer and bool arrays are hashed exactly, floats on the grid.
    floor : float
        The part's unit: the grid is ``rel * floor`` wide near zero, ``rel * |x|`` above it.
    rel : float
        Relative grid step.
    noise : float
        Bound on how far a value may move across machines, relative to
        ``sqrt(x**2 + floor**2)``; :func:`margin` must exceed it.
    """

    values: np.ndarray
    floor: float = 1.0
    rel: float = 0.1
    noise: float = 0.0

    @property
    def exact(self) -> bool:
        values = np.asarray(self.values)
        return bool(np.issubdtype(values.dtype, np.integer) or values.dtype == np.bool_)

    def grid(self) -> np.ndarray:
        """Grid coordinates ``asinh(x / floor) / rel``, float64."""
        return np.asarray(np.arcsinh(np.asarray(self.values, np.float64) / self.floor) / self.rel)


View = Mapping[str, Part]


def digest(view: View) -> str:
    """The first 16 hex digits of the sha256 of a view's names, shapes and gridded values.

    Raises
    ------
    ValueError
        When a float part holds NaN or infinity, or its floor or rel is not positive.
    """
    h = hashlib.sha256()
    for name in sorted(view):
        part = view[name]
        values = np.asarray(part.values)
        h.update(f"{name}:{values.shape}:".encode())
        if part.exact:
            h.update(np.ascontiguousarray(values, dtype="<i8").tobytes())
            continue
        if not (part.floor > 0 and part.rel > 0):
            raise ValueError(f"{name}: floor and rel must be > 0, not {part.floor} and {part.rel}")
        if not np.isfinite(values).all():
            raise ValueError(f"{name}: NaN or infinity cannot be digested")
        h.update(np.ascontiguousarray(np.round(part.grid()), dtype="<i8").tobytes())
    return h.hexdigest()[:16]


def margin(part: Part) -> float:
    """The largest relative move of every value that cannot change the digest of ``part``.

    ``rel`` times the smallest distance, in grid steps, from a value to a grid boundary;
    ``inf`` for exact (integer) or empty parts.
    """
    if part.exact or np.asarray(part.values).size == 0:
        return float("inf")
    grid = part.grid()
    return float(part.rel * (0.5 - np.abs(grid - np.round(grid))).min())


def perturbed(view: View, rho: float | None, seed: int) -> dict[str, Part]:
    """The view with every float value ``x`` moved by ``u * r * sqrt(x**2 + floor**2)``.

    ``u`` is uniform in [-1, 1] (seeded) and ``r`` is ``rho``, or each part's own ``noise``
    when ``rho`` is None.
    """
    rng = np.random.RandomState(seed)
    out: dict[str, Part] = {}
    for name in sorted(view):
        part = view[name]
        if part.exact:
            out[name] = part
            continue
        x = np.asarray(part.values, np.float64)
        r = part.noise if rho is None else rho
        moved = x + rng.uniform(-1.0, 1.0, x.shape) * r * np.sqrt(x**2 + part.floor**2)
        out[name] = replace(part, values=moved)
    return out
