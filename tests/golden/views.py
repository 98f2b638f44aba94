"""What each golden digest holds: the extractor run on its fixed input, and the view hashed.

Every :class:`~tests.golden.digest.Part` states its grid (``floor``, ``rel``) and the
cross-machine ``noise`` it must tolerate, with the reason next to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from skimage import data

from emofeat.audio import (
    compare,
    egemaps,
    endpoint,
    energy,
    logmel,
    mfcc,
    onset_strength,
    pause_stats,
    preemphasis,
    spectral_features,
    spectrogram,
    tempo_histogram,
    window_pauses,
    windowed,
)
from emofeat.config import AudioConfig, FaceConfig, VideoConfig
from emofeat.faces import RetinaFaceDetector, align_face
from emofeat.media import load_audio, read_frames
from emofeat.media.records import Frames
from tests.golden.digest import Part, View
from tests.golden.inputs import (
    ASTRONAUT_LANDMARKS,
    coded_frames,
    frame_number,
    utterance,
    write_clip,
    write_wav,
)

#: Float64 math whose only rounding that can differ across machines is the final cast to
#: float32 (a value can land one float32 step, 6e-8 to 1.2e-7 of it, either side): two steps.
FLOAT32_CAST = 2.5e-7
#: Native float32 code (openSMILE, onnxruntime's CPU kernels, libswresample's SIMD filters),
#: whose kernels and libm differ between CPUs: about a hundred float32 steps.
FLOAT32_NATIVE = 1e-5
#: Frame times are exact: sample counts over the rate, or container timestamps over the time
#: base (1 ns covers any decimal printing of them).
EXACT_TIME = 1e-9


def _times(times: np.ndarray, rel: float) -> Part:
    return Part(np.asarray(times, np.float64), floor=0.01, rel=rel, noise=EXACT_TIME)


def signal() -> np.ndarray:
    """The golden audio input (1.2 s at 16 kHz, :func:`tests.golden.inputs.utterance`)."""
    return utterance()


def mfcc_view(samples: np.ndarray, config: AudioConfig) -> View:
    """MFCC ``(121, 40)``: a 10 % grid (1 unit near 0); float64 math cast to float32."""
    out = mfcc(samples, config)
    return {
        "values": Part(out.values, floor=1.0, rel=0.1, noise=FLOAT32_CAST),
        "times": _times(out.times, 0.1),
    }


def logmel_view(samples: np.ndarray, config: AudioConfig) -> View:
    """Log-mel with deltas ``(121, 64, 3)`` dB: a 25 % grid (0.25 dB near 0) for its 23 232 values."""
    out = logmel(samples, config)
    return {
        "values": Part(out.values, floor=1.0, rel=0.25, noise=FLOAT32_CAST),
        "times": _times(out.times, 0.1),
    }


def energy_view(samples: np.ndarray, config: AudioConfig) -> View:
    """Energy tag ``(121,)`` in [0, 1]: a 3 % grid (0.03 near 0)."""
    out = energy(samples, config)
    return {
        "values": Part(out.values, floor=1.0, rel=0.03, noise=FLOAT32_CAST),
        "times": _times(out.times, 0.1),
    }


def egemaps_views(samples: np.ndarray, config: AudioConfig) -> tuple[View, View]:
    """eGeMAPS LLDs ``(116, 25)`` on a 10 % grid and the 88 functionals on a 2 % grid.

    Floors of 1 (the LLDs' natural units: Hz, dB, ratios); openSMILE runs float32 natively.
    """
    lld, functionals = egemaps(samples, config)
    return (
        {
            "values": Part(lld.values, floor=1.0, rel=0.1, noise=FLOAT32_NATIVE),
            "times": _times(lld.times, 0.1),
        },
        {"values": Part(functionals, floor=1.0, rel=0.02, noise=FLOAT32_NATIVE)},
    )


@lru_cache(maxsize=1)
def detector() -> RetinaFaceDetector:
    """The built-in detector at the default input size, one thread."""
    return RetinaFaceDetector(FaceConfig().input_size, threads=1)


def astronaut() -> np.ndarray:
    """scikit-image's astronaut photo, ``(512, 512, 3)`` uint8 RGB."""
    return np.asarray(data.astronaut())


def detection_view(found_detector: RetinaFaceDetector, image: np.ndarray) -> View:
    """Detections at the default threshold: boxes and landmarks on a 0.2 % grid (0.2 px near 0,
    0.4 px at 200 px), scores on a 0.2 % grid; onnxruntime is native float32."""
    found = found_detector.detect(image, FaceConfig().threshold)
    return {
        "boxes": Part(found.boxes, floor=100.0, rel=0.002, noise=FLOAT32_NATIVE),
        "scores": Part(found.scores, floor=1.0, rel=0.002, noise=FLOAT32_NATIVE),
        "landmarks": Part(found.landmarks, floor=100.0, rel=0.002, noise=FLOAT32_NATIVE),
    }


#: A block of the pooled crop: 28 x 28 pixels (4 x 4 blocks of the 112 x 112 crop).
CROP_BLOCK = 28
#: Eight pixels of a block one grey level off (a landmark moved by 1e-7 of itself does less).
CROP_NOISE = 8 / CROP_BLOCK**2 / 255


def crop_view(crop: np.ndarray) -> View:
    """A crop's per-block, per-channel mean and standard deviation on a 2 % grid of full scale.

    Pixels are integers, so float noise upstream moves a few of them by one grey level at a
    time: pooling turns that into a tiny, bounded move of the block statistics (the means
    catch geometry and colour, the deviations interpolation).
    """
    side = crop.shape[0] // CROP_BLOCK
    blocks = crop.astype(np.float64).reshape(side, CROP_BLOCK, side, CROP_BLOCK, 3)
    return {
        "shape": Part(np.asarray(crop.shape)),
        "mean": Part(blocks.mean(axis=(1, 3)), floor=255.0, rel=0.02, noise=CROP_NOISE),
        "std": Part(blocks.std(axis=(1, 3)), floor=255.0, rel=0.02, noise=CROP_NOISE),
    }


def alignment_view(image: np.ndarray, landmarks: np.ndarray) -> View:
    """:func:`emofeat.faces.align_face` (norm_crop) of the astronaut at fixed landmarks."""
    return crop_view(align_face(image, landmarks, FaceConfig().crop_size))


def patch_means(images: np.ndarray) -> np.ndarray:
    """Mean RGB of the interior of each of the six colour patches of
    :func:`tests.golden.inputs.coded_frames` over all frames, ``(6, 3)``."""
    height, width = images.shape[1], images.shape[2] // 6
    rows = slice(height * 5 // 8 + 2, height * 7 // 8 - 2)
    return np.stack(
        [
            images[:, rows, k * width + 4 : (k + 1) * width - 4].astype(np.float64).mean(axis=(0, 1, 2))
            for k in range(6)
        ]
    )


def block_rms(samples: np.ndarray, block: int = 320) -> np.ndarray:
    """RMS of consecutive 20 ms blocks (at 16 kHz) of a signal, float64."""
    n = samples.size // block
    return np.asarray(np.sqrt((samples[: n * block].astype(np.float64).reshape(n, block) ** 2).mean(axis=1)))


@dataclass(frozen=True)
class MediaInputs:
    """The golden media files: H.264 (turned 90 degrees), lossless RGB (turned 270), a WAV."""

    h264: Path
    rgb: Path
    wav: Path


def write_media(folder: Path) -> MediaInputs:
    """Write the golden media files into ``folder`` (24 frames at 25 fps; 0.96 s of 48 kHz stereo)."""
    frames = coded_frames(24)
    rate = 48000
    mono = np.asarray(utterance(rate), np.float64)[: round(0.96 * rate)]
    stereo = np.stack([mono, 0.5 * mono[::-1]], axis=1) * 0.8
    return MediaInputs(
        h264=write_clip(folder / "h264.mov", frames, 25, "libx264", "yuv420p", 90),
        rgb=write_clip(folder / "rgb.mov", frames, 25, "png", "rgb24", 270),
        wav=write_wav(folder / "stereo48k.wav", stereo, rate),
    )


def _read(path: Path, config: VideoConfig) -> Frames:
    frames = read_frames(path, config)
    assert frames is not None, f"{path} has no video"
    return frames


def media_view(inputs: MediaInputs, config: VideoConfig) -> View:
    """Decoding and sampling: which frames (indices, times, the numbers they show), their
    colours, exact pixels of the lossless clip, and the 16 kHz mono audio.

    H.264 pixels are not hashed: FFmpeg's YUV to RGB conversion may round a pixel one grey
    level differently on another CPU, so only patch means on a 10 % grid of full scale are
    (robust to every pixel being one level off). The lossless RGB clip needs no conversion:
    its pixels are hashed exactly. Audio: per-20-ms RMS on a 5 % grid (0.0005 near 0),
    resampled by libswresample's float SIMD filters.
    """
    h264 = _read(inputs.h264, config)
    rgb = _read(inputs.rgb, VideoConfig(sampling="fps", fps=10.0))
    audio = load_audio(inputs.wav, 16000)
    assert audio is not None
    return {
        "h264_indices": Part(h264.indices),
        "h264_times": _times(h264.times, 0.1),
        "h264_numbers": Part(np.asarray([frame_number(image) for image in h264.images])),
        "h264_shape": Part(np.asarray(h264.images.shape)),
        "h264_patches": Part(patch_means(h264.images), floor=255.0, rel=0.1, noise=1 / 255),
        "rgb_indices": Part(rgb.indices),
        "rgb_times": _times(rgb.times, 0.1),
        "rgb_pixels": Part(rgb.images),
        "audio_length": Part(np.asarray([audio.samples.size, audio.sample_rate])),
        "audio_start": _times(np.asarray([audio.start]), 0.1),
        "audio_rms": Part(block_rms(audio.samples), floor=0.01, rel=0.05, noise=FLOAT32_NATIVE),
    }


def preemphasis_view(samples: np.ndarray, config: AudioConfig) -> View:
    """The pre-emphasised signal (a = 0.94) as block RMS: a 5 % grid."""
    out = preemphasis(samples, 0.94)
    return {"rms": Part(block_rms(out), floor=0.01, rel=0.05, noise=FLOAT32_CAST)}


def endpoint_view(samples: np.ndarray, config: AudioConfig) -> View:
    """Speech segments (seconds, a 2 % grid) and the mask (exact)."""
    found = endpoint(samples, config)
    return {
        "segments": Part(found.segments, floor=0.1, rel=0.02, noise=EXACT_TIME),
        "mask": Part(found.mask),
    }


def pauses_view(samples: np.ndarray, config: AudioConfig) -> View:
    """Pause statistics of fixed segments, per clip and per 0.5 s window: a 2 % grid."""
    segments = np.array([[0.1, 0.3], [0.45, 0.7], [0.72, 1.1]])
    windows = window_pauses(segments, 1.2, 0.5, 0.25)
    return {
        "clip": Part(pause_stats(segments, 1.2), floor=0.1, rel=0.02, noise=FLOAT32_CAST),
        "windows": Part(windows.values, floor=0.1, rel=0.02, noise=FLOAT32_CAST),
        "times": _times(windows.times, 0.1),
    }


def spectral_view(samples: np.ndarray, config: AudioConfig) -> View:
    """Centroid and roll-off (Hz) and flux ``(121, 3)``: a 10 % grid."""
    out = spectral_features(samples, config)
    return {
        "values": Part(out.values, floor=1.0, rel=0.1, noise=FLOAT32_CAST),
        "times": _times(out.times, 0.1),
    }


def spectrogram_view(samples: np.ndarray, config: AudioConfig) -> View:
    """Linear spectrogram ``(121, 257)`` dB: a 25 % grid (0.25 dB near 0)."""
    out = spectrogram(samples, config)
    return {
        "values": Part(out.values, floor=1.0, rel=0.25, noise=FLOAT32_CAST),
        "times": _times(out.times, 0.1),
    }


def rhythm_view(samples: np.ndarray, config: AudioConfig) -> View:
    """Onset envelope ``(121,)`` and the 17-bin rhythm histogram: a 10 % grid."""
    onset = onset_strength(samples, config)
    return {
        "onset": Part(onset.values, floor=1.0, rel=0.1, noise=FLOAT32_CAST),
        "histogram": Part(tempo_histogram(onset), floor=0.1, rel=0.1, noise=FLOAT32_CAST),
    }


def compare_view(samples: np.ndarray, config: AudioConfig) -> View:
    """ComParE: each LLD's mean over time (65) and the 6373 functionals' means over 64 runs of
    consecutive ones, on a 10 % grid (so many raw values always hold one within openSMILE's
    native noise of a grid boundary)."""
    lld, functionals = compare(samples, config)
    runs = np.asarray([run.mean() for run in np.array_split(functionals.astype(np.float64), 64)])
    return {
        "lld": Part(lld.values.astype(np.float64).mean(axis=0), floor=1.0, rel=0.1, noise=FLOAT32_NATIVE),
        "functionals": Part(runs, floor=1.0, rel=0.1, noise=FLOAT32_NATIVE),
        "times": _times(lld.times, 0.1),
    }


def windows_view(samples: np.ndarray, config: AudioConfig) -> View:
    """Windowed functionals of the MFCC over 0.5 s Hamming windows every 0.25 s: a 10 % grid."""
    out, _names = windowed(mfcc(samples, config), [f"c{i}" for i in range(config.n_mfcc)], 0.5, 0.25)
    return {
        "values": Part(out.values, floor=1.0, rel=0.1, noise=FLOAT32_CAST),
        "times": _times(out.times, 0.1),
    }


#: Golden entry -> (``IMPLEMENTATION_VERSIONS`` key, how to compute its view in a work folder).
Compute = Callable[[Path], View]


def _audio(view: Callable[[np.ndarray, AudioConfig], View]) -> Compute:
    return lambda _folder: view(signal(), AudioConfig())


GOLDENS: dict[str, tuple[str, Compute]] = {
    "mfcc": ("mfcc", _audio(mfcc_view)),
    "logmel": ("logmel", _audio(logmel_view)),
    "energy": ("energy", _audio(energy_view)),
    "egemaps_lld": ("egemaps", lambda _f: egemaps_views(signal(), AudioConfig())[0]),
    "egemaps_functionals": ("egemaps", lambda _f: egemaps_views(signal(), AudioConfig())[1]),
    "faces_detections": ("faces", lambda _f: detection_view(detector(), astronaut())),
    "faces_alignment": ("faces", lambda _f: alignment_view(astronaut(), ASTRONAUT_LANDMARKS)),
    "media_frames_audio": ("media", lambda folder: media_view(write_media(folder), VideoConfig())),
    "preemphasis": ("preemphasis", _audio(preemphasis_view)),
    "endpoint": ("endpoint", _audio(endpoint_view)),
    "pauses": ("pauses", _audio(pauses_view)),
    "spectral": ("spectral", _audio(spectral_view)),
    "spectrogram": ("spectrogram", _audio(spectrogram_view)),
    "rhythm": ("rhythm", _audio(rhythm_view)),
    "compare": ("compare", _audio(compare_view)),
    "windows": ("windows", _audio(windows_view)),
}
