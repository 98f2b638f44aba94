"""The sampled-frames plan (uniform, 16 frames): seeking vs decoding through, per stream.

Writes a 1280x720 25 fps H.264 clip for each keyframe interval (``--keyints``; x264's
default is 250, phones and cameras write 30-60) and an intra-only MJPEG clip, then times
:func:`emofeat.media.iter_frames` forced to decode through, forced to seek, and as it
chooses (median of 3), with the frames each way decodes as the plan predicts them::

    .venv/bin/python bench/seek.py --seconds 60 --keyints 30 250
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from emofeat.config import VideoConfig
from emofeat.media import iter_frames
from emofeat.media import seek as seek_module
from emofeat.media._av import clock_origin, open_input, require_streams
from emofeat.media.synth import face_frames, write_video

PLAN = VideoConfig()


def clock(path: Path, share: float | None) -> float:
    """Median seconds to decode the plan's frames (``share``: force the choice; None: as chosen)."""
    saved = seek_module.SEEK_WHEN_BELOW
    if share is not None:
        seek_module.SEEK_WHEN_BELOW = share
    try:
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            frames = list(iter_frames(path, PLAN))
            runs.append(time.perf_counter() - start)
            assert len(frames) == PLAN.frames
        return statistics.median(runs)
    finally:
        seek_module.SEEK_WHEN_BELOW = saved


def predicted(path: Path) -> seek_module.SeekPlan:
    with open_input(path) as container:
        _audio, video = require_streams(container, path)
        assert video is not None
        index = seek_module.index_packets(container, video, path, clock_origin(path))
    return seek_module.plan_seek(index, PLAN)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--keyints", type=int, nargs="+", default=[30, 250])
    args = parser.parse_args()
    frames = round(args.seconds * 25)
    print(f"uniform plan, 16 of {frames} frames (1280x720, {args.seconds:g} s):")
    print(f"{'stream':24s} {'decode through':>16s} {'seek':>16s} {'chosen':>16s}  frames through/seek")
    with tempfile.TemporaryDirectory(prefix="emofeat-seek-") as tmp:
        images = face_frames(frames, size=(720, 1280), seed=3)
        clips = {
            f"H.264, keyint {k}": write_video(Path(tmp) / f"k{k}.mp4", images, keyint=k) for k in args.keyints
        }
        clips["MJPEG (intra only)"] = write_video(Path(tmp) / "intra.avi", images, codec="mjpeg")
        for name, path in clips.items():
            plan = predicted(path)
            through, sought, chosen = clock(path, 0.0), clock(path, 1e9), clock(path, None)
            way = "seek" if plan.seeks else "through"
            print(
                f"{name:24s} {through:14.2f} s {sought:14.2f} s {chosen:11.2f} s ({way:7s})"
                f"  {plan.through_frames}/{plan.seek_frames}"
            )


if __name__ == "__main__":
    main()
