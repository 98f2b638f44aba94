"""Every-frame ingestion of long 720p clips: frames/s, x real time and peak RSS per length.

Generates a talking-face clip of each ``--minutes`` length (1280x720, 25 fps, H.264 + AAC,
a real face photo drifting over a textured background for 10 s, repeated, encoded frame
by frame so the generator itself stays small), then ingests it with ``sampling = "all"`` in a fresh child
process (one worker) and reports that process's peak resident memory (its ``VmHWM``). Memory is bounded
by design when the peak is the same at every length. Usage::

    .venv/bin/python bench/everyframe.py --minutes 1 5
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import cast

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import av
import numpy as np
from av.audio.stream import AudioStream
from av.video.stream import VideoStream

from emofeat.media.synth import face_frames, speech_like

FPS = 25
CHILD = """
import json, resource, sys, time
from emofeat.config import FeatureConfig, VideoConfig
from emofeat.pipeline import RunOptions, ingest
root, store = sys.argv[1], sys.argv[2]
started = time.perf_counter()
# isolate=False: the batch runs in this process, whose peak is the one measured below.
options = RunOptions(workers=1, isolate=False)
s = ingest("folder", root, store, FeatureConfig(video=VideoConfig(sampling="all")), options)
seconds = time.perf_counter() - started
# VmHWM: this process image's own peak (ru_maxrss would count the parent's pages from fork).
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"seconds": seconds, "clips": s.clips, "failures": s.failures, "peak_kb": hwm}))
"""


def write_long_clip(path: Path, minutes: float, size: tuple[int, int] = (720, 1280)) -> int:
    """Write the clip from one 10 s stretch of frames, repeated; returns its frame count."""
    total = round(minutes * 60 * FPS)
    rate = 16000
    with av.open(str(path), "w") as container:
        video = cast(VideoStream, container.add_stream("libx264", rate=FPS))
        video.height, video.width = size
        video.pix_fmt = "yuv420p"
        video.options = {"crf": "23", "preset": "veryfast"}
        audio = cast(AudioStream, container.add_stream("aac", rate=rate, layout="mono"))
        audio.bit_rate = 64000
        samples = speech_like(total / FPS, rate)
        step = 1024
        for start in range(0, samples.shape[0], step):
            block = samples[None, start : start + step]
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
            container.mux(audio.encode(frame))
        container.mux(audio.encode(None))
        done = 0
        chunk = face_frames(10 * FPS, size=size)  # 10 s of motion, repeated: generating is slow
        while done < total:
            for picture in chunk[: total - done]:
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="rgb24")
                frame.pts = done
                container.mux(video.encode(frame))
                done += 1
        container.mux(video.encode(None))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1.0, 5.0])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="emofeat-bench-") as tmp:
        for minutes in args.minutes:
            root = Path(tmp) / f"m{minutes:g}"
            root.mkdir()
            t0 = time.perf_counter()
            frames = write_long_clip(root / "session.mp4", minutes)
            made = time.perf_counter() - t0
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(root), str(Path(tmp) / f"store{minutes:g}")],
                check=True,
                capture_output=True,
                text=True,
            )
            result = json.loads(out.stdout.strip().splitlines()[-1])
            peak_kb = result["peak_kb"]
            seconds = result["seconds"]
            print(
                f"{minutes:g} min 720p every frame: {frames} frames in {seconds:.1f} s = "
                f"{frames / seconds:.1f} frames/s, {frames / FPS / seconds:.2f}x real time, "
                f"peak RSS {peak_kb / 1024:.0f} MB, "
                f"clips {result['clips']} (clip written in {made:.0f} s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
