"""The quality-control report's figures: plain data in, one PNG file out.

Built on :class:`matplotlib.figure.Figure` (rendered by Agg), never on pyplot's global
state, so figures can be drawn from any thread and nothing opens a window. Text that comes
from the data (clip ids, labels) is drawn literally: ``$`` does not start mathtext. Each
function returns the image's size in pixels (``width, height``): its figure size at
:data:`DPI`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from emofeat.audit.report_clips import Envelope

DPI = 100
#: Bars of a count chart; the rest are summed into one "other" bar.
MAX_BARS = 30
_FACE, _ENERGY, _WAVE = "#2a9d8f", "#e76f51", "#8d99ae"


def _save(fig: Figure, path: Path) -> tuple[int, int]:
    fig.savefig(path, dpi=DPI, format="png", metadata={"Software": None})
    width, height = fig.get_size_inches()
    return round(width * DPI), round(height * DPI)


def _note(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4", parse_math=False)


def short(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, its start replaced by an ellipsis when too long."""
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def contact_sheet(
    tiles: Sequence[tuple[str, np.ndarray | str]], path: Path, columns: int = 6
) -> tuple[int, int]:
    """A grid of face crops, each titled with its clip's name; a string draws a grey tile that
    says it (``"no face"``).

    Parameters
    ----------
    tiles : sequence of (str, numpy.ndarray or str)
        Title and ``(H, W, 3)`` uint8 RGB crop (or the note shown instead) per tile, in order.
    path : pathlib.Path
        The PNG to write.
    columns : int, default 6
        Tiles per row.

    Returns
    -------
    tuple of int
        The image's width and height in pixels.

    Raises
    ------
    ValueError
        When ``tiles`` is empty.
    OSError
        When ``path`` cannot be written.
    """
    if not tiles:
        raise ValueError("a contact sheet needs at least one tile")
    cols = max(1, min(columns, len(tiles)))
    rows = -(-len(tiles) // cols)
    fig = Figure(figsize=(1.7 * cols, 1.9 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    blank: list[tuple[str, np.ndarray | str]] = [("", "")] * (axes.size - len(tiles))
    for ax, (title, crop) in zip(axes, [*tiles, *blank], strict=True):
        ax.set_xticks([])
        ax.set_yticks([])
        if not title:
            ax.set_axis_off()
            continue
        ax.set_title(short(title, 24), fontsize=7, parse_math=False)
        if isinstance(crop, str):
            ax.set_facecolor("0.92")
            _note(ax, crop)
        else:
            ax.imshow(crop, interpolation="nearest")
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - 0.2 / rows, wspace=0.05, hspace=0.2)
    return _save(fig, path)


def timeline(
    title: str,
    envelope: Envelope | None,
    energy: tuple[np.ndarray, np.ndarray],
    face: tuple[np.ndarray, np.ndarray],
    path: Path,
    note: str | None = None,
) -> tuple[int, int]:
    """A clip's tags over time: the waveform with the energy tag (top), the face-present tag
    (bottom), on the clip's clock.

    Parameters
    ----------
    title : str
        The clip id.
    envelope : Envelope or None
        The waveform (``None``: not drawn; ``note`` says why).
    energy, face : tuple of numpy.ndarray
        ``(times, values)`` of the ``energy`` and ``face_present`` series (empty: the clip
        has no audio / no video).
    path : pathlib.Path
        The PNG to write.
    note : str, optional
        Shown where the waveform would be.

    Returns
    -------
    tuple of int
        The image's width and height in pixels.

    Raises
    ------
    OSError
        When ``path`` cannot be written.
    """
    fig = Figure(figsize=(10, 2.8), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    top.set_title(title, fontsize=9, loc="left", parse_math=False)
    if envelope is not None:
        top.fill_between(
            envelope.times, envelope.low, envelope.high, color=_WAVE, linewidth=0, label="waveform"
        )
    elif note:
        top.text(
            0.01, 0.9, note, transform=top.transAxes, fontsize=8, color="0.4", va="top", parse_math=False
        )
    energy_times, energy_values = energy
    if energy_values.size:
        top.plot(energy_times, energy_values, color=_ENERGY, linewidth=1.2, label="energy tag (0..1)")
    elif envelope is None:
        _note(top, "no audio")
    top.set_ylim(-1.05, 1.05)
    top.set_ylabel("audio", fontsize=8)
    if envelope is not None or energy_values.size:
        top.legend(loc="lower right", fontsize=7, frameon=False)
    face_times, present = face
    if present.size:
        bottom.fill_between(face_times, 0, present.astype(float), step="post", color=_FACE, linewidth=0)
        bottom.plot(face_times, present, "|", color=_FACE, markersize=6)
    else:
        _note(bottom, "no video")
    bottom.set_ylim(0, 1.1)
    bottom.set_yticks([0, 1])
    bottom.set_ylabel("face", fontsize=8)
    bottom.set_xlabel("seconds on the clip's clock", fontsize=8)
    for ax in (top, bottom):
        ax.tick_params(labelsize=7)
    return _save(fig, path)


def bar_counts(counts: Mapping[str, int], title: str, path: Path) -> tuple[int, int]:
    """Counts per category, largest first (beyond :data:`MAX_BARS`, one "other" bar).

    Raises
    ------
    OSError
        When ``path`` cannot be written.
    """
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if len(items) > MAX_BARS:
        items = [*items[: MAX_BARS - 1], ("(other)", sum(v for _, v in items[MAX_BARS - 1 :]))]
    fig = Figure(figsize=(5, 3.2), layout="constrained")
    ax = fig.subplots()
    ax.set_title(title, fontsize=9, parse_math=False)
    if items:
        names = [short(k, 16) for k, _ in items]
        ax.bar(range(len(items)), [v for _, v in items], color=_FACE)
        ax.set_xticks(range(len(items)), names, rotation=60, ha="right", fontsize=7)
        for tick in ax.get_xticklabels():
            tick.set_parse_math(False)
    else:
        _note(ax, "none")
    ax.set_ylabel("clips", fontsize=8)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return _save(fig, path)


def histogram(
    values: np.ndarray, title: str, xlabel: str, path: Path, value_range: tuple[float, float] | None = None
) -> tuple[int, int]:
    """A histogram of the finite ``values`` (a note when there are none).

    Raises
    ------
    OSError
        When ``path`` cannot be written.
    """
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    fig = Figure(figsize=(5, 3.2), layout="constrained")
    ax = fig.subplots()
    ax.set_title(f"{title} ({finite.size} clips)", fontsize=9, parse_math=False)
    if finite.size:
        ax.hist(finite, bins=min(40, max(5, int(np.sqrt(finite.size)))), range=value_range, color=_FACE)
    else:
        _note(ax, "no values")
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel("clips", fontsize=8)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return _save(fig, path)


def folds_chart(clips: Mapping[int, int], subjects: Mapping[int, int], path: Path) -> tuple[int, int]:
    """Clips and subjects per fold, side by side.

    Raises
    ------
    OSError
        When ``path`` cannot be written.
    """
    folds = sorted(set(clips) | set(subjects))
    fig = Figure(figsize=(5, 3.2), layout="constrained")
    ax = fig.subplots()
    ax.set_title("folds: clips and subjects", fontsize=9)
    if folds:
        x = np.arange(len(folds))
        ax.bar(x - 0.2, [clips.get(f, 0) for f in folds], width=0.4, color=_FACE, label="clips")
        ax.bar(x + 0.2, [subjects.get(f, 0) for f in folds], width=0.4, color=_ENERGY, label="subjects")
        ax.set_xticks(x, [str(f) for f in folds], fontsize=7)
        ax.legend(fontsize=7, frameon=False)
    else:
        _note(ax, "no folds recorded")
    ax.set_xlabel("fold", fontsize=8)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return _save(fig, path)
