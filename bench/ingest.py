"""Ingestion benchmark: clips/s end to end, beside the cost of decode alone and detection alone.

Generates ``--clips`` 720p H.264 clips (a real face photo drifting over a textured
background, with a speech-like AAC soundtrack), then measures on the same files:

* decode alone: ``probe`` + sampled frames + 16 kHz audio, per clip;
* detection alone: face detection + alignment on the already-decoded sampled frames;
* audio features alone: every audio array the config stores, on the decoded audio
  and each descriptor set's cost per clip (``bench/audio_costs.py`` gives it per second of
  audio), ComParE and the spectrogram included whether or not the config stores them;
* the whole pipeline: ``emofeat.ingest`` (local engine) into a fresh store, with
  ``--workers`` worker processes (started by a warm-up run first: their one-time start is
  not part of a clip's cost), including hashing, validation, writing and commits.

The floor is decode + detection + audio features, run one clip at a time; the pipeline's
overhead is what it spends beyond that floor (per worker). Usage::

    .venv/bin/python bench/ingest.py --clips 8 --seconds 3 --workers 1
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

T = TypeVar("T")


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


def floors(paths: list[Path], config: FeatureConfig) -> tuple[float, float, float]:
    """Seconds spent on decode alone, detection alone and audio features alone, serially."""
    detector = load_detector(config.faces)
    t_decode = t_detect = t_audio = 0.0
    for path in paths:
        start = time.perf_counter()
        probe(path)
        frames = read_frames(path, config.video)
        audio = load_audio(path, config.audio.sample_rate)
        t_decode += time.perf_counter() - start
        if frames is None or audio is None:
            raise SystemExit(f"{path}: the generated clip lost a stream")
        start = time.perf_counter()
        track_faces(frames.images, detector, config.faces)
        t_detect += time.perf_counter() - start
        start = time.perf_counter()
        audio_arrays(audio.samples, 0.0, config.audio)  # every audio array the config stores
        t_audio += time.perf_counter() - start
    return t_decode, t_detect, t_audio


def warm_up(paths: list[Path], tmp: Path, config: FeatureConfig, workers: int) -> None:
    """Start the worker processes (spawn, imports, face model: about 1.4 s each, paid once per
    process in a real run of thousands of clips) before the timed run, on copies of a few clips."""
    root = tmp / "warm"
    root.mkdir()
    for path in paths:
        (root / path.name).hardlink_to(path)
    ingest("folder", root, tmp / "warm-store", config, RunOptions(batch_size=1, workers=workers))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    config = FeatureConfig()
    with tempfile.TemporaryDirectory(prefix="emofeat-bench-") as tmp:
        root = Path(tmp) / "corpus"
        root.mkdir()
        paths, t_make = timed(lambda: make_clips(root, args.clips, args.seconds))
        size_mb = sum(p.stat().st_size for p in paths) / 1e6
        print(f"{args.clips} clips of {args.seconds:g} s, 1280x720 H.264 + AAC ({size_mb:.1f} MB)")
        print(f"(generated in {t_make:.1f} s)")
        t_decode, t_detect, t_audio = floors(paths, config)
        store = Path(tmp) / "store"
        options = RunOptions(batch_size=4, checkpoint_every=2, workers=args.workers)
        warm_up(paths[: args.workers], Path(tmp), config, args.workers)
        summary, t_pipe = timed(lambda: ingest("folder", root, store, config, options))
        if summary.clips["ok"] != args.clips:
            raise SystemExit(f"pipeline failed clips: {summary.failures}")

    n = args.clips
    floor = t_decode + t_detect + t_audio
    print(f"decode alone        {n / t_decode:7.2f} clips/s  ({1000 * t_decode / n:6.0f} ms/clip)")
    print(f"detection alone     {n / t_detect:7.2f} clips/s  ({1000 * t_detect / n:6.0f} ms/clip, 16 frames)")
    print(f"audio features      {n / t_audio:7.2f} clips/s  ({1000 * t_audio / n:6.0f} ms/clip)")
    print(f"floor (sum, serial) {n / floor:7.2f} clips/s  ({1000 * floor / n:6.0f} ms/clip)")
    print(
        f"pipeline            {n / t_pipe:7.2f} clips/s  ({1000 * t_pipe / n:6.0f} ms/clip wall, "
        f"{args.workers} worker(s), store writes and commits included)"
    )
    print(f"overhead over floor {100 * (t_pipe * args.workers / floor - 1):+6.0f} % (per worker)")
    print(f"audio descriptor sets, per clip of {args.seconds:g} s (one core):")
    y = speech_like(args.seconds, config.audio.sample_rate, seed=7)
    for name, run in descriptor_sets(config.audio).items():
        run(y[: config.audio.sample_rate])  # warm: imports, openSMILE objects
        _, took = timed(lambda run=run: run(y))
        print(f"  {name:38s} {1000 * took:7.1f} ms/clip")


if __name__ == "__main__":
    main()
