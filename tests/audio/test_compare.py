"""ComParE_2016 through openSMILE: names, shapes, time grid, short/empty/silent/full-scale input."""

from __future__ import annotations

import numpy as np
import pytest

from emofeat.audio import Series
from emofeat.audio.compare import compare
from emofeat.audio.compare_names import COMPARE_FUNCTIONAL_NAMES, COMPARE_LLD_NAMES
from emofeat.config import AudioConfig
from emofeat.errors import FeatureError
from tests.audio.contract import ExtractorContract
from tests.audio.signals import SR, speech_like, square, tone

CONFIG = AudioConfig(sample_rate=SR)


def compare_lld(samples: np.ndarray, config: AudioConfig) -> Series:
    """The LLD half of :func:`compare`, checking the functionals on the way."""
    lld, functionals = compare(samples, config)
    assert functionals.shape == (6373,)
    assert functionals.dtype == np.float32
    assert np.isfinite(functionals).all()
    return lld


class TestCompareContract(ExtractorContract):
    extractor = staticmethod(compare_lld)

    def trailing_shape(self, config: AudioConfig) -> tuple[int, ...]:
        return (65,)


def test_names_match_opensmile() -> None:
    opensmile = pytest.importorskip("opensmile")
    for level, names in (
        (opensmile.FeatureLevel.LowLevelDescriptors, COMPARE_LLD_NAMES),
        (opensmile.FeatureLevel.Functionals, COMPARE_FUNCTIONAL_NAMES),
    ):
        smile = opensmile.Smile(feature_set=opensmile.FeatureSet.ComParE_2016, feature_level=level)
        assert tuple(smile.feature_names) == names
    assert len(COMPARE_LLD_NAMES) == len(set(COMPARE_LLD_NAMES)) == 65
    assert len(COMPARE_FUNCTIONAL_NAMES) == len(set(COMPARE_FUNCTIONAL_NAMES)) == 6373


def test_shapes_dtypes_and_time_grid_on_speech() -> None:
    samples = speech_like(seed=51).samples
    lld, functionals = compare(samples, CONFIG)
    duration = samples.size / SR
    assert abs(lld.values.shape[0] - round((duration - 0.06) / 0.01)) <= 2
    assert lld.values.shape[1] == 65
    assert lld.values.dtype == functionals.dtype == np.float32
    assert functionals.shape == (6373,)
    assert np.isfinite(lld.values).all()
    assert np.isfinite(functionals).all()
    assert lld.times[0] == pytest.approx(0.010)
    np.testing.assert_allclose(np.diff(lld.times), 0.010, atol=1e-9)


def test_tone_burst_is_centred_on_the_lld_clock() -> None:
    """The RMS energy of a burst from 0.5 s to 1.0 s is centred on 0.75 s (centre, not start, times)."""
    samples = np.zeros(int(1.5 * SR), dtype=np.float32)
    samples[int(0.5 * SR) : int(1.0 * SR)] = tone(0.5, 300.0, 0.3)
    lld, _ = compare(samples, CONFIG)
    rms = lld.values[:, COMPARE_LLD_NAMES.index("pcm_RMSenergy_sma")].astype(np.float64)
    centre = float((rms * lld.times).sum() / rms.sum())
    assert centre == pytest.approx(0.75, abs=0.004)


def test_deterministic_and_does_not_modify_input() -> None:
    samples = speech_like(seed=52).samples
    before = samples.copy()
    a_lld, a_fun = compare(samples, CONFIG)
    b_lld, b_fun = compare(samples, CONFIG)
    np.testing.assert_array_equal(a_lld.values, b_lld.values)
    np.testing.assert_array_equal(a_fun, b_fun)
    np.testing.assert_array_equal(samples, before)


def test_silence_is_finite_and_quieter_than_speech() -> None:
    idx = COMPARE_FUNCTIONAL_NAMES.index("pcm_RMSenergy_sma_amean")
    lld, silent = compare(np.zeros(SR, dtype=np.float32), CONFIG)
    assert np.isfinite(lld.values).all()
    assert np.isfinite(silent).all()
    _, spoken = compare(speech_like(seed=53).samples, CONFIG)
    assert silent[idx] < 1e-3
    assert spoken[idx] > 10 * max(silent[idx], 1e-6)


@pytest.mark.parametrize("n", [0, 1, 100, 959, 960, 2000])
def test_short_and_empty_input(n: int) -> None:
    samples = speech_like(seed=54).samples[5000 : 5000 + n]
    lld, functionals = compare(samples, CONFIG)
    assert np.isfinite(functionals).all()
    assert functionals.shape == (6373,)
    assert np.isfinite(lld.values).all()
    if n == 0:
        assert lld.values.shape == (0, 65)
    else:
        assert lld.values.shape[0] >= 1
        assert (lld.times - 0.010 < n / SR).all()  # only frames that start inside the signal


def test_full_scale_samples_do_not_wrap() -> None:
    idx = COMPARE_FUNCTIONAL_NAMES.index("pcm_RMSenergy_sma_amean")
    _, full = compare(square(1.0, 200.0, 1.0), CONFIG)
    _, near = compare(square(1.0, 200.0, 0.999), CONFIG)
    assert full[idx] == pytest.approx(near[idx], rel=0.01)


@pytest.mark.parametrize(
    "bad",
    [np.zeros((2, 1000), dtype=np.float32), np.zeros(1000, dtype=np.int16), np.array([0.0, np.inf])],
    ids=["stereo", "int16", "inf"],
)
def test_bad_samples_raise_feature_error(bad: np.ndarray) -> None:
    with pytest.raises(FeatureError):
        compare(bad, CONFIG)
