"""eGeMAPSv02 through openSMILE: names, shapes, physics, short/empty/silent/full-scale input."""

from __future__ import annotations

import numpy as np
import pytest

from emofeat.audio import EGEMAPS_FUNCTIONAL_NAMES, EGEMAPS_LLD_NAMES, egemaps
from emofeat.config import AudioConfig
from tests.audio.signals import SR, speech_like, square, vowel

CONFIG = AudioConfig(sample_rate=SR)


def test_names_match_opensmile() -> None:
    opensmile = pytest.importorskip("opensmile")
    for level, names in (
        (opensmile.FeatureLevel.LowLevelDescriptors, EGEMAPS_LLD_NAMES),
        (opensmile.FeatureLevel.Functionals, EGEMAPS_FUNCTIONAL_NAMES),
    ):
        smile = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02, feature_level=level)
        assert tuple(smile.feature_names) == names
    assert len(EGEMAPS_LLD_NAMES) == len(set(EGEMAPS_LLD_NAMES)) == 25
    assert len(EGEMAPS_FUNCTIONAL_NAMES) == len(set(EGEMAPS_FUNCTIONAL_NAMES)) == 88


def test_shapes_and_dtypes_on_speech() -> None:
    samples = speech_like(seed=21).samples
    lld, functionals = egemaps(samples, CONFIG)
    duration = samples.size / SR
    # openSMILE's 60 ms pitch window: frames start every 10 ms while 60 ms still fit (+1 final).
    assert abs(lld.values.shape[0] - round((duration - 0.06) / 0.01)) <= 2
    assert lld.values.shape[1] == 25
    assert lld.values.dtype == functionals.dtype == np.float32
    assert functionals.shape == (88,)
    assert np.isfinite(lld.values).all()
    assert np.isfinite(functionals).all()


def test_pitch_of_a_vowel() -> None:
    """F0 mean (semitones re 27.5 Hz) matches the generator's 150 Hz within half a semitone."""
    _, functionals = egemaps((0.5 * vowel(1.0, f0=150.0, seed=22)).astype(np.float32), CONFIG)
    f0_mean = functionals[EGEMAPS_FUNCTIONAL_NAMES.index("F0semitoneFrom27.5Hz_sma3nz_amean")]
    assert f0_mean == pytest.approx(12 * np.log2(150.0 / 27.5), abs=0.5)


def test_deterministic() -> None:
    samples = speech_like(seed=23).samples
    a_lld, a_fun = egemaps(samples, CONFIG)
    b_lld, b_fun = egemaps(samples, CONFIG)
    np.testing.assert_array_equal(a_lld.values, b_lld.values)
    np.testing.assert_array_equal(a_fun, b_fun)


def test_silence_is_finite_and_quieter_than_speech() -> None:
    loud_idx = EGEMAPS_FUNCTIONAL_NAMES.index("loudness_sma3_amean")
    lld, silent = egemaps(np.zeros(SR, dtype=np.float32), CONFIG)
    assert np.isfinite(lld.values).all()
    assert np.isfinite(silent).all()
    _, spoken = egemaps(speech_like(seed=24).samples, CONFIG)
    assert 0.0 <= silent[loud_idx] < 0.01
    assert spoken[loud_idx] > 0.1
    f0_idx = EGEMAPS_FUNCTIONAL_NAMES.index("F0semitoneFrom27.5Hz_sma3nz_amean")
    assert silent[f0_idx] == 0.0  # no voiced frame
    assert spoken[f0_idx] > 20.0


@pytest.mark.parametrize("n", [0, 1, 100, 959, 960, 2000])
def test_short_and_empty_input(n: int) -> None:
    samples = speech_like(seed=25).samples[5000 : 5000 + n]
    lld, functionals = egemaps(samples, CONFIG)
    assert np.isfinite(functionals).all()
    assert functionals.shape == (88,)
    assert np.isfinite(lld.values).all()
    if n == 0:
        assert lld.values.shape == (0, 25)
    else:
        assert lld.values.shape[0] >= 1
        # Only frames that start inside the real signal are kept.
        assert (lld.times - 0.010 < n / SR).all()


def test_full_scale_samples_do_not_wrap() -> None:
    """A square wave at exactly +-1.0 is as loud as one a hair below full scale (no int16 wrap)."""
    loud_idx = EGEMAPS_FUNCTIONAL_NAMES.index("loudness_sma3_amean")
    _, full = egemaps(square(1.0, 200.0, 1.0), CONFIG)
    _, near = egemaps(square(1.0, 200.0, 0.999), CONFIG)
    assert full[loud_idx] == pytest.approx(near[loud_idx], rel=0.01)
