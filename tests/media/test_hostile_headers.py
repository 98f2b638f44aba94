"""Headers that declare what no recording has are refused before decoding."""

from __future__ import annotations

import dataclasses
import struct
from pathlib import Path

import numpy as np
import pytest

from emofeat.errors import ImplausibleHeaderError
from emofeat.media import probe
from emofeat.media.probe import MAX_DURATION_S, MAX_FPS, check_header
from emofeat.pipeline import RunOptions, ingest

SAMPLES = (np.sin(np.arange(16000) * 0.1) * 10000).astype("<i2").tobytes()


def wav(path: Path, rate: int = 16000, channels: int = 1) -> Path:
    """A PCM WAV whose header says ``rate`` and ``channels`` over one second of real samples."""
    fmt = struct.pack("<IHHIIHH", 16, 1, channels, rate, (rate * 2 * channels) % 2**32, 2 * channels, 16)
    header = b"RIFF" + struct.pack("<I", 36 + len(SAMPLES)) + b"WAVE" + b"fmt " + fmt
    path.write_bytes(header + b"data" + struct.pack("<I", len(SAMPLES)) + SAMPLES)
    return path


def test_a_plausible_file_passes(tmp_path: Path) -> None:
    info = probe(wav(tmp_path / "ok.wav"))
    assert info.audio_sample_rate == 16000
    assert check_header(info) is info


@pytest.mark.parametrize(
    ("rate", "channels", "what"), [(2**31 - 1, 1, "sample rate"), (16000, 255, "channel")]
)
def test_absurd_audio_headers_are_refused(tmp_path: Path, rate: int, channels: int, what: str) -> None:
    with pytest.raises(ImplausibleHeaderError, match=what) as err:
        probe(wav(tmp_path / "bad.wav", rate, channels))
    assert err.value.kind == "implausible_header"
    assert "refused without decoding" in err.value.message


def test_absurd_durations_and_frame_rates_are_refused(tmp_path: Path) -> None:
    info = probe(wav(tmp_path / "ok.wav"))
    with pytest.raises(ImplausibleHeaderError, match="duration"):
        check_header(dataclasses.replace(info, duration=MAX_DURATION_S * 10))
    with pytest.raises(ImplausibleHeaderError, match="frame rate"):
        check_header(dataclasses.replace(info, avg_fps=MAX_FPS * 100))


def test_ingestion_records_them_and_goes_on(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    wav(root / "good.wav")
    wav(root / "crafted.wav", rate=2**31 - 1)
    summary = ingest("folder", root, tmp_path / "store", options=RunOptions(workers=1))
    assert summary.clips["ok"] == 1
    assert [(f["clip_id"], f["stage"], f["error_kind"]) for f in summary.failures] == [
        ("folder/crafted.wav", "probe", "implausible_header")
    ]
