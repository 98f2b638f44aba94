"""What the quality-control report reads of one clip, and no more: a few short series, one face
crop, and the source's waveform reduced to an envelope.

Every read here is bounded by design: the series read are the per-frame tags (a few bytes a
frame), one face crop is read out of the clip's ``face`` array (never the whole array), and
the waveform is decoded at a rate chosen so that no clip yields more than
:data:`MAX_SAMPLES` samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import zarr

from emofeat.errors import MediaError
from emofeat.media import load_audio
from emofeat.store import FeatureStore, layout
from emofeat.store.reader import read_series as stored_series
from emofeat.store.writer import child_array, read_array

#: The most samples one clip's waveform is decoded to (4 MB of float32 at most).
MAX_SAMPLES = 1_000_000
#: Points (bins) of a waveform envelope.
ENVELOPE_POINTS = 2000


@dataclass(frozen=True)
class Envelope:
    """A waveform reduced for plotting: the min and max of each bin, on the clip's clock.

    Attributes
    ----------
    times : numpy.ndarray
        ``(B,)`` float64, the start of each bin in seconds.
    low, high : numpy.ndarray
        ``(B,)`` float32, the smallest and largest sample of each bin, in [-1, 1].
    """

    times: np.ndarray
    low: np.ndarray
    high: np.ndarray


def _span(part: zarr.Group, key: str, row: int) -> tuple[int, int] | None:
    """Where a clip's rows of ``key`` lie in one part (``None`` when the part lacks the key)."""
    if not isinstance(part.get(key), zarr.Array):
        return None
    start, stop = read_array(part, key + layout.OFFSETS_SUFFIX, slice(row, row + 2))
    return int(start), int(stop)


def read_series(
    store: FeatureStore, clip_id: str, feature_version: str, keys: Sequence[str]
) -> dict[str, np.ndarray]:
    """The arrays ``keys`` of one ok clip, pieces joined (a key the clip lacks reads empty).

    Parameters
    ----------
    store : FeatureStore
        The pinned snapshot to read.
    clip_id : str
        An ok clip of ``feature_version``.
    feature_version : str
        The feature version to read.
    keys : sequence of str
        Names of small arrays (``face_present``, ``energy``, ``*_times``); reading ``face``
        this way reads every crop of the clip: use :func:`face_crop` for one.

    Returns
    -------
    dict of str to numpy.ndarray
        One array per key; ``(0,)`` float64 for a key no piece holds.

    Raises
    ------
    NotFoundError
        When the clip is unknown to the feature version, or it failed there.
    StoreError
        When a part or array the ledger names is missing.
    """
    pieces = store.clip_pieces(clip_id, feature_version)
    found = {key: stored_series(pieces, key) for key in keys}
    return {k: np.zeros(0) if v is None else v for k, v in found.items()}


def face_crop(
    store: FeatureStore, clip_id: str, feature_version: str, present: np.ndarray
) -> np.ndarray | None:
    """The aligned face crop of the middle frame among those where a face is present.

    Parameters
    ----------
    store, clip_id, feature_version
        As :func:`read_series`.
    present : numpy.ndarray
        The clip's ``face_present`` series (from :func:`read_series`).

    Returns
    -------
    numpy.ndarray or None
        ``(112, 112, 3)`` uint8 RGB; ``None`` when no frame has a face.

    Raises
    ------
    NotFoundError, StoreError
        As :func:`read_series`.
    """
    with_face = np.flatnonzero(np.asarray(present) > 0)
    if with_face.size == 0:
        return None
    index = int(with_face[with_face.size // 2])
    for part, row in store.clip_pieces(clip_id, feature_version):
        span = _span(part, "face", row)
        if span is None:
            continue
        start, stop = span
        if index < stop - start:
            return np.asarray(child_array(part, "face")[start + index])
        index -= stop - start
    return None


def corpus_root(store: FeatureStore, corpus: str) -> Path | None:
    """The corpus root recorded at ingestion (``None`` when the store has none for it)."""
    root = store.corpus_identity(corpus).get("root")
    return Path(root) if root else None


def waveform(path: Path, duration: float | None, points: int = ENVELOPE_POINTS) -> Envelope | None:
    """Decode ``path``'s audio at a rate that keeps it under :data:`MAX_SAMPLES` and reduce it
    to a min/max envelope of at most ``points`` bins.

    Parameters
    ----------
    path : pathlib.Path
        The clip's audio source.
    duration : float or None
        The clip's duration in seconds (chooses the decoding rate; unknown: 8 kHz).
    points : int, default ENVELOPE_POINTS
        The most bins of the envelope.

    Returns
    -------
    Envelope or None
        ``None`` when the file has no audio stream.

    Raises
    ------
    MediaError
        When the file cannot be read or decoded (missing, damaged).
    """
    seconds = duration if duration is not None and np.isfinite(duration) and duration > 0 else 0.0
    rate = 8000 if seconds == 0 else int(np.clip(MAX_SAMPLES / seconds, 200, 8000))
    audio = load_audio(path, rate)
    if audio is None:
        return None
    samples = audio.samples
    if samples.size == 0:
        raise MediaError(f"the audio of '{path}' decodes to no samples")
    size = max(1, int(np.ceil(samples.size / points)))
    bins = int(np.ceil(samples.size / size))
    padded = np.pad(samples, (0, bins * size - samples.size), mode="edge").reshape(bins, size)
    times = audio.start + np.arange(bins, dtype=np.float64) * size / rate
    return Envelope(times, padded.min(axis=1), padded.max(axis=1))
