"""Pure audio feature functions: mono float32 samples in, arrays with frame times out.

See ``README.md`` in this folder for the contracts.
"""

from __future__ import annotations

from emofeat.audio.compare import compare
from emofeat.audio.compare_names import COMPARE_FUNCTIONAL_NAMES, COMPARE_LLD_NAMES
from emofeat.audio.descriptors import (
    SPECTRAL_NAMES,
    TEMPO_HISTOGRAM_NAMES,
    TEMPO_RATES_HZ,
    onset_strength,
    spectral_features,
    spectrogram,
    tempo_histogram,
)
from emofeat.audio.egemaps import egemaps
from emofeat.audio.egemaps_names import EGEMAPS_FUNCTIONAL_NAMES, EGEMAPS_LLD_NAMES
from emofeat.audio.endpoint import Endpoints, endpoint, zero_crossing_rate
from emofeat.audio.energy import energy, frame_energy_db
from emofeat.audio.pauses import PAUSE_NAMES, pause_stats, window_pauses
from emofeat.audio.prep import preemphasis
from emofeat.audio.series import Series
from emofeat.audio.spectral import logmel, mel_filterbank, mfcc
from emofeat.audio.windows import window_names, windowed

__all__ = [
    "COMPARE_FUNCTIONAL_NAMES",
    "COMPARE_LLD_NAMES",
    "EGEMAPS_FUNCTIONAL_NAMES",
    "EGEMAPS_LLD_NAMES",
    "PAUSE_NAMES",
    "SPECTRAL_NAMES",
    "TEMPO_HISTOGRAM_NAMES",
    "TEMPO_RATES_HZ",
    "Endpoints",
    "Series",
    "compare",
    "egemaps",
    "endpoint",
    "energy",
    "frame_energy_db",
    "logmel",
    "mel_filterbank",
    "mfcc",
    "onset_strength",
    "pause_stats",
    "preemphasis",
    "spectral_features",
    "spectrogram",
    "tempo_histogram",
    "window_names",
    "window_pauses",
    "windowed",
    "zero_crossing_rate",
]
