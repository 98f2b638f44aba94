"""The fixed inputs of the golden tests, generated here so that no other helper can change them.

Everything is closed-form float64 math, and the only randomness comes from
``numpy.random.RandomState``, whose streams numpy keeps frozen. The face photo is
scikit-image's astronaut (a pinned package's data file).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
from av.audio.stream import AudioStream
from av.video.stream import VideoStream

SR = 16000

#: Where the astronaut's facial landmarks lie in skimage's photo (``(5, 2)`` x, y), as the
#: built-in detector found them, rounded: fixed constants, so the alignment golden does not
#: depend on the detector.
ASTRONAUT_LANDMARKS = np.array(
    [[202.9, 101.3], [247.1, 103.3], [223.3, 129.8], [200.6, 139.0], [245.5, 140.8]], np.float64
)


def voiced(duration: float, f0: tuple[float, float], formants: tuple[float, ...], sr: int = SR) -> np.ndarray:
    """A vowel-like tone: 20 harmonics of an ``f0`` glide, shaped by resonance peaks, peak 1."""
    t = np.arange(round(duration * sr)) / sr
    freq = np.linspace(f0[0], f0[1], t.size) * (1.0 + 0.01 * np.sin(2 * np.pi * 5.0 * t))
    phase = 2 * np.pi * np.cumsum(freq) / sr
    out = np.zeros_like(t)
    for h in range(1, 21):
        fh = h * float(np.mean(freq))
        if fh >= sr / 2:
            break
        gain = sum(1.0 / (1.0 + ((fh - fc) / 120.0) ** 2) for fc in formants) + 0.1 / h
        out += gain * np.sin(h * phase)
    envelope = np.sin(np.pi * np.clip(t / duration, 0.0, 1.0)) ** 0.5
    out *= envelope
    return np.asarray(out / np.abs(out).max())


def utterance(sr: int = SR) -> np.ndarray:
    """1.2 s: silence, two voiced syllables at different levels, a noisy fricative, silence.

    Returns
    -------
    np.ndarray
        ``(round(1.2 * sr),)`` float32, peak about 0.6; exact digital silence at both ends.
    """
    out = np.zeros(round(1.2 * sr))
    noise = np.random.RandomState(7).uniform(-1.0, 1.0, out.size)
    pieces = (
        (0.10, voiced(0.32, (130.0, 170.0), (700.0, 1200.0, 2600.0), sr) * 0.6),
        (0.50, voiced(0.28, (210.0, 180.0), (400.0, 2000.0, 2800.0), sr) * 0.3),
    )
    for start, piece in pieces:
        i0 = round(start * sr)
        out[i0 : i0 + piece.size] += piece
    i0, i1 = round(0.85 * sr), round(1.05 * sr)
    fricative = np.diff(noise[i0 : i1 + 1]) * np.hanning(i1 - i0) * 0.1  # high-passed noise
    out[i0:i1] += fricative
    out[round(0.02 * sr) : round(0.95 * sr)] += 0.001 * noise[round(0.02 * sr) : round(0.95 * sr)]
    return out.astype(np.float32)


def coded_frames(n: int, size: tuple[int, int] = (64, 96)) -> np.ndarray:
    """``n`` frames: frame ``i`` shows ``i`` as 6 black/white bits on top, colour patches below.

    The bottom half holds six flat patches (red, green, blue, grey, white, black) over a
    horizontal ramp; :func:`frame_number` reads ``i`` back even after lossy coding.

    Returns
    -------
    np.ndarray
        ``(n, H, W, 3)`` uint8 RGB.
    """
    height, width = size
    colours = ((200, 30, 30), (30, 200, 30), (30, 30, 200), (128, 128, 128), (235, 235, 235), (16, 16, 16))
    base = np.zeros((height, width, 3), np.uint8)
    base[height // 2 :] = np.linspace(40, 215, width).astype(np.uint8)[None, :, None]
    patch = width // len(colours)
    for k, colour in enumerate(colours):
        base[height * 5 // 8 : height * 7 // 8, k * patch + 2 : (k + 1) * patch - 2] = colour
    out = np.repeat(base[None], n, axis=0)
    bit = width // 6
    for i in range(n):
        for b in range(6):
            out[i, : height // 2, b * bit : (b + 1) * bit] = 235 if (i >> (5 - b)) & 1 else 20
    return out


def frame_number(image: np.ndarray) -> int:
    """The number :func:`coded_frames` drew into an upright ``(H, W, 3)`` frame."""
    height, width = image.shape[:2]
    bit = width // 6
    value = 0
    for b in range(6):
        block = image[height // 8 : 3 * height // 8, b * bit + 2 : (b + 1) * bit - 2]
        value = (value << 1) | int(block.mean() > 128)
    return value


def write_clip(path: Path, frames: np.ndarray, fps: int, codec: str, pix_fmt: str, rotation: int) -> Path:
    """Write a video (MOV, no audio), storing the frames turned for ``rotation``.

    ``rotation`` is the clockwise turn a player must apply (a display matrix is written), so a
    correct reader returns ``frames``.
    """
    stored = np.ascontiguousarray(np.rot90(frames, k=rotation // 90, axes=(1, 2)))
    with av.open(str(path), "w") as container:
        video = cast(VideoStream, container.add_stream(codec, rate=fps))
        video.height, video.width = stored.shape[1], stored.shape[2]
        video.pix_fmt = pix_fmt
        if codec == "libx264":
            video.options = {"crf": "12", "preset": "veryfast", "threads": "1"}
        video.codec_context.time_base = Fraction(1, fps)
        if rotation:
            video.set_display_rotation(-float(rotation))  # PyAV takes counter-clockwise degrees
        for i, picture in enumerate(stored):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
    return path


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    """Write ``(N, C)`` float samples in [-1, 1] as 16-bit PCM WAV (C = 1 or 2)."""
    layout = {1: "mono", 2: "stereo"}[samples.shape[1]]
    with av.open(str(path), "w") as container:
        stream = cast(AudioStream, container.add_stream("pcm_s16le", rate=rate, layout=layout))
        for start in range(0, samples.shape[0], 1024):
            chunk = np.ascontiguousarray(samples[start : start + 1024].T, dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path
