"""Every audio extractor against the shared contract."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from emofeat.audio import Series, egemaps, energy, logmel, mfcc
from emofeat.config import AudioConfig
from tests.audio.contract import ExtractorContract


def egemaps_lld(samples: np.ndarray, config: AudioConfig) -> Series:
    """The LLD half of :func:`egemaps`, checking the functionals on the way."""
    lld, functionals = egemaps(samples, config)
    assert functionals.shape == (88,)
    assert functionals.dtype == np.float32
    assert np.isfinite(functionals).all()
    return lld


class TestMfccContract(ExtractorContract):
    extractor = staticmethod(mfcc)

    def trailing_shape(self, config: AudioConfig) -> tuple[int, ...]:
        return (config.n_mfcc,)


class TestMfccContractSmallConfig(TestMfccContract):
    config: ClassVar[AudioConfig] = AudioConfig(n_mfcc=13, n_mels=26, hop_ms=5.0, win_ms=20.0)


class TestLogmelContract(ExtractorContract):
    extractor = staticmethod(logmel)

    def trailing_shape(self, config: AudioConfig) -> tuple[int, ...]:
        return (config.n_mels, 3)


class TestEnergyContract(ExtractorContract):
    extractor = staticmethod(energy)

    def trailing_shape(self, config: AudioConfig) -> tuple[int, ...]:
        return ()


class TestEgemapsContract(ExtractorContract):
    extractor = staticmethod(egemaps_lld)

    def trailing_shape(self, config: AudioConfig) -> tuple[int, ...]:
        return (25,)
