"""The energy tag: dBFS definition, speech vs digital silence vs quiet noise."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from emofeat.audio import energy, frame_energy_db
from emofeat.config import AudioConfig
from emofeat.errors import FeatureError
from tests.audio.signals import SR, speech_like, square, tone, white_noise

CONFIG = AudioConfig(sample_rate=SR)


def _interior(values: np.ndarray) -> np.ndarray:
    """Frames whose window lies inside the signal (drops the zero-padded edges)."""
    edge = CONFIG.n_fft // CONFIG.hop_length + 1
    return values[edge:-edge]


def test_dbfs_reference_levels() -> None:
    np.testing.assert_allclose(
        _interior(frame_energy_db(square(1.0, 250.0, 1.0), CONFIG).values), 0.0, atol=0.05
    )
    sine_db = _interior(frame_energy_db(tone(1.0, 1000.0, 1.0), CONFIG).values)
    np.testing.assert_allclose(sine_db, 10 * np.log10(0.5), atol=0.05)
    quiet = _interior(frame_energy_db(tone(1.0, 1000.0, 0.01), CONFIG).values)
    np.testing.assert_allclose(quiet, 10 * np.log10(0.5) - 40.0, atol=0.05)


def test_speech_is_high_and_gaps_are_zero() -> None:
    speech = speech_like(seed=11)
    tag = energy(speech.samples, CONFIG)
    assert tag.values.min() >= 0.0
    assert tag.values.max() == pytest.approx(1.0)
    half_window = CONFIG.win_length / SR / 2
    core = np.zeros(len(tag), dtype=bool)
    for start, end in speech.syllables:
        core |= (tag.times >= start + speech.ramp_s + half_window) & (
            tag.times <= end - speech.ramp_s - half_window
        )
    assert core.sum() > 60
    assert (tag.values[core] > 0.5).all()
    # Frames whose whole window lies in the digital-silence gaps are exactly 0.
    voiced_or_near = np.zeros(len(tag), dtype=bool)
    for start, end in speech.syllables:
        voiced_or_near |= (tag.times > start - half_window) & (tag.times < end + half_window)
    assert (~voiced_or_near).sum() > 60
    assert (tag.values[~voiced_or_near] == 0.0).all()


def test_digital_silence_is_all_zero_without_warnings() -> None:
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        tag = energy(np.zeros(SR, dtype=np.float32), CONFIG)
        db = frame_energy_db(np.zeros(SR, dtype=np.float32), CONFIG)
    assert (tag.values == 0.0).all()
    assert np.isfinite(db.values).all()


def test_quiet_noise_below_threshold_is_zero_and_above_is_not() -> None:
    below = white_noise(1.0, rms=10 ** (-60 / 20), seed=12)  # -60 dBFS < -50 dBFS threshold
    assert (energy(below, CONFIG).values == 0.0).all()
    above = white_noise(1.0, rms=10 ** (-40 / 20), seed=13)
    assert (_interior(energy(above, CONFIG).values) > 0.0).all()


def test_threshold_follows_the_config() -> None:
    noise = white_noise(1.0, rms=10 ** (-60 / 20), seed=14)
    strict = AudioConfig(sample_rate=SR, energy_silence_db=-70.0)
    assert (_interior(energy(noise, strict).values) > 0.0).all()


def test_tag_is_linear_in_db_between_threshold_and_clip_maximum() -> None:
    loud = tone(0.5, 500.0, 1.0)  # about -3 dBFS
    soft = tone(0.5, 500.0, 10 ** (-20 / 20))  # 20 dB lower
    tag = energy(np.concatenate([loud, soft]), CONFIG)
    loud_db, silence_db = 10 * np.log10(0.5), CONFIG.energy_silence_db
    expected_soft = (loud_db - 20 - silence_db) / (loud_db - silence_db)
    soft_frames = tag.values[(tag.times > 0.6) & (tag.times < 0.9)]
    np.testing.assert_allclose(soft_frames, expected_soft, atol=2e-3)


def test_invalid_threshold_raises() -> None:
    with pytest.raises(FeatureError):
        energy(np.zeros(100, dtype=np.float32), AudioConfig(sample_rate=SR, energy_silence_db=0.0))
