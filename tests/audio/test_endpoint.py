"""Endpoint detection: known speech spans, noise, the ZCR rule, merging and dropping, the mask."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import scipy.signal

from emofeat.audio import Series, frame_energy_db, mfcc
from emofeat.audio.endpoint import Endpoints, endpoint, zero_crossing_rate
from emofeat.config import AudioConfig
from emofeat.errors import FeatureError
from tests.audio.contract import ExtractorContract
from tests.audio.signals import SR, speech_like, tone, vowel, white_noise
from tests.recorded import conversation

CONFIG = AudioConfig(sample_rate=SR)
HOP_S = CONFIG.hop_length / SR
TOL = 2 * HOP_S  # segment edges within two hops of the true ones


def _voiced(duration: float, level: float, seed: int) -> np.ndarray:
    """A sustained vowel at peak ``level`` with 20 ms raised-cosine attack and decay."""
    seg = vowel(duration, f0=120.0 + 10 * seed, seed=seed)
    env = np.ones(seg.size)
    nr = round(0.02 * SR)
    env[:nr] = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, nr))
    env[-nr:] = env[:nr][::-1]
    return (level * env * seg).astype(np.float32)


def _fricative(duration: float, rms: float, seed: int) -> np.ndarray:
    """Noise above 3 kHz (an /s/-like hiss, zero-crossing rate well above 0.25) at the given RMS."""
    sos = scipy.signal.butter(6, 3000.0, btype="highpass", fs=SR, output="sos")
    noise = scipy.signal.sosfilt(sos, white_noise(duration, 1.0, seed))
    return (rms * noise / np.sqrt(np.mean(noise**2))).astype(np.float32)


def _compose(*pieces: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Concatenate pieces; return the signal and the boundary times between them."""
    bounds = np.cumsum([0, *[p.size for p in pieces]]) / SR
    return np.concatenate(pieces).astype(np.float32), [float(b) for b in bounds]


def _silence(duration: float) -> np.ndarray:
    return np.zeros(round(duration * SR), dtype=np.float32)


def _two_utterances() -> tuple[np.ndarray, np.ndarray]:
    """0.5 s silence, 1 s speech, 0.7 s silence, 0.8 s quieter speech, 0.5 s silence."""
    x, b = _compose(
        _silence(0.5), _voiced(1.0, 0.6, seed=1), _silence(0.7), _voiced(0.8, 0.3, seed=2), _silence(0.5)
    )
    return x, np.array([[b[1], b[2]], [b[3], b[4]]])


def _check_mask(ep: Endpoints, n_samples: int, config: AudioConfig = CONFIG) -> None:
    """The mask is exactly the frames whose centre lies in a segment; shapes and dtypes."""
    count = 0 if n_samples == 0 else 1 + n_samples // config.hop_length
    assert ep.mask.shape == (count,)
    assert ep.mask.dtype == np.uint8
    assert ep.times.dtype == np.float64
    np.testing.assert_allclose(ep.times, np.arange(count) * config.hop_length / config.sample_rate)
    assert ep.segments.dtype == np.float64
    assert ep.segments.ndim == 2
    assert ep.segments.shape[1] == 2
    inside = np.zeros(count, dtype=bool)
    for start, end in ep.segments:
        inside |= (ep.times >= start) & (ep.times <= end)
    np.testing.assert_array_equal(ep.mask, inside.astype(np.uint8))
    if ep.segments.shape[0]:
        assert (ep.segments[:, 1] > ep.segments[:, 0]).all()
        assert ep.segments[0, 0] >= 0.0
        assert ep.segments[-1, 1] <= n_samples / config.sample_rate + 1e-12
        np.testing.assert_array_equal(ep.span, [ep.segments[0, 0], ep.segments[-1, 1]])
    else:
        assert np.isnan(ep.span).all()
    assert ep.span.shape == (2,)


def _run(samples: np.ndarray, config: AudioConfig = CONFIG, **kwargs: Any) -> Endpoints:
    """Endpoints with every numpy and Python warning as an error, its mask checked."""
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        ep = endpoint(samples, config, **kwargs)
    _check_mask(ep, samples.shape[0], config)
    return ep


