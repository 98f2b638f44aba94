"""The sampled-frames plan seeks to the keyframe before each target when that decodes less,
and gives the frames decoding through would, bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emofeat.config import VideoConfig
from emofeat.errors import DecodeError
from emofeat.media import iter_frames
from emofeat.media import seek as seek_module
from emofeat.media._av import clock_origin, open_input, require_streams
from emofeat.media.seek import index_packets, plan_seek
from emofeat.media.synth import write_video

PLAN = VideoConfig()  # uniform, 16 frames


def moving(frames: int, size: tuple[int, int] = (64, 96), seed: int = 0) -> np.ndarray:
    """Frames that differ from each other (a moving gradient plus noise), so a wrong frame shows."""
    rng = np.random.default_rng(seed)
    h, w = size
    base = (np.arange(w)[None, :, None] + np.arange(h)[:, None, None]).astype(np.int64)
    out = np.empty((frames, h, w, 3), np.uint8)
    for i in range(frames):
        out[i] = ((base * 3 + i * 7 + rng.integers(0, 16, (h, w, 3))) % 256).astype(np.uint8)
    return out


def plan_of(path: Path) -> seek_module.SeekPlan:
    with open_input(path) as container:
        _audio, video = require_streams(container, path)
        assert video is not None
        index = index_packets(container, video, path, clock_origin(path))
    assert index.exact
    return plan_seek(index, PLAN)


def decoded(path: Path, monkeypatch: pytest.MonkeyPatch, share: float) -> list[tuple[int, float, bytes]]:
    with monkeypatch.context() as patch:
        patch.setattr(seek_module, "SEEK_WHEN_BELOW", share)
        return [(f.index, f.time, f.image.tobytes()) for f in iter_frames(path, PLAN)]


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("gop10.mp4", {"keyint": 10}),
        ("gop25-late-video.mp4", {"keyint": 25, "video_start": 0.7}),
        ("intra.avi", {"codec": "mjpeg"}),
        ("gop12.mkv", {"keyint": 12}),
        ("vfr.mp4", {"keyint": 8, "times": np.cumsum(np.tile([0.03, 0.05, 0.04], 100))}),
    ],
)
def test_seeking_gives_the_frames_decoding_through_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, kwargs: dict[str, object]
) -> None:
    path = write_video(tmp_path / name, moving(300), fps=25, **kwargs)  # type: ignore[arg-type]
    through = decoded(path, monkeypatch, 0.0)  # never seek
    sought = decoded(path, monkeypatch, 1e9)  # always seek
    assert len(through) == PLAN.frames
    assert [(i, t) for i, t, _ in sought] == [(i, t) for i, t, _ in through]
    for (index, _t, a), (_i, _u, b) in zip(sought, through, strict=True):
        assert a == b, f"frame {index} differs"


def test_long_gops_and_intra_only_streams_seek_short_clips_decode_through(tmp_path: Path) -> None:
    long_clip = plan_of(write_video(tmp_path / "long.mp4", moving(400), keyint=10))
    assert long_clip.seeks
    assert long_clip.seek_frames < long_clip.through_frames / 2
    intra = plan_of(write_video(tmp_path / "intra.avi", moving(400), codec="mjpeg"))
    assert intra.seeks
    # frame 0 from the start, then one seek and one frame decoded for each other pick
    assert intra.seek_frames == 1 + 15 * (seek_module.SEEK_COST_FRAMES + 1)
    short = plan_of(write_video(tmp_path / "short.mp4", moving(40)))  # one keyframe (x264: every 250)
    assert not short.seeks
    assert short.through_frames == 40


def test_a_repeated_pick_is_the_same_frame(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_video(tmp_path / "few.avi", moving(6), codec="mjpeg")  # fewer frames than the plan
    monkeypatch.setattr(seek_module, "SEEK_WHEN_BELOW", 1e9)
    frames = list(iter_frames(path, PLAN))
    assert len(frames) == PLAN.frames
    assert sorted({f.index for f in frames}) == list(range(6))
    assert len({id(f) for f in frames}) == 6


def test_a_truncated_clip_is_refused_when_it_would_seek(tmp_path: Path) -> None:
    whole = write_video(tmp_path / "whole.mp4", moving(400), keyint=10, faststart=True)
    assert plan_of(whole).seeks
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 2 // 3])  # the index (moov) survives, the data does not
    with pytest.raises(DecodeError, match=r"ends after \d+ of the 400 packets"):
        list(iter_frames(cut, PLAN))
