"""Shared contract every audio extractor satisfies; each extractor's test class subclasses it.

A subclass sets :attr:`extractor` (a module-level function, so it pickles by reference) and
:meth:`trailing_shape`; it may override :meth:`series` when the extractor returns more than a
:class:`Series`.
"""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from emofeat.audio import Series
from emofeat.config import AudioConfig
from tests.audio.signals import SR, speech_like


class ExtractorContract:
    """Determinism, declared shape/dtype, finiteness, silence, very short and empty input, pickling."""

    extractor: ClassVar[Callable[..., Any]]
    config: ClassVar[AudioConfig] = AudioConfig(sample_rate=SR)
    #: Frame count for a non-empty input shorter than one hop (and so than one window).
    short_frames: ClassVar[int] = 1

    def trailing_shape(self, config: AudioConfig) -> tuple[int, ...]:
        raise NotImplementedError

    def series(self, samples: np.ndarray, config: AudioConfig) -> Series:
        return type(self).extractor(samples, config)

    def run_checked(self, samples: np.ndarray) -> Series:
        """Run with every numpy floating-point warning and every Python warning as an error."""
        with warnings.catch_warnings(), np.errstate(all="raise"):
            warnings.simplefilter("error")
            out = self.series(samples, self.config)
        assert isinstance(out, Series)
        assert out.values.dtype == np.float32
        assert out.times.dtype == np.float64
        assert out.values.shape[1:] == self.trailing_shape(self.config)
        assert out.times.shape == (out.values.shape[0],)
        assert np.isfinite(out.values).all()
        assert np.isfinite(out.times).all()
        return out

    def test_shape_dtype_and_times_on_speech(self) -> None:
        speech = speech_like(seed=1).samples
        out = self.run_checked(speech)
        duration = speech.size / SR
        assert out.values.shape[0] > 0.9 * duration / (self.config.hop_ms / 1000)
        assert (np.diff(out.times) > 0).all()
        assert 0.0 <= out.times[0] <= 0.03
        assert out.times[-1] <= duration + 1e-9

    def test_deterministic(self) -> None:
        speech = speech_like(seed=2).samples
        a = self.run_checked(speech)
        b = self.run_checked(speech.copy())
        np.testing.assert_array_equal(a.values, b.values)
        np.testing.assert_array_equal(a.times, b.times)

    def test_does_not_modify_input(self) -> None:
        speech = speech_like(seed=3).samples
        before = speech.copy()
        self.run_checked(speech)
        np.testing.assert_array_equal(speech, before)

    def test_digital_silence_is_finite(self) -> None:
        out = self.run_checked(np.zeros(SR, dtype=np.float32))
        assert out.values.shape[0] > 0

    def test_very_short_input(self) -> None:
        # Shorter than one hop (so than one window), taken from inside a syllable.
        n = self.config.hop_length - 1
        out = self.run_checked(speech_like(seed=4).samples[5000 : 5000 + n])
        assert out.values.shape[0] == self.short_frames

    def test_empty_input_gives_no_frames(self) -> None:
        out = self.run_checked(np.zeros(0, dtype=np.float32))
        assert out.values.shape == (0, *self.trailing_shape(self.config))

    def test_extractor_config_and_output_pickle(self) -> None:
        fn = type(self).extractor
        assert pickle.loads(pickle.dumps(fn)) is fn
        config = pickle.loads(pickle.dumps(self.config))
        assert config == self.config
        speech = speech_like(seed=5).samples[:4000]
        out = self.run_checked(speech)
        back = pickle.loads(pickle.dumps(out))
        np.testing.assert_array_equal(back.values, out.values)
        np.testing.assert_array_equal(back.times, out.times)