def test_known_speech_spans_are_found() -> None:
    x, truth = _two_utterances()
    ep = _run(x)
    assert ep.segments.shape == (2, 2)
    np.testing.assert_allclose(ep.segments, truth, atol=TOL)
    np.testing.assert_allclose(ep.span, [truth[0, 0], truth[1, 1]], atol=TOL)


@pytest.mark.parametrize(
    "config",
    [
        AudioConfig(sample_rate=SR, hop_ms=5.0, win_ms=20.0),
        AudioConfig(sample_rate=SR, n_fft=1024, win_ms=40.0),
    ],
    ids=["hop5", "win40"],
)
def test_other_frame_grids_find_the_same_spans_on_the_mfcc_grid(config: AudioConfig) -> None:
    x, truth = _two_utterances()
    ep = _run(x, config)
    np.testing.assert_allclose(ep.segments, truth, atol=2 * config.hop_length / SR + config.win_ms / 2000)
    np.testing.assert_array_equal(ep.times, mfcc(x, config).times)


def test_low_level_noise_in_the_silences_makes_no_segment() -> None:
    x, truth = _two_utterances()
    noisy = x + white_noise(x.size / SR, rms=10 ** (-60 / 20), seed=3)  # -60 dBFS everywhere
    ep = _run(noisy)
    assert ep.segments.shape == (2, 2)
    np.testing.assert_allclose(ep.segments, truth, atol=TOL)


@pytest.mark.parametrize("level_db", [-75.0, -65.0])
def test_faint_hiss_alone_is_not_speech(level_db: float) -> None:
    ep = _run(white_noise(2.0, rms=10 ** (level_db / 20), seed=4))
    assert ep.segments.shape == (0, 2)
    assert ep.mask.sum() == 0


@pytest.mark.parametrize(
    "steady",
    [tone(1.0, 440.0, 0.5), white_noise(1.0, rms=0.03, seed=16), _voiced(1.0, 0.5, seed=17)],
    ids=["tone", "noise", "held-vowel"],
)
def test_one_steady_sound_is_one_segment_to_the_clip_edges(steady: np.ndarray) -> None:
    """No silence to measure a background on: the 20 dB cap keeps the whole sound."""
    ep = _run(steady)
    np.testing.assert_allclose(ep.segments, [[0.0, steady.size / SR]], atol=TOL)


@pytest.mark.parametrize("noise_db", [-45.0, -35.0])
def test_noisy_recording_keeps_its_pauses(noise_db: float) -> None:
    """About 31 and 21 dB SNR: ``ref - 45 dB`` lies in the noise, the noise estimate lifts ``low``."""
    x, truth = _two_utterances()
    noisy = x + white_noise(x.size / SR, rms=10 ** (noise_db / 20), seed=5)
    ep = _run(noisy)
    assert ep.segments.shape == (2, 2)
    np.testing.assert_allclose(ep.segments, truth, atol=TOL)


def test_without_the_noise_margin_a_noisy_pause_is_bridged() -> None:
    x, truth = _two_utterances()
    noisy = x + white_noise(x.size / SR, rms=10 ** (-35 / 20), seed=5)
    bridged = _run(noisy, noise_margin_db=0.0)  # low = the 10th percentile: most noise frames exceed it
    gap = (bridged.times > truth[0, 1] + TOL) & (bridged.times < truth[1, 0] - TOL)
    assert bridged.mask[gap].all()


def _unvoiced_onset(fricative_s: float, *, trailing: bool = False) -> tuple[np.ndarray, list[float]]:
    """Silence, an /s/ 42 dB below the vowel's loudest frame, the vowel, [an /s/,] silence."""
    voiced = _voiced(0.5, 0.6, seed=6)
    ref_db = float(frame_energy_db(voiced, CONFIG).values.max())
    rms = 10 ** ((ref_db - 42.0) / 20)
    tail = [_fricative(0.1, rms, seed=8)] if trailing else []
    return _compose(_silence(0.5), _fricative(fricative_s, rms, seed=7), voiced, *tail, _silence(0.5))


