"""Training-time augmentations: seeded by an explicit generator only, switchable, exact when off,
and geometrically right (a dot rotates where it should, a crop shows the region it names)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from emofeat.data.augment import Augment, FaceAugment, SpecAugment, _affine, _warp, item_rng
from emofeat.errors import ConfigError


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def faces(*lead: int, dtype: torch.dtype = torch.uint8, size: int = 16) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    x = torch.randint(0, 256, (*lead, 3, size, size), generator=g, dtype=torch.uint8)
    return x if dtype == torch.uint8 else x.to(dtype) / 255


def quadrants(size: int = 16) -> torch.Tensor:
    """A (3, size, size) uint8 picture of four colours, one per quadrant."""
    colours = torch.tensor(
        [[[200, 10, 10], [10, 200, 10]], [[10, 10, 200], [200, 200, 10]]], dtype=torch.uint8
    )
    half = size // 2
    return colours.repeat_interleave(half, 0).repeat_interleave(half, 1).permute(2, 0, 1).contiguous()


def centroid(picture: torch.Tensor) -> tuple[float, float]:
    """Row and column of the intensity centroid of a (H, W) picture."""
    rows, cols = torch.meshgrid(
        torch.arange(picture.shape[0], dtype=torch.float64),
        torch.arange(picture.shape[1], dtype=torch.float64),
        indexing="ij",
    )
    p = picture.to(torch.float64)
    return float((p * rows).sum() / p.sum()), float((p * cols).sum() / p.sum())


@pytest.mark.parametrize("step", [FaceAugment(), FaceAugment(per_frame=True)])
def test_face_augment_is_reproducible_and_pure(step: FaceAugment) -> None:
    x = faces(4)
    before = x.clone()
    a, b = step(x, rng(3)), step(x, rng(3))
    assert torch.equal(a, b)  # same generator state: bit-identical
    assert not torch.equal(a, step(x, rng(4)))
    assert torch.equal(x, before)  # the input is not modified


def test_face_augment_uses_only_the_given_generator() -> None:
    x = faces(2)
    torch.manual_seed(0)
    np.random.seed(0)
    a = FaceAugment()(x, rng(5))
    torch.manual_seed(1)
    np.random.seed(1)
    assert torch.equal(a, FaceAugment()(x, rng(5)))


def test_flip_only_is_exact_and_all_off_is_the_identity() -> None:
    x = faces(3)
    assert torch.equal(FaceAugment(crop=1.0, flip=1.0, rotate=0.0)(x, rng()), torch.flip(x, [-1]))
    off = FaceAugment(crop=1.0, flip=0.0, rotate=0.0)(x, rng())
    assert torch.equal(off, x)
    assert off is not x


@pytest.mark.parametrize("lead", [(), (5,), (2, 3)])
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_face_augment_keeps_shape_and_dtype(lead: tuple[int, ...], dtype: torch.dtype) -> None:
    x = faces(*lead, dtype=dtype)
    y = FaceAugment(crop=0.8, flip=0.5, rotate=15.0)(x, rng(1))
    assert y.shape == x.shape
    assert y.dtype == dtype
    assert not torch.equal(y, x)


@pytest.mark.parametrize(("size", "angle"), [((21, 21), 90.0), ((21, 21), 30.0), ((20, 30), -40.0)])
def test_a_dot_rotates_counter_clockwise_about_the_centre(size: tuple[int, int], angle: float) -> None:
    h, w = size
    picture = torch.zeros(1, 1, h, w)
    row, col = 4, w - 7
    picture[0, 0, row, col] = 1.0
    out = _warp(picture, torch.from_numpy(_affine(np.array([angle]), 1.0, np.zeros((1, 2)), size)))[0, 0]
    # Pixel centres about the picture's centre, x right and y down; counter-clockwise as displayed.
    x, y = col + 0.5 - w / 2, row + 0.5 - h / 2
    t = math.radians(angle)
    expected = (
        -math.sin(t) * x + math.cos(t) * y + h / 2 - 0.5,
        math.cos(t) * x + math.sin(t) * y + w / 2 - 0.5,
    )
    assert centroid(out) == pytest.approx(expected, abs=1.0)
    assert np.hypot(*np.subtract(centroid(out), expected)) < 0.5


def test_random_rotation_keeps_a_dot_on_its_circle_within_the_range() -> None:
    picture = torch.zeros(3, 31, 31)
    picture[:, 5, 20] = 1.0
    start = math.atan2(5 - 15, 20 - 15)
    angles = []
    for seed in range(6):
        out = FaceAugment(crop=1.0, flip=0.0, rotate=30.0)(picture, rng(seed))[0]
        r, c = centroid(out)
        assert math.hypot(r - 15, c - 15) == pytest.approx(math.hypot(10, 5), abs=0.5)
        angles.append(math.degrees(start - math.atan2(r - 15, c - 15)))
    assert all(abs(a) <= 30.5 for a in angles)
    assert min(angles) < -5
    assert max(angles) > 5  # both ways: uniform in [-rotate, rotate]


def test_uncovered_corners_repeat_the_edge() -> None:
    grey = torch.full((1, 3, 16, 16), 77, dtype=torch.uint8)
    theta = torch.from_numpy(_affine(np.array([45.0]), 1.0, np.zeros((1, 2)), (16, 16)))
    assert torch.equal(_warp(grey, theta), grey)  # border padding: no black wedges


@pytest.mark.parametrize(("offset", "colour"), [((0, 0), 0), ((0, 8), 1), ((8, 0), 2), ((8, 8), 3)])
def test_a_crop_at_a_known_offset_shows_that_region(offset: tuple[int, int], colour: int) -> None:
    picture = quadrants(16)
    expected = picture[:, offset[0], offset[1]]
    theta = torch.from_numpy(_affine(np.zeros(1), 0.5, np.array([offset]), (16, 16)))
    out = _warp(picture[None], theta)[0]
    # Away from the crop's inner edges (where bilinear sampling meets the next quadrant): one colour.
    inner = out[:, 1:-1, 1:-1]
    assert torch.equal(inner, expected[:, None, None].expand_as(inner))
    # Inside the picture the warp equals slicing and resizing.
    top, left = offset
    resized = F.interpolate(
        picture[None, :, top : top + 8, left : left + 8].float(),
        size=(16, 16),
        mode="bilinear",
        align_corners=False,
    )
    assert torch.equal(inner, resized.round().to(torch.uint8)[0, :, 1:-1, 1:-1])


def test_a_random_crop_zooms_into_the_picture() -> None:
    picture = quadrants(16)
    colours = {tuple(c) for c in picture.reshape(3, -1).T.tolist()}
    for seed in range(4):
        out = FaceAugment(crop=0.5, flip=0.0, rotate=0.0)(picture, rng(seed))
        assert not torch.equal(out, picture)
        pixels = [tuple(c) for c in out.reshape(3, -1).T.tolist()]
        exact = sum(p in colours for p in pixels)
        assert exact >= 0.75 * len(pixels)  # a zoom: mostly the input's colours, blended only at seams


def test_a_clip_shares_its_parameters_unless_per_frame() -> None:
    clip = faces(1).expand(6, 3, 16, 16).contiguous()  # one frame repeated
    same = FaceAugment(crop=0.7, flip=0.5, rotate=20.0)(clip, rng(2))
    assert all(torch.equal(same[0], frame) for frame in same)
    assert not torch.equal(same[0], clip[0])
    each = FaceAugment(crop=0.7, flip=0.5, rotate=20.0, per_frame=True)(clip, rng(2))
    assert len({frame.numpy().tobytes() for frame in each}) == 6


def test_face_augment_handles_an_empty_clip() -> None:
    x = faces(0)
    assert FaceAugment()(x, rng()).shape == x.shape


def spectrogram(t: int = 100, f: int = 40) -> torch.Tensor:
    return torch.randn(t, f, generator=torch.Generator().manual_seed(0)) + 5.0


def test_spec_augment_masks_whole_rows_and_columns() -> None:
    x = spectrogram()
    before = x.clone()
    step = SpecAugment(time_masks=2, time_width=20, freq_masks=2, freq_width=8, value=-100.0)
    y = step(x, rng(7))
    assert torch.equal(x, before)
    masked = y == -100.0
    rows = masked.all(dim=1)
    cols = masked.all(dim=0)
    assert torch.equal(masked, rows[:, None] | cols[None, :])  # only whole time rows and freq columns
    assert 0 < int(rows.sum()) <= 40
    assert 0 < int(cols.sum()) <= 16
    assert torch.equal(y[~masked], x[~masked])
    assert torch.equal(y, step(x, rng(7)))
    assert not torch.equal(y, step(x, rng(8)))


def test_spec_augment_mask_widths_stay_within_bounds() -> None:
    x = spectrogram(50, 30)
    widths = set()
    for seed in range(40):
        y = SpecAugment(time_masks=1, time_width=6, freq_masks=0, value=-100.0)(x, rng(seed))
        rows = (y == -100.0).all(dim=1)
        widths.add(int(rows.sum()))
        assert not (y == -100.0).all(dim=0).any()  # no frequency masks asked for
    assert widths <= set(range(7))
    assert len(widths) > 3  # the width is drawn


def test_zero_widths_or_counts_are_the_identity() -> None:
    x = spectrogram()
    assert torch.equal(SpecAugment(time_width=0, freq_width=0)(x, rng()), x)
    assert torch.equal(SpecAugment(time_masks=0, freq_masks=0)(x, rng()), x)


def test_a_spectrogram_shorter_than_the_mask_is_handled() -> None:
    x = spectrogram(3, 4)
    y = SpecAugment(time_masks=3, time_width=20, freq_masks=3, freq_width=8, value=0.0)(x, rng(1))
    assert y.shape == x.shape
    empty = spectrogram(0, 4)
    assert SpecAugment()(empty, rng()).shape == (0, 4)


def test_the_default_fill_is_the_mean() -> None:
    x = spectrogram()
    y = SpecAugment(time_masks=1, time_width=30, freq_masks=0)(x, rng(1))
    changed = y != x
    assert changed.any()
    assert torch.allclose(y[changed], x.mean().expand(int(changed.sum())))


def test_time_frequency_channel_layout_with_axes() -> None:
    x = torch.randn(60, 64, 3, generator=torch.Generator().manual_seed(2))
    x[..., 0] += 10.0  # the static channel far from the deltas
    y = SpecAugment(value=None, time_axis=-3, freq_axis=-2)(x, rng(3))
    changed = (y != x).any(dim=2)  # (T, F)
    rows, cols = changed.all(dim=1), changed.all(dim=0)
    assert rows.any()
    assert cols.any()
    assert torch.equal(changed, rows[:, None] | cols[None, :])
    for c in range(3):  # each channel is filled with its own mean
        assert torch.allclose(y[changed][:, c], x[..., c].mean().expand(int(changed.sum())))


def test_augment_off_is_the_identity() -> None:
    item = {"face": faces(4), "logmel": spectrogram(), "label": 3}
    out = Augment()(item, rng())
    assert out is not item
    assert all(out[k] is item[k] for k in item)


def test_augment_changes_only_the_keys_it_is_told() -> None:
    item: dict[str, Any] = {
        "face": faces(4),
        "logmel": spectrogram(),
        "mfcc": spectrogram(50, 13),
        "label": 3,
        "faces2": faces(1),
    }
    out = Augment(face=FaceAugment())(item, rng(1))
    assert not torch.equal(out["face"], item["face"])
    assert all(out[k] is item[k] for k in ("logmel", "mfcc", "label", "faces2"))
    both = Augment(face=FaceAugment(), spectrogram=SpecAugment(value=-100.0))(item, rng(1))
    assert torch.equal(both["face"], out["face"])  # switching spectrograms on leaves the faces' draws
    assert (both["logmel"] == -100.0).any()
    assert (both["mfcc"] == -100.0).any()
    assert both["faces2"] is item["faces2"]


def test_augment_lays_out_three_dimensional_spectrograms_as_time_frequency_channel() -> None:
    x = torch.randn(60, 64, 3, generator=torch.Generator().manual_seed(2))
    y = Augment(spectrogram=SpecAugment(value=-100.0))({"logmel": x}, rng(4))["logmel"]
    masked = (y == -100.0).all(dim=2)
    assert torch.equal((y == -100.0), masked[..., None].expand_as(y))  # every channel of a (t, f) cell
    rows, cols = masked.all(dim=1), masked.all(dim=0)
    assert 0 < int(rows.sum()) <= 40  # time masks along axis 0
    assert 0 < int(cols.sum()) <= 16  # frequency masks along axis 1
    assert torch.equal(masked, rows[:, None] | cols[None, :])


def test_augment_skips_absent_keys_and_refuses_bad_values() -> None:
    step = Augment(face=FaceAugment(), spectrogram=SpecAugment())
    assert step({"label": 1, "face": None}, rng()) == {"label": 1, "face": None}
    with pytest.raises(ConfigError, match=r"not a torch\.Tensor"):
        step({"face": np.zeros((3, 8, 8), dtype=np.uint8)}, rng())
    with pytest.raises(ConfigError, match=r"\(T, F\)"):
        step({"mfcc": torch.zeros(2, 3, 4, 5)}, rng())


def test_item_rng_depends_on_seed_epoch_and_index_only() -> None:
    def draw(*args: int) -> list[int]:
        return item_rng(*args).integers(0, 2**32, size=4).tolist()

    assert draw(1, 2, 3) == draw(1, 2, 3)
    assert len({tuple(draw(*args)) for args in [(1, 2, 3), (0, 2, 3), (1, 0, 3), (1, 2, 0), (3, 2, 1)]}) == 5
    with pytest.raises(ConfigError, match="non-negative"):
        item_rng(-1, 0, 0)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: FaceAugment(crop=0.0), "crop"),
        (lambda: FaceAugment(crop=1.5), "crop"),
        (lambda: FaceAugment(flip=-0.1), "flip"),
        (lambda: FaceAugment(flip=1.1), "flip"),
        (lambda: FaceAugment(rotate=-1.0), "rotate"),
        (lambda: FaceAugment(rotate=math.inf), "rotate"),
        (lambda: SpecAugment(time_masks=-1), "time_masks"),
        (lambda: SpecAugment(freq_width=2.5), "freq_width"),  # type: ignore[arg-type]
        (lambda: SpecAugment(time_width=True), "time_width"),
        (lambda: SpecAugment(time_axis=-1), "both"),
    ],
)
def test_bad_options_raise_config_error(make: object, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        make()  # type: ignore[operator]


def test_bad_inputs_raise_config_error() -> None:
    with pytest.raises(ConfigError, match="uint8 or float"):
        FaceAugment()(torch.zeros(3, 8, 8, dtype=torch.int32), rng())
    with pytest.raises(ConfigError, match="uint8 or float"):
        FaceAugment()(torch.zeros(8, 8), rng())
    with pytest.raises(ConfigError, match="floating point"):
        SpecAugment()(torch.zeros(8, 8, dtype=torch.int64), rng())
    with pytest.raises(ConfigError, match="do not fit"):
        SpecAugment(time_axis=-3)(torch.zeros(8, 8), rng())
