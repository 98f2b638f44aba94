"""What each audio descriptor set costs: milliseconds per second of audio, one core.

Runs each set of :mod:`emofeat.audio` on the same generated speech-like signal (median of
``--repeats``), so a data engineer sees what a config costs before the heavy run. Usage::

    .venv/bin/python bench/audio_costs.py --seconds 30
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads

import numpy as np

from emofeat.audio import (
    compare,
    egemaps,
    endpoint,
    energy,
    logmel,
    mfcc,
    onset_strength,
    pause_stats,
    preemphasis,
    spectral_features,
    spectrogram,
    tempo_histogram,
    window_pauses,
    windowed,
)
from emofeat.config import AudioConfig
from emofeat.media.synth import speech_like


def sets(config: AudioConfig) -> dict[str, Callable[[np.ndarray], object]]:
    """Each descriptor set (the config key that turns it on, where there is one)."""

    def windows(y: np.ndarray) -> object:
        frames = mfcc(y, config)
        return windowed(frames, [f"c{i}" for i in range(config.n_mfcc)], config.window_s, config.shift_s)

    def endpoints(y: np.ndarray) -> object:
        found = endpoint(y, config)
        duration = y.size / config.sample_rate
        return pause_stats(found.segments, duration), window_pauses(found.segments, duration)

    return {
        "mfcc + logmel + energy": lambda y: (mfcc(y, config), logmel(y, config), energy(y, config)),
        "preemphasis (audio.preemphasis)": lambda y: preemphasis(y, 0.94),
        "spectral (centroid, flux, roll-off)": lambda y: spectral_features(y, config),
        "onset + rhythm": lambda y: tempo_histogram(onset_strength(y, config)),
        "endpoint + pauses (audio.endpoint)": endpoints,
        "windows (MFCC functionals)": windows,
        "eGeMAPS (audio.egemaps)": lambda y: egemaps(y, config),
        "ComParE 2016 (audio.compare)": lambda y: compare(y, config),
        "spectrogram (audio.spectrogram)": lambda y: spectrogram(y, config),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    config = AudioConfig()
    y = speech_like(args.seconds, config.sample_rate, seed=7)
    for name, run in sets(config).items():
        run(y[: config.sample_rate])  # warm: imports, openSMILE objects
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            run(y)
            times.append(time.perf_counter() - start)
        best = statistics.median(times)
        per_second = 1000 * best / args.seconds
        print(f"{name:38s} {per_second:8.1f} ms per s of audio ({args.seconds / best:6.0f}x real time)")


if __name__ == "__main__":
    main()
