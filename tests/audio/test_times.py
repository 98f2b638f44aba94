"""Time axes: frame counts, frame-centre convention, and the eGeMAPS 10 ms grid."""

from __future__ import annotations

import numpy as np
import pytest

from emofeat.audio import egemaps, energy, logmel, mfcc
from emofeat.config import AudioConfig
from tests.audio.signals import SR, tone

CONFIGS = [AudioConfig(sample_rate=SR), AudioConfig(sample_rate=SR, hop_ms=5.0, win_ms=20.0)]


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("n", [1, 159, 160, 161, 16000, 16037])
def test_frame_count_and_times(config: AudioConfig, n: int) -> None:
    samples = np.zeros(n, dtype=np.float32)
    expected_t = 1 + n // config.hop_length
    for fn in (mfcc, logmel, energy):
        series = fn(samples, config)
        assert series.values.shape[0] == expected_t
        np.testing.assert_allclose(series.times, np.arange(expected_t) * config.hop_ms / 1000, atol=1e-12)


@pytest.mark.parametrize("config", CONFIGS)
def test_click_lands_on_the_frame_centred_on_it(config: AudioConfig) -> None:
    """A single impulse peaks in the frame whose centre is nearest to it (centre, not start, times)."""
    click_sample = 8000 + config.hop_length // 3
    samples = np.zeros(SR, dtype=np.float32)
    samples[click_sample] = 0.5
    click_time = click_sample / SR
    half_hop = config.hop_length / SR / 2
    e = energy(samples, config)
    assert abs(e.times[np.argmax(e.values)] - click_time) <= half_hop
    mel = logmel(samples, config)
    broadband = mel.values[:, :, 0].mean(axis=1)
    assert abs(mel.times[np.argmax(broadband)] - click_time) <= half_hop
    c0 = mfcc(samples, config)
    assert abs(c0.times[np.argmax(c0.values[:, 0])] - click_time) <= half_hop


def test_mfcc_logmel_energy_share_one_time_axis() -> None:
    samples = tone(1.234, 440.0, 0.3)
    config = AudioConfig(sample_rate=SR)
    a, b, c = mfcc(samples, config), logmel(samples, config), energy(samples, config)
    np.testing.assert_array_equal(a.times, b.times)
    np.testing.assert_array_equal(a.times, c.times)


def test_egemaps_lld_on_a_10ms_grid_aligned_with_a_tone_burst() -> None:
    """LLD times step by 10 ms, and the loudness of a burst from 0.5 s to 1.0 s is centred on 0.75 s."""
    samples = np.zeros(int(1.5 * SR), dtype=np.float32)
    samples[int(0.5 * SR) : int(1.0 * SR)] = tone(0.5, 300.0, 0.3)
    lld, _ = egemaps(samples, AudioConfig(sample_rate=SR))
    assert lld.values.shape[0] > 140
    np.testing.assert_allclose(np.diff(lld.times), 0.010, atol=1e-9)
    assert lld.times[0] == pytest.approx(0.010)
    loudness = lld.values[:, 0].astype(np.float64)
    centre = float((loudness * lld.times).sum() / loudness.sum())
    assert centre == pytest.approx(0.75, abs=0.004)
    on = lld.times[loudness > 0.5 * loudness.max()]
    assert on.min() == pytest.approx(0.5, abs=0.02)
    assert on.max() == pytest.approx(1.0, abs=0.02)
