"""load_audio: layouts, rates and codecs to 16 kHz mono float32; lengths; pitch kept."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from emofeat.media import load_audio
from tests import mediagen

OUT_RATE = 16000


def dominant_frequency(x: np.ndarray, rate: int) -> float:
    """Peak of the Hann-windowed spectrum, refined by parabolic interpolation."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    k = int(np.argmax(spectrum[1:-1])) + 1
    a, b, c = np.log(spectrum[k - 1 : k + 2] + 1e-12)
    offset = 0.5 * (a - c) / (a - 2 * b + c)
    return (k + offset) * rate / len(x)


def energy_share_near(x: np.ndarray, rate: int, freq: float, width: float = 20.0) -> float:
    """Fraction of the signal's energy within ``freq +- width`` Hz."""
    power = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    f = np.fft.rfftfreq(len(x), 1 / rate)
    return float(power[np.abs(f - freq) <= width].sum() / power.sum())


def need_encoder(codec: str) -> None:
    try:
        av.codec.Codec(codec, "w")
    except av.error.FFmpegError:  # pragma: no cover - depends on the av wheel
        pytest.skip(f"the av wheel has no {codec} encoder")


@pytest.mark.parametrize(
    ("suffix", "codec", "rate", "channels", "duration", "tolerance_s"),
    [
        (".wav", "pcm_s16le", 44100, 1, 1.0, 1 / OUT_RATE),
        (".flac", "flac", 48000, 2, 1.0, 1 / OUT_RATE),
        # Lossy encoders pad the last frame and FFmpeg's muxers do not mark the tail padding, so
        # these durations are whole frames: 43 AAC frames of 1024, 30 AC-3 frames of 1536.
        (".m4a", "aac", 44100, 2, 43 * 1024 / 44100, 0.005),
        (".ac3", "ac3", 48000, 6, 0.96, 0.005),
        (".ogg", "libopus", 48000, 2, 1.0, 0.005),
        (".mp3", "libmp3lame", 44100, 1, 1.0, 0.005),
    ],
)
def test_codecs_decode_to_16k_mono_with_the_right_length_and_pitch(
    tmp_path: Path, suffix: str, codec: str, rate: int, channels: int, duration: float, tolerance_s: float
) -> None:
    need_encoder(codec)
    tone = mediagen.sine(1000, duration, rate, amplitude=0.4)
    path = mediagen.write_audio(
        tmp_path / f"tone{suffix}", np.repeat(tone[:, None], channels, axis=1), rate, codec
    )

    audio = load_audio(path)

    assert audio is not None
    assert audio.sample_rate == OUT_RATE
    assert audio.samples.dtype == np.float32
    assert audio.samples.ndim == 1
    assert abs(audio.samples.shape[0] - duration * OUT_RATE) <= tolerance_s * OUT_RATE
    assert np.abs(audio.samples).max() <= 1.0
    body = audio.samples[800:-800]  # skip codec onset / tail transients
    assert dominant_frequency(body, OUT_RATE) == pytest.approx(1000, abs=2)
    assert energy_share_near(body, OUT_RATE, 1000) > 0.99


@pytest.mark.parametrize("rate", [8000, 44100, 48000])
def test_rates_resample_exactly_and_keep_a_sine_s_frequency(tmp_path: Path, rate: int) -> None:
    duration = 1.25
    path = mediagen.write_audio(tmp_path / f"r{rate}.wav", mediagen.sine(1234.5, duration, rate), rate)

    audio = load_audio(path)

    assert audio is not None
    # PCM has no codec padding: the flushed resampler gives duration * 16000 samples (+-1)
    assert abs(audio.samples.shape[0] - duration * OUT_RATE) <= 1
    assert dominant_frequency(audio.samples, OUT_RATE) == pytest.approx(1234.5, abs=1.0)
    # the tail is kept: the last 5 ms still carry the tone at full level
    tail = audio.samples[-80:]
    assert np.sqrt(np.mean(tail**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.15)


@pytest.mark.parametrize("channels", [1, 2, 6])
def test_layouts_downmix_without_clipping(tmp_path: Path, channels: int) -> None:
    # every channel at 0.9: a plain 5.1 -> mono matrix would sum to about 3 and clip
    tone = mediagen.sine(440, 1.0, 44100, amplitude=0.9)
    path = mediagen.write_audio(
        tmp_path / f"c{channels}.wav", np.repeat(tone[:, None], channels, axis=1), 44100
    )

    audio = load_audio(path)

    assert audio is not None
    assert abs(audio.samples.shape[0] - OUT_RATE) <= 1
    assert np.abs(audio.samples).max() < 0.99
    assert np.abs(audio.samples).max() > 0.3
    assert dominant_frequency(audio.samples, OUT_RATE) == pytest.approx(440, abs=1)
    assert energy_share_near(audio.samples, OUT_RATE, 440) > 0.999  # clean sine: no clipping harmonics


def test_stereo_downmix_is_the_channel_mean(tmp_path: Path) -> None:
    left = mediagen.sine(500, 1.0, OUT_RATE, amplitude=0.8)
    right = np.zeros_like(left)
    path = mediagen.write_audio(tmp_path / "lr.wav", np.stack([left, right], axis=1), OUT_RATE)

    audio = load_audio(path)

    assert audio is not None
    np.testing.assert_allclose(audio.samples, left / 2, atol=2 / 32768)


def test_16k_mono_pcm_passes_through_unchanged_and_silence_stays_exact(speech_wav: Path) -> None:
    original = mediagen.speech_like(1.5, OUT_RATE, seed=1)
    quantised = np.round(original * 32767) / 32768  # what pcm_s16le stores, read back as FFmpeg scales

    audio = load_audio(speech_wav)

    assert audio is not None
    assert audio.samples.shape == original.shape
    np.testing.assert_allclose(audio.samples, quantised, atol=1.5 / 32768)
    assert np.all(audio.samples[original == 0] == 0.0)
    assert audio.duration == pytest.approx(1.5)


def test_other_output_rate(speech_wav: Path) -> None:
    audio = load_audio(speech_wav, sample_rate=8000)
    assert audio is not None
    assert audio.sample_rate == 8000
    assert abs(audio.samples.shape[0] - 12000) <= 1


def test_audio_track_of_a_video_is_decoded(numbered_mp4: Path) -> None:
    audio = load_audio(numbered_mp4)
    assert audio is not None
    # 2 s is 31.25 AAC frames: the encoder pads the last one (at most 1024 samples)
    assert 2.0 * OUT_RATE - 1 <= audio.samples.shape[0] <= 2.0 * OUT_RATE + 1024
    assert dominant_frequency(audio.samples[1000:-1000], OUT_RATE) == pytest.approx(440, abs=2)


def test_no_audio_stream_is_none_not_an_error(silent_mp4: Path, tmp_path: Path) -> None:
    assert load_audio(silent_mp4) is None
    image = mediagen.write_image(tmp_path / "still.png", mediagen.orientation_pattern())
    assert load_audio(image) is None
    assert load_audio(tmp_path) is None  # a folder is an image sequence


@pytest.mark.parametrize("bad", [0, -16000, 16000.5, True, "16000"])
def test_bad_sample_rate_is_rejected(speech_wav: Path, bad: object) -> None:
    with pytest.raises(ValueError, match="sample_rate"):
        load_audio(speech_wav, sample_rate=bad)  # type: ignore[arg-type]
