"""Seeded test signals for the audio tests (no dependency on other test helpers)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.signal

SR = 16000


@dataclass(frozen=True)
class SpeechLike:
    """A synthetic utterance and where its voiced syllables lie."""

    samples: np.ndarray  # (N,) float32
    syllables: tuple[tuple[float, float], ...]  # (start_s, end_s) of each voiced syllable
    ramp_s: float  # attack/decay length at each syllable edge


def _resonator(x: np.ndarray, freq: float, bandwidth: float, sr: int) -> np.ndarray:
    """Two-pole resonance (a formant) at ``freq`` Hz."""
    r = np.exp(-np.pi * bandwidth / sr)
    a = [1.0, -2.0 * r * np.cos(2 * np.pi * freq / sr), r * r]
    return np.asarray(scipy.signal.lfilter([1.0 - r], a, x))


def vowel(duration: float, f0: float, seed: int, sr: int = SR, jitter: float = 0.01) -> np.ndarray:
    """A sustained vowel: glottal pulse train with slight jitter through three formants, peak 1."""
    rng = np.random.default_rng(seed)
    n = round(duration * sr)
    t = np.arange(n) / sr
    contour = f0 * (1.0 + 0.05 * np.sin(2 * np.pi * 3.0 * t)) * (1.0 + jitter * rng.standard_normal(n))
    phase = np.cumsum(contour) / sr
    pulses = np.diff(np.floor(phase), prepend=0.0)  # one impulse per glottal period
    source = scipy.signal.lfilter([1.0], [1.0, -0.95], pulses)  # spectral tilt of the glottal flow
    out = source
    for freq, bw in ((700.0, 80.0), (1220.0, 90.0), (2600.0, 120.0)):
        out = out + 0.6 * _resonator(source, freq, bw, sr)
    out = out + 0.002 * rng.standard_normal(n)  # breath noise
    out = out - out.mean()
    return out / np.abs(out).max()


def speech_like(seed: int = 0, sr: int = SR) -> SpeechLike:
    """About 2.4 s: three voiced syllables at different levels, separated by digital silence."""
    rng = np.random.default_rng(seed)
    ramp = 0.02
    layout = ((0.30, 0.65, 0.5), (0.95, 1.40, 0.3), (1.75, 2.10, 0.6))  # start, end, peak level
    total = 2.40
    out = np.zeros(round(total * sr))
    for k, (start, end, level) in enumerate(layout):
        seg = vowel(end - start, f0=float(rng.uniform(110, 220)), seed=seed * 10 + k, sr=sr)
        env = np.ones(seg.size)
        nr = int(ramp * sr)
        env[:nr] = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, nr))
        env[-nr:] = env[:nr][::-1]
        i0 = round(start * sr)
        out[i0 : i0 + seg.size] = level * env * seg
    return SpeechLike(
        samples=out.astype(np.float32),
        syllables=tuple((s, e) for s, e, _ in layout),
        ramp_s=ramp,
    )


def white_noise(duration: float, rms: float, seed: int, sr: int = SR) -> np.ndarray:
    """Gaussian white noise with the given RMS, float32."""
    rng = np.random.default_rng(seed)
    return (rms * rng.standard_normal(round(duration * sr))).astype(np.float32)


def tone(duration: float, freq: float, amplitude: float, sr: int = SR) -> np.ndarray:
    """A sine, float32."""
    t = np.arange(round(duration * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def square(duration: float, freq: float, amplitude: float, sr: int = SR) -> np.ndarray:
    """A square wave of exactly +-amplitude, float32."""
    t = np.arange(round(duration * sr)) / sr
    return (amplitude * np.where(np.sin(2 * np.pi * freq * t + 0.1) >= 0, 1.0, -1.0)).astype(np.float32)
