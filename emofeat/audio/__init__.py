"""Pure audio feature functions: mono float32 samples in, arrays with frame times out.

See ``README.md`` in this folder for the contracts.
"""

from __future__ import annotations

from emofeat.audio.egemaps import egemaps
from emofeat.audio.egemaps_names import EGEMAPS_FUNCTIONAL_NAMES, EGEMAPS_LLD_NAMES
from emofeat.audio.energy import energy, frame_energy_db
from emofeat.audio.series import Series
from emofeat.audio.spectral import logmel, mel_filterbank, mfcc

__all__ = [
    "EGEMAPS_FUNCTIONAL_NAMES",
    "EGEMAPS_LLD_NAMES",
    "Series",
    "egemaps",
    "energy",
    "frame_energy_db",
    "logmel",
    "mel_filterbank",
    "mfcc",
]
