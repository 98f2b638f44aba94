"""Broken inputs raise the right MediaError subclass, with a readable message, never a PyAV error."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from emofeat.config import VideoConfig
from emofeat.errors import (
    DecodeError,
    EmptyFileError,
    MediaError,
    NoMediaStreamError,
    UnreadableMediaError,
)
from emofeat.media import load_audio, probe, read_frames
from tests import mediagen

READERS: dict[str, Callable[[Path], Any]] = {
    "probe": probe,
    "load_audio": load_audio,
    "read_frames": lambda p: read_frames(p, VideoConfig()),
}


def raises(error: type[MediaError], reader: str, path: Path) -> MediaError:
    with pytest.raises(error) as caught:
        READERS[reader](path)
    exc = caught.value
    assert not isinstance(exc, av.error.FFmpegError)
    assert str(path) in str(exc)  # the message names the file
    assert exc.kind == error.kind
    assert exc.stage == "decode"
    return exc


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("name", ["empty.mp4", "empty.wav", "empty.png"])
def test_zero_byte_file(tmp_path: Path, reader: str, name: str) -> None:
    path = mediagen.corrupt(tmp_path / name, "empty")
    exc = raises(EmptyFileError, reader, path)
    assert "empty" in str(exc)


@pytest.mark.parametrize("reader", sorted(READERS))
def test_text_renamed_mp4(tmp_path: Path, reader: str) -> None:
    path = mediagen.corrupt(tmp_path / "notes.mp4", "text")
    exc = raises(UnreadableMediaError, reader, path)
    assert "Invalid data found when processing input" in str(exc)
    assert "not a media file or damaged header" in str(exc)


@pytest.mark.parametrize("reader", sorted(READERS))
def test_missing_file(tmp_path: Path, reader: str) -> None:
    exc = raises(UnreadableMediaError, reader, tmp_path / "nowhere.mp4")
    assert "no such file" in str(exc)


@pytest.mark.parametrize("reader", sorted(READERS))
def test_truncated_mp4_loses_its_index(tmp_path: Path, reader: str) -> None:
    # FFmpeg writes the MP4 index (moov) at the end: cut at half, the header is gone
    path = mediagen.write_video(
        tmp_path / "cut.mp4", mediagen.numbered_frames(40), audio=mediagen.sine(440, 1.6, 16000)
    )
    mediagen.corrupt(path, "truncate")
    raises(UnreadableMediaError, reader, path)


@pytest.mark.parametrize("reader", ["load_audio", "read_frames"])
def test_truncated_faststart_mp4_fails_to_decode(tmp_path: Path, reader: str) -> None:
    frames = mediagen.face_frames(40, size=(96, 128))
    path = mediagen.write_video(
        tmp_path / "cut.mp4", frames, audio=mediagen.sine(440, 1.6, 16000), faststart=True
    )
    mediagen.corrupt(path, "truncate")
    exc = raises(DecodeError, reader, path)
    assert "truncated or its data is corrupt" in str(exc)


def test_pcm_audio_in_mov_is_counted_in_samples(tmp_path: Path) -> None:
    # Cameras write PCM in MOV with one sample-table entry per sample; the demuxer hands it
    # over in chunks. Whole, it decodes; truncated, the missing samples are still caught.
    frames = mediagen.face_frames(40, size=(96, 128))
    audio = mediagen.sine(440, 1.6, 48000)
    path = mediagen.write_video(
        tmp_path / "camera.mov",
        frames,
        audio=audio,
        audio_rate=48000,
        audio_codec="pcm_s16le",
        faststart=True,
    )
    decoded = load_audio(path, 48000)
    assert decoded is not None
    assert decoded.samples.size == audio.size
    mediagen.corrupt(path, "truncate")
    exc = raises(DecodeError, "load_audio", path)
    assert "samples its container declares" in str(exc)


@pytest.mark.parametrize("codec", ["mjpeg", "mpeg4", "libx264"])
def test_damaged_avi(tmp_path: Path, codec: str) -> None:
    path = mediagen.write_video(
        tmp_path / f"{codec}.avi", mediagen.face_frames(30, size=(96, 128)), codec=codec
    )
    intact = read_frames(path, VideoConfig(sampling="all"))
    assert intact is not None
    assert len(intact) == 30
    mediagen.corrupt(path, "damage")
    raises(DecodeError, "read_frames", path)


def _patch(path: Path, offset: int, data: bytes) -> Path:
    raw = bytearray(path.read_bytes())
    raw[offset : offset + len(data)] = data
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize(
    "damage",
    [
        "magic",  # RIFF / WAVE / fmt tags overwritten
        "format_tag",  # fmt: audio format 0 (no codec)
        "channels",  # fmt: 0 channels
        "sample_rate",  # fmt: 0 Hz
        "bits",  # fmt: 0 bits per sample
    ],
)
@pytest.mark.parametrize("reader", ["probe", "load_audio"])
def test_broken_wav_header_is_an_error_not_garbage(tmp_path: Path, damage: str, reader: str) -> None:
    path = mediagen.write_audio(tmp_path / "h.wav", mediagen.speech_like(0.5, 16000), 16000)
    # canonical header: 'RIFF' size 'WAVE' 'fmt ' 16 | tag@20 channels@22 rate@24 ... bits@34
    if damage == "magic":
        mediagen.corrupt(path, "wav_header")
    else:
        offset, size = {"format_tag": (20, 2), "channels": (22, 2), "sample_rate": (24, 4), "bits": (34, 2)}[
            damage
        ]
        assert path.read_bytes()[12:16] == b"fmt "
        _patch(path, offset, bytes(size))
    exc = raises(UnreadableMediaError, reader, path)
    assert "header" in str(exc)


@pytest.mark.parametrize("reader", sorted(READERS))
def test_file_with_neither_audio_nor_video(tmp_path: Path, reader: str) -> None:
    path = tmp_path / "subs.srt"  # FFmpeg opens subtitles: a container with one text stream
    path.write_text("1\n00:00:00,000 --> 00:00:01,500\nHello\n\n2\n00:00:02,000 --> 00:00:03,000\nBye\n")
    exc = raises(NoMediaStreamError, reader, path)
    assert "no audio or video stream" in str(exc)
    assert "subtitle" in str(exc)


def test_empty_folder_is_no_media(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("no frames here")
    with pytest.raises(NoMediaStreamError, match="no image files"):
        read_frames(tmp_path, VideoConfig())
    with pytest.raises(NoMediaStreamError):
        probe(tmp_path)


def test_frame_size_change_in_a_folder(tmp_path: Path) -> None:
    mediagen.write_image(tmp_path / "1.png", np.zeros((32, 48, 3), np.uint8))
    mediagen.write_image(tmp_path / "2.png", np.zeros((40, 48, 3), np.uint8))
    with pytest.raises(DecodeError, match="frame size"):
        read_frames(tmp_path, VideoConfig(sampling="all"))


def test_errors_survive_pickling(tmp_path: Path) -> None:
    import pickle

    with pytest.raises(EmptyFileError) as caught:
        probe(mediagen.corrupt(tmp_path / "e.mp4", "empty"))
    clone = pickle.loads(pickle.dumps(caught.value))
    assert type(clone) is EmptyFileError
    assert clone.kind == "empty_file"
    assert str(clone) == str(caught.value)


def test_struct_helper_reads_the_header_it_patches(tmp_path: Path) -> None:
    # guards the offsets used above: a canonical 16 kHz mono 16-bit PCM header
    path = mediagen.write_audio(tmp_path / "ok.wav", mediagen.silence(0.1, 16000), 16000)
    tag, channels, rate = struct.unpack("<HHI", path.read_bytes()[20:28])
    bits = struct.unpack("<H", path.read_bytes()[34:36])[0]
    assert (tag, channels, rate, bits) == (1, 1, 16000, 16)
