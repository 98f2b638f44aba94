"""The :class:`Series` container and the shared framing helpers of the audio layer.

Every frame-level feature is a :class:`Series`: values with time first and, for each frame,
the time of its centre in seconds on the clip's timebase (sample 0 is t = 0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.signal

from emofeat.config import AudioConfig
from emofeat.errors import FeatureError


@dataclass(frozen=True)
class Series:
    """Frame-level values with their frame-centre times.

    Attributes
    ----------
    values : np.ndarray
        Shape ``(T, ...)``, float32, time first.
    times : np.ndarray
        Shape ``(T,)``, float64, seconds: the centre of each analysis frame on the clip's timebase.

    Raises
    ------
    FeatureError
        When ``times`` is not 1-D or its length differs from ``values.shape[0]``.
    """

    values: np.ndarray
    times: np.ndarray

    def __post_init__(self) -> None:
        if self.values.ndim < 1 or self.times.ndim != 1 or self.values.shape[0] != self.times.shape[0]:
            raise FeatureError(
                f"Series values {self.values.shape} and times {self.times.shape} disagree on the frame count"
            )

    def __len__(self) -> int:
        return int(self.times.shape[0])


def as_signal(samples: np.ndarray) -> np.ndarray:
    """Check a mono signal and return it as float32.

    Parameters
    ----------
    samples : np.ndarray
        Shape ``(N,)``, any floating dtype, nominally in [-1, 1].

    Returns
    -------
    np.ndarray
        Shape ``(N,)``, float32 (no copy when the input already is float32).

    Raises
    ------
    FeatureError
        When the input is not 1-D, not floating point, or holds NaN or infinity.
    """
    arr = np.asarray(samples)
    if arr.ndim != 1:
        raise FeatureError(f"audio features need mono samples of shape (N,), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise FeatureError(
            f"audio features need floating-point samples in [-1, 1], got dtype {arr.dtype}; "
            "decode through emofeat.media or divide integer PCM by its full scale"
        )
    arr = arr.astype(np.float32, copy=False)
    if not np.isfinite(arr).all():
        raise FeatureError("audio samples hold NaN or infinity; the decoded signal is corrupt")
    return arr


def n_frames(n_samples: int, config: AudioConfig) -> int:
    """Number of centred frames for ``n_samples`` samples: 0 for empty input, else ``1 + N // hop``."""
    return 0 if n_samples == 0 else 1 + n_samples // config.hop_length


def frame_times(count: int, config: AudioConfig) -> np.ndarray:
    """Centre times of centred frames: ``t * hop_length / sample_rate``, shape ``(count,)`` float64."""
    return np.arange(count, dtype=np.float64) * config.hop_length / config.sample_rate


def frames(samples: np.ndarray, config: AudioConfig) -> np.ndarray:
    """Centred analysis frames of ``n_fft`` samples (librosa ``center=True``, zero padding).

    Frame ``t`` covers samples ``[t * hop - n_fft // 2, t * hop + n_fft // 2)``; samples outside
    the signal are zeros.

    Returns
    -------
    np.ndarray
        Shape ``(T, n_fft)``, float64, a read-only view; ``T = n_frames(N, config)``.
    """
    half = config.n_fft // 2
    count = n_frames(samples.shape[0], config)
    if count == 0:
        return np.zeros((0, config.n_fft), dtype=np.float64)
    padded = np.pad(samples.astype(np.float64), (half, half), mode="constant")
    view = np.lib.stride_tricks.sliding_window_view(padded, config.n_fft)
    return view[:: config.hop_length][:count]


#: Analysis frames transformed at once by :func:`per_frame` (about 4 MB of float64 frames at
#: ``n_fft = 512``), so a feature's working memory does not grow with the clip.
FRAME_BLOCK = 1024


def per_frame(
    samples: np.ndarray,
    config: AudioConfig,
    transform: Callable[[np.ndarray], np.ndarray],
    trailing: tuple[int, ...],
) -> np.ndarray:
    """Apply a frame-wise ``transform`` to the centred frames of ``samples``, a block of
    :data:`FRAME_BLOCK` frames at a time.

    ``transform`` maps ``(b, n_fft)`` float64 frames to ``(b, *trailing)`` values, each row
    from its own frame only; the result is the same as one call on every frame, but the
    intermediates (windowed frames, spectra) never exceed one block, whatever the length.

    Returns
    -------
    np.ndarray
        Shape ``(T, *trailing)``, float64; ``T = n_frames(N, config)``.
    """
    count = n_frames(samples.shape[0], config)
    out = np.empty((count, *trailing), dtype=np.float64)
    if count == 0:
        return out
    half = config.n_fft // 2
    padded = np.pad(samples, (half, half), mode="constant")  # the input's dtype: no float64 copy
    framed = np.lib.stride_tricks.sliding_window_view(padded, config.n_fft)[:: config.hop_length][:count]
    for start in range(0, count, FRAME_BLOCK):
        stop = min(start + FRAME_BLOCK, count)
        out[start:stop] = transform(framed[start:stop].astype(np.float64))
    return out


def padded_window(name: str, config: AudioConfig) -> np.ndarray:
    """A periodic window of ``win_length`` samples, zero-padded to ``n_fft`` and centred.

    Returns
    -------
    np.ndarray
        Shape ``(n_fft,)``, float64.
    """
    win = scipy.signal.get_window(name, config.win_length, fftbins=True).astype(np.float64)
    left = (config.n_fft - config.win_length) // 2
    return np.pad(win, (left, config.n_fft - config.win_length - left))