def test_unvoiced_onset_is_included_by_the_zcr_rule() -> None:
    # low_db = -35: the /s/ (-42 dB) is below the low threshold, only its crossings can take it in.
    x, b = _unvoiced_onset(0.12, trailing=True)  # b: 0, /s/, vowel, /s/, silence, end
    rates = zero_crossing_rate(x, CONFIG)
    hiss = (rates.times > b[1] + 0.02) & (rates.times < b[2] - 0.02)
    assert rates.values[hiss].min() > 0.25
    with_rule = _run(x, low_db=-35.0)
    assert with_rule.segments.shape == (1, 2)
    np.testing.assert_allclose(with_rule.segments[0], [b[1], b[4]], atol=TOL)
    without = _run(x, low_db=-35.0, zcr=1.0)  # rule disabled: the vowel alone
    assert without.segments.shape == (1, 2)
    np.testing.assert_allclose(without.segments[0], [b[2], b[3]], atol=TOL)
    no_budget = _run(x, low_db=-35.0, max_unvoiced_s=0.0)
    np.testing.assert_array_equal(no_budget.segments, without.segments)


def test_a_long_hiss_is_capped_at_max_unvoiced_s() -> None:
    x, b = _unvoiced_onset(0.6)
    ep = _run(x, low_db=-35.0)
    assert ep.segments.shape == (1, 2)
    np.testing.assert_allclose(ep.segments[0, 0], b[2] - 0.25, atol=TOL)
    longer = _run(x, low_db=-35.0, max_unvoiced_s=1.0)
    np.testing.assert_allclose(longer.segments[0, 0], b[1], atol=TOL)


def test_a_short_pause_is_merged_and_a_long_one_kept() -> None:
    short, b = _compose(
        _silence(0.3), _voiced(0.3, 0.5, 9), _silence(0.1), _voiced(0.3, 0.5, 10), _silence(0.3)
    )
    merged = _run(short)
    assert merged.segments.shape == (1, 2)
    np.testing.assert_allclose(merged.segments[0], [b[1], b[4]], atol=TOL)
    assert merged.mask[(merged.times > b[2]) & (merged.times < b[3])].all()
    split = _run(short, min_silence_s=0.05)
    np.testing.assert_allclose(split.segments, [[b[1], b[2]], [b[3], b[4]]], atol=TOL)
    long, c = _compose(
        _silence(0.3), _voiced(0.3, 0.5, 9), _silence(0.3), _voiced(0.3, 0.5, 10), _silence(0.3)
    )
    np.testing.assert_allclose(_run(long).segments, [[c[1], c[2]], [c[3], c[4]]], atol=TOL)


def test_a_short_burst_is_dropped() -> None:
    x, b = _compose(
        _silence(0.4), _voiced(0.05, 0.6, 11), _silence(0.5), _voiced(0.6, 0.6, 12), _silence(0.4)
    )
    ep = _run(x)
    np.testing.assert_allclose(ep.segments, [[b[3], b[4]]], atol=TOL)
    kept = _run(x, min_speech_s=0.0)
    np.testing.assert_allclose(kept.segments, [[b[1], b[2]], [b[3], b[4]]], atol=TOL)


def test_syllables_of_the_shared_speech_signal() -> None:
    speech = speech_like(seed=13)
    ep = _run(speech.samples)
    np.testing.assert_allclose(ep.segments, np.array(speech.syllables), atol=TOL)


def test_thresholds_are_relative_to_the_loudest_frame() -> None:
    x, _ = _two_utterances()
    base = _run(x, floor_db=-100.0).segments
    for gain in (0.5, 0.125, 1.5):
        np.testing.assert_array_equal(_run(x * np.float32(gain), floor_db=-100.0).segments, base)


def test_the_absolute_floor_rejects_a_nearly_silent_clip() -> None:
    x, truth = _two_utterances()
    faint = x * np.float32(1e-4)  # loudest frame about -90 dBFS
    assert _run(faint).segments.shape == (0, 2)
    np.testing.assert_allclose(_run(faint, floor_db=-150.0).segments, truth, atol=TOL)


