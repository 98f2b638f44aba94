"""Decode a file's audio to mono float32 at a chosen sample rate."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import av.error
import numpy as np
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.container import InputContainer

from emofeat.errors import DecodeError
from emofeat.media._av import (
    PacketTally,
    check_path,
    clock_origin,
    decode_error,
    open_decoder,
    open_input,
    require_streams,
    start_seconds,
)
from emofeat.media.records import Audio
from emofeat.media.suffixes import is_image_file

#: libswresample options: scale the downmix matrix so that no output sample can exceed full
#: scale (stereo becomes the mean of its channels; 5.1 keeps FFmpeg's ITU weights, normalised).
_RESAMPLER_OPTIONS = {"rematrix_maxval": "1.0"}


def load_audio(path: str | Path, sample_rate: int = 16000, origin: Fraction | None = None) -> Audio | None:
    """Decode the first audio stream of ``path`` to mono float32 at ``sample_rate``.

    Any channel layout is downmixed by libswresample (mono, stereo, 5.1, ...), any sample
    rate is resampled, and the resampler is flushed so the tail is kept. Samples start at the
    first sample the decoder delivers (after any encoder delay the container marks);
    timestamp gaps are not filled. ``Audio.start`` places sample 0 on the clip's clock.

    Parameters
    ----------
    path : str or pathlib.Path
        A media file (or an image / image folder, which has no audio).
    sample_rate : int, default 16000
        Output rate in Hz.
    origin : fractions.Fraction, optional
        The clip clock's 0 on the container's timeline (``MediaInfo.origin``); by default
        the file's own (:func:`emofeat.media.probe` computes the same).

    Returns
    -------
    Audio or None
        ``samples`` of shape ``(N,)``, float32, clipped to [-1, 1]; None when the file has no
        audio stream (a silent video, an image, a folder of frames): that is not an error.

    Raises
    ------
    ValueError
        ``sample_rate`` is not a positive integer.
    EmptyFileError
        The file has zero bytes.
    UnreadableMediaError
        The path does not exist, is not media, its header is damaged, or the audio codec is
        unknown.
    NoMediaStreamError
        The file has neither an audio nor a video stream.
    DecodeError
        The audio data is truncated or corrupt, or decodes to no samples.
    """
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int | np.integer) or sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive integer, not {sample_rate!r}")
    p = check_path(path)
    if p.is_dir() or is_image_file(p):
        return None
    with open_input(p) as container:
        audio, _video = require_streams(container, p)
        if audio is None:
            return None
        samples, first = _decode(container, audio, p, int(sample_rate))
    zero = clock_origin(p) if origin is None else origin
    return Audio(samples=samples, sample_rate=int(sample_rate), start=float(first - zero))


def _new_resampler(rate: int) -> av.AudioResampler:
    return av.AudioResampler(format="flt", layout="mono", rate=rate, options=dict(_RESAMPLER_OPTIONS))


def _layout_key(frame: AudioFrame) -> tuple[str, str, int]:
    return frame.format.name, frame.layout.name, frame.sample_rate


def _decode(
    container: InputContainer, stream: AudioStream, path: Path, rate: int
) -> tuple[np.ndarray, Fraction]:
    """The samples, and the container time of the first one."""
    open_decoder(stream, path)
    first: Fraction | None = None
    chunks: list[np.ndarray] = []
    resampler = _new_resampler(rate)
    key: tuple[str, str, int] | None = None
    tally = PacketTally(container, stream)
    done = 0
    try:
        for packet in container.demux(stream):
            tally.add(packet)
            for frame in packet.decode():
                if first is None:
                    pts, tb = frame.pts, frame.time_base
                    first = (
                        Fraction(pts) * tb if pts is not None and tb is not None else start_seconds(stream)
                    )
                if key is not None and _layout_key(frame) != key:
                    # The layout or rate changed mid-stream: drain this resampler, start another.
                    chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
                    resampler = _new_resampler(rate)
                key = _layout_key(frame)
                chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
                done += frame.samples
        chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    except av.error.FFmpegError as exc:
        raise decode_error(exc, path, "audio", done, "samples") from exc
    if done == 0:
        raise DecodeError(f"the audio stream of '{path}' holds no decodable samples")
    tally.check(path, "audio")
    samples = np.concatenate(chunks).astype(np.float32, copy=False) if chunks else np.zeros(0, np.float32)
    del chunks  # the samples exist once from here
    return np.clip(samples, -1.0, 1.0, out=samples), first or Fraction(0)
