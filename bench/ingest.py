"""Ingestion roofline: each stage measured alone beside the same stage inside a real run,
and the speed-up from 1 to 2 workers.

Generates ``--clips`` 720p H.264 clips (a real face photo drifting over a textured
background, with a speech-like AAC soundtrack), then measures on the same files, one clip
at a time on one core, each stage alone:

* probe; decode (the 16 sampled frames, 16 kHz audio);
* detect (the face detector on the decoded frames) and align (the rest of the face work:
  choosing the primary face, the warp to 112x112);
* audio features (every audio array the config stores), and each descriptor set's cost per
  clip (``bench/audio_costs.py`` gives it per second of audio);
* write (the arrays of 4 clips, a run's batch, as a part into a fork session of a scratch store).

Then the whole pipeline, ``emofeat.ingest`` into a fresh store with each ``--workers``
count (worker processes started by a warm-up run first: their one-time start is not part
of a clip's cost), and reads the busy seconds per stage the run itself recorded (the
figures ``emofeat history`` shows). The roofline: the sum of the stages alone is the
serial floor of one core; ``cores / floor`` is what this machine could reach at best; the
run's wall time per clip is what it achieved. Usage::

    .venv/bin/python bench/ingest.py --clips 8 --seconds 3 --workers 1 2
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads: 1 BLAS thread is faster here

from audio_costs import sets as descriptor_sets  # bench/ is the script's directory

from emofeat.config import FeatureConfig
from emofeat.faces import load_detector, track_faces
from emofeat.media import load_audio, probe, read_frames
from emofeat.media.synth import face_frames, speech_like, write_video
from emofeat.pipeline import RunOptions, ingest
from emofeat.pipeline.audio_features import audio_arrays
from emofeat.pipeline.clip import PER_CLIP_KEYS
from emofeat.pipeline.timing import STAGES, StageTimes
from emofeat.store import ClipArrays, write_part
from emofeat.store.repo import scratch_repo

T = TypeVar("T")
#: Clips a batch (and so a part) holds, alone and in the run.
PART_CLIPS = 4


def make_clips(root: Path, clips: int, seconds: float, fps: int = 25) -> list[Path]:
    paths = []
    for i in range(clips):
        path = root / f"clip{i:03d}.mp4"
        frames = face_frames(round(seconds * fps), size=(720, 1280), seed=i)
        audio = speech_like(seconds, 16000, seed=i)
        # CRF 23, x264's default rate control (the synthetic frames compress far better than camera footage).
        write_video(path, frames, fps=fps, audio=audio, audio_rate=16000, quality=23)
        paths.append(path)
    return paths


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def stages_alone(paths: list[Path], config: FeatureConfig) -> dict[str, float]:
    """Seconds each stage takes alone, one clip after another on this thread."""
    detector = load_detector(config.faces)
    seconds = StageTimes()
    part: list[ClipArrays] = []
    with scratch_repo() as repo:
        for i, path in enumerate(paths):
            info = seconds.call("probe", probe, path)
            frames = seconds.call("decode", read_frames, path, config.video, info.origin)
            audio = seconds.call("decode", load_audio, path, config.audio.sample_rate, info.origin)
            if frames is None or audio is None:
                raise SystemExit(f"{path}: the generated clip lost a stream")
            for image in frames.images:
                seconds.call("detect", detector.detect, image, config.faces.threshold)
            with seconds.timed("align"):  # the whole face work, less the detector's share below
                track = track_faces(frames.images, detector, config.faces)
            arrays = seconds.call("audio_features", audio_arrays, audio.samples, 0.0, config.audio)
            arrays |= {
                "face": track.crops,
                "face_present": track.present,
                "face_score": track.scores,
                "face_bbox": track.boxes,
                "face_landmarks": track.landmarks,
                "face_times": frames.times,
            }
            part.append(ClipArrays(f"bench/{path.name}", arrays, PER_CLIP_KEYS, True))
            if len(part) == PART_CLIPS or i == len(paths) - 1:  # parts of a run's batch size
                session = repo.writable_session("main").fork()
                seconds.call("write", write_part, session.store, "bench", "fv-bench", f"part{i}", part)
                part = []
    out = seconds.as_dict()
    out["align"] = max(out["align"] - out["detect"], 0.0)
    return out


def warm_up(paths: list[Path], tmp: Path, config: FeatureConfig, workers: int) -> None:
    """Start the worker processes (spawn, imports, face model: about 1.4 s each, paid once per
    process in a real run of thousands of clips) before the timed run, on copies of a few clips."""
    root = tmp / f"warm{workers}"
    root.mkdir()
    for path in paths:
        (root / path.name).hardlink_to(path)
    ingest("folder", root, tmp / f"warm-store{workers}", config, RunOptions(batch_size=1, workers=workers))


def run(
    root: Path, tmp: Path, config: FeatureConfig, workers: int, clips: int
) -> tuple[float, dict[str, float]]:
    """The pipeline's wall seconds and its recorded busy seconds per stage, with ``workers``."""
    warm_up(sorted(root.iterdir())[:workers], tmp, config, workers)
    options = RunOptions(batch_size=PART_CLIPS, checkpoint_every=2, workers=workers)
    summary, wall = timed(lambda: ingest("folder", root, tmp / f"store{workers}", config, options))
    if summary.clips["ok"] != clips:
        raise SystemExit(f"pipeline failed clips: {summary.failures}")
    return wall, summary.stage_seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    config = FeatureConfig()
    n, cores = args.clips, len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="emofeat-bench-") as tmp:
        root = Path(tmp) / "corpus"
        root.mkdir()
        paths, t_make = timed(lambda: make_clips(root, n, args.seconds))
        size_mb = sum(p.stat().st_size for p in paths) / 1e6
        print(f"{n} clips of {args.seconds:g} s, 1280x720 H.264 + AAC ({size_mb:.1f} MB), {cores} cores")
        print(f"(generated in {t_make:.1f} s)")
        stages_alone(paths[:1], config)  # warm: imports, the detector's and openSMILE's first runs
        alone = stages_alone(paths, config)
        runs = {w: run(root, Path(tmp), config, w, n) for w in args.workers}

    heads = "".join(f"  run, {w} worker(s)" for w in args.workers)
    print(f"ms per clip         alone (1 core){heads}")
    for stage in STAGES:
        cells = [alone.get(stage)] + [recorded.get(stage) for _, recorded in runs.values()]
        print(f"  {stage:16s}" + "".join(_cell(c, n) for c in cells))
    floor = sum(alone.values())
    print(
        f"  {'sum':16s}" + "".join(_cell(c, n) for c in [floor] + [sum(r.values()) for _, r in runs.values()])
    )
    best = cores * n / floor
    print(f"serial floor        {n / floor:7.2f} clips/s on one core; roofline {best:.2f} clips/s on {cores}")
    for w, (wall, _) in runs.items():
        print(
            f"pipeline, {w} worker(s) {n / wall:6.2f} clips/s ({1000 * wall / n:5.0f} ms/clip wall, "
            f"{100 * n / wall / best:3.0f} % of the roofline)"
        )
    if 1 in runs and 2 in runs:
        print(f"speed-up 1 -> 2 workers: {runs[1][0] / runs[2][0]:.2f}x")
    print(f"audio descriptor sets, per clip of {args.seconds:g} s (one core):")
    y = speech_like(args.seconds, config.audio.sample_rate, seed=7)
    for name, fn in descriptor_sets(config.audio).items():
        fn(y[: config.audio.sample_rate])  # warm: imports, openSMILE objects
        _, took = timed(lambda fn=fn: fn(y))
        print(f"  {name:38s} {1000 * took:7.1f} ms/clip")


def _cell(seconds: float | None, clips: int) -> str:
    return f"{'-':>18s}" if seconds is None else f"{1000 * seconds / clips:18.0f}"


if __name__ == "__main__":
    main()
