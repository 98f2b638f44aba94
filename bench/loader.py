"""Loader benchmark: random-access clips/s of the ``clip`` view, beside two baselines.

Generates ``--clips`` talking-face clips (2 s, 640x360 H.264 + AAC, a real face photo drifting
over a textured background) and ingests them into a fresh store (or reuses ``--store``),
then measures, in the same run and on the same clips:

* the store, ``clip`` view (16 faces of 3x112x112 uint8 + the MFCC): through the decoded
  cache (filled first, timed apart) with a DataLoader of 0, 1 and 2 workers, and straight
  from the store (``cache=False``, no workers);
* PNG baseline: the same 16 crops of each clip as one PNG file per frame (the papers'
  habit), decoded with Pillow, with 0, 1 and 2 workers;
* decode + detect baseline: decoding 16 frames of the source video and running the face
  detector and alignment, per clip (no store at all);
* the ``step`` view over a 5-minute session (``--session-s``; 25 fps, every frame stored):
  steps/s with 0 workers;
* the dataset's own memory: the bytes its index holds per clip, extrapolated to 300,000
  clips (the cache's memory maps are files, not counted).

Batches of 16 items in a seeded random order; figures are the median of ``--repeats`` passes
after one warm pass (so files are in the page cache, as in any epoch after the first)::

    .venv/bin/python bench/loader.py --clips 200
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from emofeat.config import FeatureConfig, VideoConfig
from emofeat.data import EpochSampler, collate, open_dataset
from emofeat.faces import load_detector, track_faces
from emofeat.media import read_frames
from emofeat.media.synth import face_frames, speech_like, write_video
from emofeat.pipeline import RunOptions, ingest
from emofeat.store import open_store

BATCH = 16


def make_corpus(root: Path, clips: int, seconds: float = 2.0, fps: int = 25) -> list[Path]:
    paths = []
    for i in range(clips):
        path = root / f"clip{i:04d}.mp4"
        frames = face_frames(round(seconds * fps), size=(360, 640), seed=i)
        write_video(path, frames, fps=fps, audio=speech_like(seconds, 16000, seed=i), audio_rate=16000)
        paths.append(path)
    return paths


class PngClips(Dataset[dict[str, Any]]):
    """The PNG baseline: clip ``i`` is 16 PNG files, decoded and stacked like the clip view."""

    def __init__(self, root: Path, clips: list[str]):
        self.root, self.clips = root, clips

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, index: int) -> dict[str, Any]:
        folder = self.root / f"{index:05d}"
        faces = np.stack([np.asarray(Image.open(folder / f"{k:02d}.png").convert("RGB")) for k in range(16)])
        return {"face": torch.from_numpy(np.ascontiguousarray(faces.transpose(0, 3, 1, 2))), "index": index}


def write_pngs(ds: Any, root: Path) -> None:
    for i in range(len(ds)):
        folder = root / f"{i:05d}"
        folder.mkdir(parents=True)
        for k, face in enumerate(ds[i]["face"].permute(0, 2, 3, 1).numpy()):
            Image.fromarray(face).save(folder / f"{k:02d}.png")


def rate(ds: Any, workers: int, repeats: int, items: int | None = None) -> tuple[float, float]:
    """Median items/s and MB/s of the tensors delivered, over ``repeats`` passes."""
    n = min(len(ds), items or len(ds))
    sampler = list(EpochSampler(len(ds), seed=1))[:n]
    loader = DataLoader(
        ds,
        batch_size=BATCH,
        sampler=sampler,
        num_workers=workers,
        collate_fn=collate,
        persistent_workers=workers > 0,
    )
    rates, sizes = [], []
    for r in range(repeats + 1):
        start = time.perf_counter()
        size = 0
        for batch in loader:
            size += sum(v.numel() * v.element_size() for v in batch.values() if isinstance(v, torch.Tensor))
        took = time.perf_counter() - start
        if r:  # the first pass warms the page cache and starts the workers
            rates.append(n / took)
            sizes.append(size / took / 1e6)
    return statistics.median(rates), statistics.median(sizes)


def decode_detect(paths: list[Path], config: FeatureConfig) -> float:
    detector = load_detector(config.faces)
    start = time.perf_counter()
    for path in paths:
        frames = read_frames(path, config.video)
        assert frames is not None
        track_faces(frames.images, detector, config.faces)
    return len(paths) / (time.perf_counter() - start)


def session_steps(tmp: Path, seconds: float, repeats: int) -> tuple[float, int]:
    root = tmp / "session"
    root.mkdir()
    fps = 25
    frames = face_frames(round(seconds * fps), size=(240, 320), seed=5)
    write_video(
        root / "session.mp4", frames, fps=fps, audio=speech_like(seconds, 16000, seed=5), audio_rate=16000
    )
    store = tmp / "session-store"
    config = FeatureConfig(video=VideoConfig(sampling="all"))
    summary = ingest("folder", root, store, config, RunOptions(workers=1))
    if summary.clips["ok"] != 1:
        raise SystemExit(f"session failed: {summary.failures}")
    ds = open_dataset(store, "step", snapshot="latest", steps=100)
    steps_per_item = 100
    items_s, _ = rate(ds, 0, repeats)
    return items_s * steps_per_item, len(ds) * steps_per_item


def footprint(ds: Any) -> float:
    """Bytes a dataset holds per clip: its index (NumPy arrays only: no Python object a clip,
    as its pickled size shows) plus the cache's offsets."""
    own = len(pickle.dumps(ds))
    extra = sum(sum(o.nbytes for o in s._offsets.values()) for s in ds._open())
    return (own + extra) / len(ds.clips["row"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--store", type=Path, help="reuse (or build here) the store of --clips clips")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--detect-clips", type=int, default=20)
    parser.add_argument("--session-s", type=float, default=300.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="emofeat-loader-") as name:
        tmp = Path(name)
        os.environ["EMOFEAT_CACHE_DIR"] = str(tmp / "cache")
        corpus = tmp / "corpus"
        corpus.mkdir()
        paths = make_corpus(
            corpus, args.clips if args.store is None or not args.store.exists() else args.detect_clips
        )
        store = args.store or tmp / "store"
        if not store.exists():
            start = time.perf_counter()
            summary = ingest("folder", corpus, store, FeatureConfig(), RunOptions(workers=2, batch_size=16))
            print(f"ingested {summary.clips['ok']} clips in {time.perf_counter() - start:.0f} s (2 workers)")
        print(f"store: {store} ({len(open_store(store).catalog())} clips)")

        start = time.perf_counter()
        ds = open_dataset(store, "clip", snapshot="latest")
        print(f"open_dataset, decoded cache filled: {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        open_dataset(store, "clip", snapshot="latest")
        print(f"open_dataset, cache present:        {time.perf_counter() - start:.2f} s")
        per_clip = footprint(ds)
        print(
            f"dataset footprint: {per_clip:.0f} B a clip -> {per_clip * 300_000 / 1e6:.0f} MB "
            "at 300,000 clips"
        )

        print(f"clip view, {len(ds)} clips (16x3x112x112 uint8 + MFCC), random order, batches of {BATCH}:")
        store_rates = {}
        for workers in (0, 1, 2):
            clips_s, mb_s = rate(ds, workers, args.repeats)
            store_rates[workers] = clips_s
            print(f"  store, decoded cache, {workers} workers  {clips_s:7.0f} clips/s  {mb_s:6.0f} MB/s")
        direct = open_dataset(store, "clip", snapshot="latest", cache=False)
        clips_s, mb_s = rate(direct, 0, 1, items=min(len(direct), 64))
        print(f"  store, no cache, 0 workers        {clips_s:7.0f} clips/s  {mb_s:6.0f} MB/s")
        write_pngs(ds, tmp / "png")
        png = PngClips(tmp / "png", ds.clip_ids)
        png_rates = {}
        for workers in (0, 1, 2):
            clips_s, mb_s = rate(png, workers, args.repeats)
            png_rates[workers] = clips_s
            print(f"  PNG per frame, {workers} workers          {clips_s:7.0f} clips/s  {mb_s:6.0f} MB/s")
        detect = decode_detect(paths[: args.detect_clips], FeatureConfig())
        print(f"  decode video + detect, 0 workers  {detect:7.1f} clips/s")
        best = max(store_rates.values())
        print(
            f"store (best) / PNG (best): {best / max(png_rates.values()):.1f}x; "
            f"/ decode+detect: {best / detect:.0f}x"
        )

        steps_s, total = session_steps(tmp, args.session_s, args.repeats)
        print(
            f"step view over a {args.session_s:g} s session ({total} steps): "
            f"{steps_s:7.0f} steps/s, 0 workers"
        )


if __name__ == "__main__":
    main()
