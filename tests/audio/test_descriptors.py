"""Spectral centroid/flux/roll-off, linear spectrogram, onset strength and the tempo histogram.

Against librosa 0.11 (a dev dependency), run on the same samples in float64, stated tolerances:

* centroid: max |diff| < 1e-3 Hz over every frame (silent frames: both 0; measured 2.4e-4, the
  float32 rounding of the output);
* roll-off: the same bin in >= 99 % of frames and within one bin (``sr / n_fft`` Hz) in all
  (a tie at the 85 % threshold may round either way; measured: the same bin in every frame);
* spectrogram: max |diff| < 1e-4 dB over every bin (floor -100 dB on both sides; measured 4e-6);
* onset strength (``librosa.onset.onset_strength(y=...)`` with our mel and frame parameters):
  max |diff| < 1e-4 dB/frame over every frame (measured 2e-6).

Flux is checked against a numpy computation on librosa's STFT magnitude (relative 1e-5;
measured 5e-8).
librosa's numba JIT costs 30-40 s in a fresh environment, so every librosa call happens in one
module-scoped fixture.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import pytest

from emofeat.audio import Series
from emofeat.audio import descriptors as descriptors_module
from emofeat.audio.descriptors import (
    SPECTRAL_NAMES,
    TEMPO_HISTOGRAM_NAMES,
    TEMPO_RATES_HZ,
    onset_strength,
    spectral_features,
    spectrogram,
    tempo_histogram,
)
from emofeat.config import AudioConfig
from emofeat.errors import FeatureError
from tests.audio.contract import ExtractorContract
from tests.audio.signals import SR, speech_like, tone, white_noise

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
CASES = [(sig, cfg) for sig in SIGNALS for cfg in CONFIGS]


# --- contracts ------------------------------------------------------------------------------


class TestSpectralContract(ExtractorContract):
    extractor = staticmethod(spectral_features)

    def trailing_shape(self, config: AudioConfig) -> tuple[int, ...]:
        return (3,)


class TestSpectrogramContract(ExtractorContract):
    extractor = staticmethod(spectrogram)

    def trailing_shape(self, config: AudioConfig) -> tuple[int, ...]:
        return (config.n_fft // 2 + 1,)


class TestOnsetStrengthContract(ExtractorContract):
    extractor = staticmethod(onset_strength)

    def trailing_shape(self, config: AudioConfig) -> tuple[int, ...]:
        return ()


class TestOnsetStrengthContractSmallConfig(TestOnsetStrengthContract):
    config: ClassVar[AudioConfig] = AudioConfig(n_mfcc=13, n_mels=26, hop_ms=5.0, win_ms=20.0)


# --- librosa reference ----------------------------------------------------------------------


def _librosa_features(librosa: Any, samples: np.ndarray, c: AudioConfig) -> dict[str, np.ndarray]:
    y = samples.astype(np.float64)
    frame = {
        "n_fft": c.n_fft,
        "hop_length": c.hop_length,
        "win_length": c.win_length,
        "window": "hann",
        "center": True,
        "pad_mode": "constant",
    }
    magnitude = np.abs(librosa.stft(y, **frame))
    return {
        "magnitude": magnitude.T,
        "centroid": librosa.feature.spectral_centroid(y=y, sr=c.sample_rate, **frame)[0],
        "rolloff": librosa.feature.spectral_rolloff(y=y, sr=c.sample_rate, roll_percent=0.85, **frame)[0],
        "spectrogram": librosa.amplitude_to_db(magnitude, ref=1.0, amin=1e-5, top_db=None).T,
        "onset": librosa.onset.onset_strength(
            y=y,
            sr=c.sample_rate,
            n_mels=c.n_mels,
            fmin=c.fmin,
            fmax=c.fmax,
            htk=False,
            norm="slaney",
            **frame,
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


@pytest.mark.parametrize(("sig", "cfg"), CASES)
def test_centroid_and_rolloff_match_librosa(reference: dict[Any, Any], sig: str, cfg: str) -> None:
    ref = reference[(sig, cfg)]
    config = CONFIGS[cfg]
    ours = spectral_features(SIGNALS[sig], config).values.astype(np.float64)
    assert ours.shape == (ref["centroid"].shape[0], 3)
    assert np.abs(ours[:, 0] - ref["centroid"]).max() < 1e-3
    bin_hz = config.sample_rate / config.n_fft
    rolloff_diff = np.abs(ours[:, 2] - ref["rolloff"])
    assert (rolloff_diff < 1e-3).mean() >= 0.99
    assert rolloff_diff.max() <= bin_hz + 1e-3


@pytest.mark.parametrize(("sig", "cfg"), CASES)
def test_flux_matches_numpy(reference: dict[Any, Any], sig: str, cfg: str) -> None:
    mag = reference[(sig, cfg)]["magnitude"]
    expected = np.zeros(mag.shape[0])
    expected[1:] = np.sqrt((np.maximum(np.diff(mag, axis=0), 0.0) ** 2).sum(axis=1))
    ours = spectral_features(SIGNALS[sig], CONFIGS[cfg]).values[:, 1].astype(np.float64)
    assert ours[0] == 0.0
    assert np.abs(ours - expected).max() < 1e-5 * expected.max()


@pytest.mark.parametrize(("sig", "cfg"), CASES)
def test_spectrogram_matches_librosa(reference: dict[Any, Any], sig: str, cfg: str) -> None:
    ref = reference[(sig, cfg)]["spectrogram"]
    ours = spectrogram(SIGNALS[sig], CONFIGS[cfg]).values
    assert ours.shape == ref.shape
    assert np.abs(ours - ref).max() < 1e-4


@pytest.mark.parametrize(("sig", "cfg"), CASES)
def test_onset_strength_matches_librosa(reference: dict[Any, Any], sig: str, cfg: str) -> None:
    ref = reference[(sig, cfg)]["onset"]
    ours = onset_strength(SIGNALS[sig], CONFIGS[cfg]).values
    assert ours.shape == ref.shape
    assert ref.max() > 1.0  # the envelope is not trivially zero
    assert np.abs(ours - ref).max() < 1e-4


# --- behaviour ------------------------------------------------------------------------------

CONFIG = CONFIGS["default"]


def test_names() -> None:
    assert SPECTRAL_NAMES == ("centroid_hz", "flux", "rolloff_hz")
    assert len(TEMPO_RATES_HZ) == len(TEMPO_HISTOGRAM_NAMES) == len(set(TEMPO_HISTOGRAM_NAMES)) == 17
    assert TEMPO_RATES_HZ[0] == 0.5
    assert TEMPO_RATES_HZ[-1] == pytest.approx(8.0)
    assert TEMPO_HISTOGRAM_NAMES[8] == "rhythm_2.00hz"


def test_tone_and_noise_spectral_shape() -> None:
    steady = slice(5, -5)  # away from the zero-padded edges
    sine = spectral_features(tone(1.0, 1000.0, 0.5), CONFIG).values[steady]
    np.testing.assert_allclose(sine[:, 0], 1000.0, atol=5.0)  # the Hann leakage is symmetric
    assert np.abs(sine[:, 2] - 1000.0).max() <= 2 * CONFIG.sample_rate / CONFIG.n_fft
    noise = spectral_features(white_noise(2.0, rms=0.1, seed=3), CONFIG).values[steady]
    assert noise[:, 0].mean() == pytest.approx(SR / 4, rel=0.03)
    assert noise[:, 2].mean() == pytest.approx(0.85 * SR / 2, rel=0.03)


def test_flux_marks_an_onset_and_silence_is_zero() -> None:
    samples = np.zeros(SR, dtype=np.float32)
    samples[SR // 2 :] = tone(0.5, 440.0, 0.3)
    out = spectral_features(samples, CONFIG)
    flux = out.values[:, 1]
    peak_time = out.times[np.argmax(flux)]
    assert abs(peak_time - 0.5) <= CONFIG.win_ms / 2000  # within half a window of the onset
    silent = out.times < 0.5 - CONFIG.n_fft / 2 / SR
    assert (out.values[silent] == 0.0).all()


def test_spectral_flux_is_the_same_across_block_boundaries(monkeypatch: pytest.MonkeyPatch) -> None:
    samples = speech_like(seed=9).samples
    whole = spectral_features(samples, CONFIG).values
    monkeypatch.setattr(descriptors_module, "FRAME_BLOCK", 7)
    np.testing.assert_array_equal(spectral_features(samples, CONFIG).values, whole)


def test_spectrogram_peak_and_floor() -> None:
    out = spectrogram(tone(0.5, 2000.0, 0.5), CONFIG).values
    assert (np.argmax(out[5:-5], axis=1) == round(2000.0 * CONFIG.n_fft / SR)).all()
    silent = spectrogram(np.zeros(4000, dtype=np.float32), CONFIG).values
    assert (silent == -100.0).all()


def test_onset_peaks_at_a_click() -> None:
    samples = np.zeros(SR, dtype=np.float32)
    click = 8000 + CONFIG.hop_length // 3
    samples[click] = 0.5
    out = onset_strength(samples, CONFIG)
    assert (out.values >= 0).all()
    assert abs(out.times[np.argmax(out.values)] - click / SR) <= 2 * CONFIG.hop_ms / 1000


@pytest.mark.parametrize("fn", [spectral_features, spectrogram, onset_strength])
@pytest.mark.parametrize("n", [1, 159, 160, 161, 16037])
def test_frame_grid(fn: Callable[..., Series], n: int) -> None:
    out = fn(speech_like(seed=10).samples[:n], CONFIG)
    count = 1 + n // CONFIG.hop_length
    assert out.values.shape[0] == count
    np.testing.assert_allclose(out.times, np.arange(count) * CONFIG.hop_length / SR, atol=1e-12)


@pytest.mark.parametrize("fn", [spectral_features, spectrogram, onset_strength])
@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((2, 1000), dtype=np.float32),
        np.zeros(1000, dtype=np.int16),
        np.array([0.0, np.nan, 0.0], dtype=np.float32),
    ],
    ids=["stereo", "int16", "nan"],
)
def test_bad_samples_raise_feature_error(fn: Callable[..., Any], bad: np.ndarray) -> None:
    with pytest.raises(FeatureError):
        fn(bad, CONFIG)


@pytest.mark.parametrize("fn", [spectral_features, spectrogram, onset_strength])
def test_float64_input_gives_the_same_float32_output(fn: Callable[..., Series]) -> None:
    samples = speech_like(seed=11).samples
    np.testing.assert_array_equal(fn(samples, CONFIG).values, fn(samples.astype(np.float64), CONFIG).values)


def test_onset_strength_rejects_bad_mel_config() -> None:
    with pytest.raises(FeatureError):
        onset_strength(np.zeros(1000, dtype=np.float32), AudioConfig(sample_rate=SR, fmax=9000.0))


# --- tempo histogram ------------------------------------------------------------------------


def _click_train(rate_hz: float, duration: float) -> np.ndarray:
    samples = np.zeros(round(duration * SR), dtype=np.float32)
    samples[np.round(np.arange(0.05, duration, 1.0 / rate_hz) * SR).astype(int)] = 0.5
    return samples


def _am_tone(rate_hz: float, duration: float) -> np.ndarray:
    t = np.arange(round(duration * SR)) / SR
    envelope = 0.5 - 0.5 * np.cos(2 * np.pi * rate_hz * t)
    return (0.3 * envelope * np.sin(2 * np.pi * 1000.0 * t)).astype(np.float32)


def _histogram(samples: np.ndarray) -> np.ndarray:
    """The tempo histogram of ``samples``, with every floating-point warning an error."""
    onset = onset_strength(samples, CONFIG)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        return tempo_histogram(onset)


def _peak_rate(samples: np.ndarray) -> float:
    hist = _histogram(samples)
    assert hist.shape == (17,)
    assert hist.dtype == np.float32
    assert ((hist >= 0.0) & (hist <= 1.0)).all()
    return TEMPO_RATES_HZ[int(np.argmax(hist))]


def _within_a_bin(peak: float, rate: float) -> bool:
    """The peak is the bin holding ``rate`` or a neighbour of a rate between two bin centres."""
    return abs(np.log2(peak / rate)) <= 0.25 + 1e-9


@pytest.mark.parametrize("rate", [0.5, 1.0, 2.0, 4.0, 8.0])
def test_click_train_on_a_bin_peaks_at_its_rate(rate: float) -> None:
    assert _peak_rate(_click_train(rate, 4.0)) == pytest.approx(rate)


@pytest.mark.parametrize("rate", [1.5, 3.0, 5.0, 7.0])
def test_click_train_between_bins_peaks_next_to_its_rate(rate: float) -> None:
    """Periods of a fractional number of frames (3 Hz: 33.3) still peak at the rate, not below."""
    assert _within_a_bin(_peak_rate(_click_train(rate, 4.0)), rate)


@pytest.mark.parametrize("rate", [2.5, 4.0, 6.0])
def test_jittered_click_train_peaks_next_to_its_rate(rate: float) -> None:
    """Onsets up to 20 ms early or late (speech is not a metronome) keep the rate."""
    rng = np.random.default_rng(int(rate * 10))
    samples = np.zeros(4 * SR, dtype=np.float32)
    onsets = np.arange(0.05, 3.95, 1.0 / rate)
    samples[np.round((onsets + rng.uniform(-0.02, 0.02, onsets.size)) * SR).astype(int)] = 0.5
    assert _within_a_bin(_peak_rate(samples), rate)


@pytest.mark.parametrize("rate", [0.7, 2.0, 3.0, 5.0, 7.5])
def test_syllable_rate_amplitude_modulation_peaks_at_its_rate(rate: float) -> None:
    assert _within_a_bin(_peak_rate(_am_tone(rate, 4.0)), rate)


def test_tempo_histogram_degenerate_inputs_give_zeros() -> None:
    for samples in (np.zeros(SR, dtype=np.float32), np.zeros(0, dtype=np.float32), np.ones(1, np.float32)):
        hist = _histogram(samples)
        assert hist.shape == (17,)
        assert (hist == 0.0).all()


def test_tempo_histogram_rates_longer_than_the_clip_are_zero() -> None:
    onset = onset_strength(_click_train(4.0, 1.0), CONFIG)
    hist = tempo_histogram(onset)
    frame_rate = SR / CONFIG.hop_length
    too_slow = np.array([frame_rate / (r * 2 ** (1 / 8)) >= len(onset) - 1 for r in TEMPO_RATES_HZ])
    assert too_slow.any()
    assert (hist[too_slow] == 0.0).all()
    assert TEMPO_RATES_HZ[int(np.argmax(hist))] == pytest.approx(4.0)


def test_tempo_histogram_of_a_window_slice() -> None:
    onset = onset_strength(np.concatenate([_click_train(2.0, 3.0), _click_train(4.0, 3.0)]), CONFIG)
    late = onset.times >= 3.0
    window = Series(values=onset.values[late], times=onset.times[late])
    assert TEMPO_RATES_HZ[int(np.argmax(tempo_histogram(window)))] == pytest.approx(4.0)
    before = onset.values.copy()
    tempo_histogram(onset)
    np.testing.assert_array_equal(onset.values, before)


def test_tempo_histogram_rejects_bad_envelopes() -> None:
    with pytest.raises(FeatureError):
        tempo_histogram(Series(values=np.zeros((10, 2), dtype=np.float32), times=np.arange(10) * 0.01))
    with pytest.raises(FeatureError):
        tempo_histogram(Series(values=np.zeros(3, dtype=np.float32), times=np.array([0.0, 0.01, 0.05])))
    with pytest.raises(FeatureError):
        tempo_histogram(Series(values=np.array([0.0, np.nan], np.float32), times=np.array([0.0, 0.01])))
