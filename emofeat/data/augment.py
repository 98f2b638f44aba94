"""Training-time augmentations: seeded, switchable, and never written to the store.

* :class:`FaceAugment` crops, flips and rotates face crops ``(..., C, H, W)``. Crop and rotation
  are one affine warp (the picture is resampled once, bilinear, ``border`` padding: corners
  that a rotation uncovers repeat the edge pixels, no black wedges a model could learn; inside
  the picture a crop equals slicing and resizing with ``interpolate(align_corners=False)``).
  The flip is exact. By default one set of parameters serves every frame of a clip, so a face
  track stays temporally consistent.
* :class:`SpecAugment` masks whole time rows and frequency columns of a spectrogram (time and
  frequency masking of SpecAugment: Park et al., "SpecAugment: A Simple Data Augmentation Method
  for Automatic Speech Recognition", Interspeech 2019; time warping is left out).
* :class:`Augment` applies them to the keys of a dataset item; ``Augment()`` is the identity.

**Randomness is per item.** Every augmentation draws only from the ``rng`` it is given, never
from a global generator; :func:`item_rng` makes it from ``(seed, epoch, item index)`` alone, so
an item's augmentation is the same whatever the number of DataLoader workers or processes, and
a resumed run sees the same augmentations again. Same generator state, bit-identical output.
Inputs are never modified in place. The store holds the features as extracted; augmentations
exist only on the way into training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from emofeat.errors import ConfigError


def item_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    """The generator of one item's augmentations: ``Generator(PCG64([seed, epoch, index]))``.

    It depends only on the seed, the epoch and the item's index, never on workers or processes.

    Raises
    ------
    ConfigError
        When an argument is negative.
    """
    if min(seed, epoch, index) < 0:
        raise ConfigError(f"seed, epoch and index must be non-negative, not {(seed, epoch, index)}")
    return np.random.Generator(np.random.PCG64([int(seed), int(epoch), int(index)]))


@dataclass(frozen=True)
class FaceAugment:
    """Random crop, horizontal flip and rotation of faces ``(..., C, H, W)``, uint8 or float.

    Parameters
    ----------
    crop : float
        Side of the crop as a fraction of the picture's (``crop * H`` by ``crop * W``, at a
        uniform random offset), resized back to ``(H, W)``; 1.0 turns cropping off.
    flip : float
        Probability of a horizontal flip; 0 turns it off.
    rotate : float
        Largest rotation in degrees about the centre (uniform in ``[-rotate, rotate]``, positive
        is counter-clockwise as displayed); 0 turns it off.
    per_frame : bool
        False: one set of parameters for all leading dimensions (a clip's frames); True: each
        frame its own.

    Every frame draws four uniforms (flip, angle, crop top, crop left) whatever is switched on,
    so switching one option off leaves the others' draws unchanged. The output has the input's
    shape and dtype (uint8 is rounded and clamped).

    Raises
    ------
    ConfigError
        When ``crop`` is not in ``(0, 1]``, ``flip`` not in ``[0, 1]`` or ``rotate`` is negative.
    """

    crop: float = 0.9
    flip: float = 0.5
    rotate: float = 10.0
    per_frame: bool = False

    def __post_init__(self) -> None:
        if not (isinstance(self.crop, Real) and 0 < self.crop <= 1):
            raise ConfigError(f"FaceAugment crop must be in (0, 1] (1 = off), not {self.crop!r}")
        if not (isinstance(self.flip, Real) and 0 <= self.flip <= 1):
            raise ConfigError(f"FaceAugment flip must be a probability in [0, 1], not {self.flip!r}")
        if not (isinstance(self.rotate, Real) and math.isfinite(self.rotate) and self.rotate >= 0):
            raise ConfigError(f"FaceAugment rotate must be degrees >= 0 (0 = off), not {self.rotate!r}")

    def __call__(self, x: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        """Augment ``x`` ``(..., C, H, W)`` with draws from ``rng``; a new tensor.

        Raises
        ------
        ConfigError
            When ``x`` has fewer than 3 dimensions or is neither uint8 nor floating point.
        """
        if x.ndim < 3 or not (x.dtype == torch.uint8 or x.dtype.is_floating_point):
            raise ConfigError(f"faces must be (..., C, H, W) uint8 or float, not {tuple(x.shape)} {x.dtype}")
        c, h, w = x.shape[-3:]
        frames = x.reshape(-1, c, h, w)
        n = frames.shape[0]
        u = rng.random((n if self.per_frame else 1, 4))
        u = np.broadcast_to(u, (n, 4))
        if frames.numel() and (self.crop < 1 or self.rotate > 0):
            angles = (2 * u[:, 1] - 1) * self.rotate
            offsets = u[:, 2:] * [(1 - self.crop) * h, (1 - self.crop) * w]
            out = _warp(frames, torch.from_numpy(_affine(angles, self.crop, offsets, (h, w))))
        else:
            out = frames.clone()
        flips = torch.from_numpy(u[:, 0] < self.flip)
        if bool(flips.any()):
            out[flips] = torch.flip(out[flips], [-1])
        return out.reshape(x.shape)


def _affine(angles: np.ndarray, crop: float, offsets: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``affine_grid`` matrices ``(n, 2, 3)``: rotate by ``angles`` (degrees, counter-clockwise
    as displayed) about the centre, then show the crop of side ``crop`` whose top-left corner is
    at ``offsets`` ``(n, 2)`` (top, left, in input pixels)."""
    h, w = size
    t = np.deg2rad(np.asarray(angles, dtype=np.float64))
    cos, sin = np.cos(t), np.sin(t)
    offsets = np.asarray(offsets, dtype=np.float64).reshape(-1, 2)
    theta = np.empty((len(t), 2, 3))
    # Input from output, in pixel units about the centre: p_in = crop * [[cos, -sin], [sin, cos]] p_out
    # + crop centre, rewritten in the [-1, 1] coordinates of affine_grid (x: width, y: height).
    theta[:, 0] = np.stack([crop * cos, -crop * sin * h / w, 2 * offsets[:, 1] / w + crop - 1], axis=-1)
    theta[:, 1] = np.stack([crop * sin * w / h, crop * cos, 2 * offsets[:, 0] / h + crop - 1], axis=-1)
    return theta


def _warp(frames: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Resample ``frames`` ``(n, C, H, W)`` through ``theta`` ``(n, 2, 3)`` once (bilinear, border)."""
    work = frames.dtype if frames.dtype in (torch.float32, torch.float64) else torch.float32
    grid = F.affine_grid(theta.to(work), list(frames.shape), align_corners=False)
    out = F.grid_sample(frames.to(work), grid, mode="bilinear", padding_mode="border", align_corners=False)
    if frames.dtype == torch.uint8:
        return out.round().clamp(0, 255).to(torch.uint8)
    return out.to(frames.dtype)


@dataclass(frozen=True)
class SpecAugment:
    """Time and frequency masking of a spectrogram (Park et al., Interspeech 2019).

    Parameters
    ----------
    time_masks, freq_masks : int
        How many masks along time and along frequency.
    time_width, freq_width : int
        Largest width of a mask: each is uniform in ``[0, width]`` (clipped to the axis's size),
        its start uniform in ``[0, size - width]``.
    value : float, optional
        The masked value; None: the input's mean over time and frequency, taken separately at
        every other index (each delta channel of ``(T, F, 3)`` its own mean).
    time_axis, freq_axis : int
        The axes of time and frequency: ``(..., T, F)`` by default, ``-3, -2`` for ``(T, F, C)``.

    Masks cover whole time rows and frequency columns and are the same across every other axis.

    Raises
    ------
    ConfigError
        When a count or width is not a non-negative int, or both axes are the same.
    """

    time_masks: int = 2
    time_width: int = 20
    freq_masks: int = 2
    freq_width: int = 8
    value: float | None = None
    time_axis: int = -2
    freq_axis: int = -1

    def __post_init__(self) -> None:
        for name in ("time_masks", "time_width", "freq_masks", "freq_width"):
            number = getattr(self, name)
            if isinstance(number, bool) or not isinstance(number, Integral) or number < 0:
                raise ConfigError(f"SpecAugment {name} must be an int >= 0, not {number!r}")
        if self.time_axis == self.freq_axis:
            raise ConfigError(f"SpecAugment time_axis and freq_axis are both {self.time_axis}")

    def __call__(self, x: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        """Mask ``x`` with draws from ``rng`` (time masks first); a new tensor.

        Raises
        ------
        ConfigError
            When ``x`` is not floating point or lacks the axes (or they name the same axis).
        """
        if not x.dtype.is_floating_point:
            raise ConfigError(f"a spectrogram to mask must be floating point, not {x.dtype}")
        n = x.ndim
        if not all(-n <= a < n for a in (self.time_axis, self.freq_axis)):
            raise ConfigError(f"axes {self.time_axis}, {self.freq_axis} do not fit a {tuple(x.shape)} tensor")
        axes = (self.time_axis % n, self.freq_axis % n)
        if axes[0] == axes[1]:
            raise ConfigError(f"axes {self.time_axis}, {self.freq_axis} are the same axis of a {n}-d tensor")
        mask = torch.zeros(x.shape, dtype=torch.bool)
        plan = ((axes[0], self.time_masks, self.time_width), (axes[1], self.freq_masks, self.freq_width))
        for axis, count, width in plan:
            size = x.shape[axis]
            line = torch.zeros(size, dtype=torch.bool)
            for _ in range(count):
                span = min(int(rng.integers(0, width + 1)), size)
                start = int(rng.integers(0, size - span + 1))
                line[start : start + span] = True
            shape = [1] * x.ndim
            shape[axis] = size
            mask |= line.reshape(shape)
        if self.value is not None:
            return x.masked_fill(mask, self.value)
        fill = x.mean(dim=axes, keepdim=True) if x.numel() else x.new_zeros(())
        return torch.where(mask, fill, x)


@dataclass(frozen=True)
class Augment:
    """The augmentations of a dataset item ``{key: tensor}``; ``Augment()`` is the identity.

    Parameters
    ----------
    face : FaceAugment, optional
        Applied to ``face_keys``; None: faces pass unchanged.
    spectrogram : SpecAugment, optional
        Applied to ``spectrogram_keys``: 2-d values are ``(T, F)``, 3-d ones ``(T, F, C)`` (log-mel
        with deltas); the item's layout sets the axes, not the SpecAugment's own.
    spectrogram_keys, face_keys : tuple of str
        The keys to augment; keys absent from an item (or None) are skipped, others untouched.

    Each listed key draws its own generator from ``rng`` (in the order face keys, spectrogram
    keys, whether present or not), so switching one augmentation off leaves the others' draws.

    Raises
    ------
    ConfigError
        On a spectrogram value that is not 2-d or 3-d, or a value that is not a tensor.
    """

    face: FaceAugment | None = None
    spectrogram: SpecAugment | None = None
    spectrogram_keys: tuple[str, ...] = ("mfcc", "logmel", "spectrogram")
    face_keys: tuple[str, ...] = ("face",)

    def __call__(self, item: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
        """A new dict: ``item`` with its face and spectrogram keys augmented."""
        out = dict(item)
        if self.face is None and self.spectrogram is None:
            return out
        keys = self.face_keys + self.spectrogram_keys
        seeds = rng.integers(0, 2**63, size=len(keys))
        for i, key in enumerate(keys):
            step = self.face if i < len(self.face_keys) else self.spectrogram
            if step is None or item.get(key) is None:
                continue
            value = item[key]
            if not isinstance(value, torch.Tensor):
                raise ConfigError(f"item[{key!r}] is a {type(value).__name__}, not a torch.Tensor")
            if isinstance(step, SpecAugment):
                if value.ndim not in (2, 3):
                    raise ConfigError(f"item[{key!r}] must be (T, F) or (T, F, C), not {tuple(value.shape)}")
                step = replace(step, time_axis=-value.ndim, freq_axis=1 - value.ndim)
            out[key] = step(value, np.random.Generator(np.random.PCG64(int(seeds[i]))))
        return out
