"""The pictures a run writes beside its metrics, drawn with Pillow (no plotting library):
the confusion matrix, predicted-vs-gold traces for regression, and the learning curve."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

_BG, _FG, _GRID = (255, 255, 255), (20, 20, 20), (220, 220, 220)
_COLOURS = ((31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189))


def confusion_png(confusion: np.ndarray, names: Sequence[str], path: Path) -> Path:
    """Rows = true class, columns = predicted; each cell shaded by its share of the row."""
    n = len(confusion)
    cell, margin = 36, 110
    image = Image.new("RGB", (margin + n * cell + 10, margin + n * cell + 10), _BG)
    draw = ImageDraw.Draw(image)
    rows = confusion.sum(axis=1, keepdims=True).clip(min=1)
    for i in range(n):
        draw.text((4, margin + i * cell + cell // 3), names[i][:14], fill=_FG)
        draw.text((margin + i * cell + 2, margin - 14 - (i % 2) * 12), names[i][:6], fill=_FG)
        for j in range(n):
            share = float(confusion[i, j] / rows[i, 0])
            shade = int(255 - 200 * share)
            box = (
                margin + j * cell,
                margin + i * cell,
                margin + (j + 1) * cell - 1,
                margin + (i + 1) * cell - 1,
            )
            draw.rectangle(box, fill=(shade, shade, 255))
            draw.text((box[0] + 4, box[1] + cell // 3), str(int(confusion[i, j])), fill=_FG)
    draw.text((margin, 4), "true (rows) x predicted (columns)", fill=_FG)
    image.save(path)
    return path


def lines_png(
    series: Mapping[str, Sequence[float]], path: Path, title: str, x: Sequence[float] | None = None
) -> Path:
    """Each series as a line on one axis (NaN points skipped)."""
    width, height, pad = 640, 360, 40
    image = Image.new("RGB", (width, height), _BG)
    draw = ImageDraw.Draw(image)
    values = np.concatenate([np.asarray(v, np.float64) for v in series.values()]) if series else np.zeros(0)
    values = values[np.isfinite(values)]
    lo, hi = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
    hi = hi if hi > lo else lo + 1.0
    longest = max((len(v) for v in series.values()), default=1)
    xs = np.asarray(x if x is not None else np.arange(longest), np.float64)
    x0, x1 = float(xs.min()) if len(xs) else 0.0, float(xs.max()) if len(xs) > 1 else 1.0
    x1 = x1 if x1 > x0 else x0 + 1.0

    def point(px: float, py: float) -> tuple[float, float]:
        return (
            pad + (px - x0) / (x1 - x0) * (width - 2 * pad),
            height - pad - (py - lo) / (hi - lo) * (height - 2 * pad),
        )

    draw.rectangle((pad, pad, width - pad, height - pad), outline=_GRID)
    draw.text((pad, 8), title, fill=_FG)
    draw.text((4, pad - 6), f"{hi:.3g}", fill=_FG)
    draw.text((4, height - pad - 6), f"{lo:.3g}", fill=_FG)
    for k, (name, ys) in enumerate(series.items()):
        colour = _COLOURS[k % len(_COLOURS)]
        pts = [point(float(xs[i]), float(y)) for i, y in enumerate(ys) if i < len(xs) and np.isfinite(y)]
        if len(pts) > 1:
            draw.line(pts, fill=colour, width=2)
        elif pts:
            draw.ellipse((pts[0][0] - 2, pts[0][1] - 2, pts[0][0] + 2, pts[0][1] + 2), fill=colour)
        draw.text((width - pad - 150, pad + 6 + 14 * k), name, fill=colour)
    image.save(path)
    return path
