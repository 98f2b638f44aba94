"""emofeat's numpy/scipy log-mel, MFCC and deltas against librosa 0.11 (a dev dependency).

Stated tolerances (librosa run on the same samples in float64):

* log-mel: max |diff| < 1e-3 dB over bins where librosa's mel power > 1e-8 (-80 dB);
* deltas and delta-deltas of log-mel: max |diff| < 1e-3 dB/frame over frames whose whole
  delta window has mel power > 1e-8 in that band, and < 1e-2 everywhere;
* MFCC: max |diff| < 1e-2 over every frame;
* the mel filterbank itself: max |diff| < 1e-6 (relative to the largest weight).

librosa's numba JIT costs 30-40 s in a fresh environment, so every librosa call happens in one
module-scoped fixture.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from emofeat.audio import logmel, mel_filterbank, mfcc
from emofeat.config import AudioConfig
from tests.audio.signals import SR, speech_like, white_noise

CONFIGS = {
    "default": AudioConfig(sample_rate=SR),
    "custom": AudioConfig(
        sample_rate=SR, win_ms=20.0, hop_ms=5.0, n_mels=40, n_mfcc=13, fmin=60.0, fmax=7000.0, delta_width=5
    ),
}
SIGNALS = {
    "speech": speech_like(seed=7).samples,
    "noise": white_noise(1.5, rms=0.05, seed=8),
}
MIN_POWER = 1e-8


def _librosa_features(librosa: Any, samples: np.ndarray, c: AudioConfig) -> dict[str, np.ndarray]:
    mel = librosa.feature.melspectrogram(
        y=samples.astype(np.float64),
        sr=c.sample_rate,
        n_fft=c.n_fft,
        hop_length=c.hop_length,
        win_length=c.win_length,
        window="hann",
        center=True,
        pad_mode="constant",
        power=2.0,
        n_mels=c.n_mels,
        fmin=c.fmin,
        fmax=c.fmax,
        htk=False,
        norm="slaney",
    )
    db = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None)
    return {
        "mel_power": mel.T,
        "logmel": db.T,
        "delta": librosa.feature.delta(db, width=c.delta_width, order=1, mode="interp").T,
        "delta2": librosa.feature.delta(db, width=c.delta_width, order=2, mode="interp").T,
        "mfcc": librosa.feature.mfcc(S=db, n_mfcc=c.n_mfcc, dct_type=2, norm="ortho").T,
        "filterbank": librosa.filters.mel(
            sr=c.sample_rate,
            n_fft=c.n_fft,
            n_mels=c.n_mels,
            fmin=c.fmin,
            fmax=c.fmax,
            htk=False,
            norm="slaney",
        ),
    }


@pytest.fixture(scope="module")
def reference() -> dict[tuple[str, str], dict[str, np.ndarray]]:
    librosa = pytest.importorskip("librosa")
    return {
        (sig, cfg): _librosa_features(librosa, samples, config)
        for sig, samples in SIGNALS.items()
        for cfg, config in CONFIGS.items()
    }


CASES = [(sig, cfg) for sig in SIGNALS for cfg in CONFIGS]


@pytest.mark.parametrize(("sig", "cfg"), CASES)
def test_logmel_and_deltas_match_librosa(reference: dict[Any, Any], sig: str, cfg: str) -> None:
    ref = reference[(sig, cfg)]
    ours = logmel(SIGNALS[sig], CONFIGS[cfg]).values
    assert ours.shape == (*ref["logmel"].shape, 3)
    loud = ref["mel_power"] > MIN_POWER
    assert loud.mean() > 0.3  # the comparison covers a large part of the signal
    assert np.abs(ours[..., 0] - ref["logmel"])[loud].max() < 1e-3
    width = CONFIGS[cfg].delta_width
    # A delta is precise where every frame in its window is above the power floor.
    loud_window = np.lib.stride_tricks.sliding_window_view(
        np.pad(loud, ((width // 2, width // 2), (0, 0)), constant_values=False), width, axis=0
    ).all(axis=-1)
    for channel, name in ((1, "delta"), (2, "delta2")):
        diff = np.abs(ours[..., channel] - ref[name])
        assert diff[loud_window].max() < 1e-3, name
        assert diff.max() < 1e-2, name


@pytest.mark.parametrize(("sig", "cfg"), CASES)
def test_mfcc_matches_librosa(reference: dict[Any, Any], sig: str, cfg: str) -> None:
    ref = reference[(sig, cfg)]["mfcc"]
    ours = mfcc(SIGNALS[sig], CONFIGS[cfg]).values
    assert ours.shape == ref.shape
    assert np.abs(ours - ref).max() < 1e-2


@pytest.mark.parametrize("cfg", list(CONFIGS))
def test_mel_filterbank_matches_librosa(reference: dict[Any, Any], cfg: str) -> None:
    ref = reference[("noise", cfg)]["filterbank"]
    ours = mel_filterbank(CONFIGS[cfg])
    assert ours.shape == ref.shape
    assert np.abs(ours - ref).max() < 1e-6 * ref.max()