def test_empty_and_silent_input() -> None:
    empty = _run(np.zeros(0, dtype=np.float32))
    assert empty.mask.shape == (0,)
    assert empty.segments.shape == (0, 2)
    silent = _run(np.zeros(SR, dtype=np.float32))
    assert silent.segments.shape == (0, 2)
    assert silent.mask.shape == (1 + SR // CONFIG.hop_length,)
    assert silent.mask.sum() == 0
    for n in (1, CONFIG.hop_length - 1, CONFIG.hop_length):
        _run(speech_like(seed=14).samples[5000 : 5000 + n])


def test_deterministic_and_does_not_modify_input() -> None:
    x, _ = _two_utterances()
    before = x.copy()
    a, b = _run(x), _run(x.copy().astype(np.float64))
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(a.segments, b.segments)
    np.testing.assert_array_equal(a.mask, b.mask)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"high_db": 1.0},
        {"high_db": -50.0, "low_db": -40.0},
        {"low_db": float("nan")},
        {"floor_db": 0.0},
        {"floor_db": -200.0},
        {"noise_margin_db": -1.0},
        {"zcr": -0.1},
        {"zcr": 1.5},
        {"max_unvoiced_s": -0.1},
        {"min_speech_s": float("inf")},
        {"min_silence_s": -0.2},
        {"min_silence_s": "0.2"},
        {"zcr": True},
    ],
)
def test_bad_parameters_raise(kwargs: dict[str, Any]) -> None:
    with pytest.raises(FeatureError):
        endpoint(np.zeros(1000, dtype=np.float32), CONFIG, **kwargs)


@pytest.mark.parametrize(
    "bad",
    [np.zeros((2, 100), dtype=np.float32), np.zeros(100, dtype=np.int16), np.array([0.0, np.inf])],
    ids=["stereo", "int16", "inf"],
)
def test_bad_samples_raise(bad: np.ndarray) -> None:
    with pytest.raises(FeatureError):
        endpoint(bad, CONFIG)
    with pytest.raises(FeatureError):
        zero_crossing_rate(bad, CONFIG)


def test_zero_crossing_rate_values() -> None:
    def interior(series: Series) -> np.ndarray:
        return series.values[5:-5]

    assert (zero_crossing_rate(np.zeros(SR, dtype=np.float32), CONFIG).values == 0.0).all()
    np.testing.assert_allclose(interior(zero_crossing_rate(tone(1.0, 1000.0, 0.5), CONFIG)), 0.125, atol=0.01)
    noise = interior(zero_crossing_rate(white_noise(1.0, 0.1, seed=15), CONFIG))
    assert abs(float(noise.mean()) - 0.5) < 0.02
    with pytest.raises(FeatureError):
        zero_crossing_rate(np.zeros(100, dtype=np.float32), AudioConfig(sample_rate=SR, win_ms=0.05))


def speech_mask(samples: np.ndarray, config: AudioConfig) -> Series:
    """The endpoint mask as a float32 :class:`Series` on the MFCC grid (for the contract)."""
    ep = endpoint(samples, config)
    return Series(values=ep.mask.astype(np.float32), times=ep.times)


class TestZeroCrossingRateContract(ExtractorContract):
    extractor = staticmethod(zero_crossing_rate)

    def trailing_shape(self, config: AudioConfig) -> tuple[int, ...]:
        return ()


class TestSpeechMaskContract(ExtractorContract):
    extractor = staticmethod(speech_mask)

    def trailing_shape(self, config: AudioConfig) -> tuple[int, ...]:
        return ()


def test_a_recorded_conversation_matches_its_annotated_turns() -> None:
    """A real two-speaker recording (16 kHz, 30 s: 6.7 s of room noise, then talk with two
    pauses of 0.43 s and 0.29 s and one 0.13 s gap between turns, shorter than
    ``min_silence_s``). The annotation is of speaker turns, joined here across gaps shorter
    than ``min_silence_s``: every joined turn is one detected segment, edges within 0.1 s, and
    little else is called speech (a faint 0.25 s murmur at 2.4 s, 20 dB above the room, is)."""
    rec = conversation()
    config = AudioConfig(sample_rate=rec.sample_rate)
    found = endpoint(rec.samples, config, min_silence_s=0.2)
    truth = rec.speech(bridge_s=0.2)
    assert len(truth) == 3
    for start, end in truth:
        near = [s for s in found.segments if abs(s[0] - start) < 0.1 and abs(s[1] - end) < 0.1]
        assert len(near) == 1, (start, end, found.segments)
    annotated = np.zeros(found.times.size, dtype=bool)
    for start, end in truth:
        annotated |= (found.times >= start) & (found.times < end)
    detected = found.mask.astype(bool)
    hop = config.hop_length / config.sample_rate
    assert (detected & ~annotated).sum() * hop < 0.5  # speech where no turn is annotated
    assert (annotated & ~detected).sum() * hop < 0.3  # annotated speech missed
