"""Training benchmark: samples/s of each paper's model (its default, paper-size config),
training and inference, on the CPU and on CUDA when one is present, and the loader's share
of a training step.

Each model runs on batches shaped exactly as its view delivers them (``clip``: 16 faces of
3x112x112 uint8 and 300 MFCC frames; ``step``: 100 steps of faces and windowed descriptors;
...), filled with random values, so the figures are the model's own. The loader's share
comes from the real ``clip`` view over a small generated store: the time the DataLoader
takes to deliver a batch, against the time the model takes to train on it. On CUDA the
models run with mixed precision and channels-last memory. Usage::

    .venv/bin/python bench/train.py [--steps 3] [--clips 24]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch
from torch.utils.data import DataLoader

from emofeat.data import collate, open_dataset
from emofeat.media.synth import face_frames, speech_like, write_video
from emofeat.pipeline import RunOptions, ingest
from emofeat.train.loop import Context
from emofeat.train.specs import LabelInfo, get_spec, label_info

FG_COARSE = 6
FG_FINE = 33


def batch_of(model: str, b: int, device: torch.device) -> dict[str, Any]:
    """A random batch shaped as the model's view delivers it."""
    u8 = lambda *shape: torch.randint(0, 256, shape, dtype=torch.uint8)  # noqa: E731
    ones = lambda *shape: torch.ones(shape, dtype=torch.bool)  # noqa: E731
    label = torch.randint(0, 7, (b,))
    spec_a = {"face": u8(b, 8, 3, 112, 112), "face_mask": ones(b, 8)}
    spec_a["spectrogram"] = torch.randn(b, 200, 257) - 40
    steps = {"face": u8(b, 100, 3, 112, 112), "face_present": torch.ones(b, 100)}
    steps["energy"] = torch.rand(b, 100)
    batches: dict[str, dict[str, Any]] = {
        "amcm": {"face": u8(b, 16, 3, 112, 112), "face_mask": ones(b, 16), "mfcc": torch.randn(b, 300, 40),
                 "mfcc_mask": ones(b, 300), "label": label},
        "jdcdtl": {"face": u8(b, 3, 64, 64), "face_mask": ones(b), "logmel": torch.randn(b, 3, 64, 64),
                   "logmel_mask": ones(b, 64), "label": label},
        "rald": {"face": u8(b, 3, 112, 112), "face_mask": ones(b), "label": torch.randint(0, FG_FINE, (b,))},
        "gcsa": {**spec_a, "spectrogram_mask": ones(b, 200), "label": torch.randint(0, 8, (b,))},
        "alexatt": {**steps, "lld": torch.randn(b, 100, 176), "step_mask": ones(b, 100),
                    "arousal": torch.rand(b, 100) - 0.5, "valence": torch.rand(b, 100) - 0.5},
    }  # fmt: skip
    batch = batches[model]
    batch["index"] = torch.arange(b)
    return {k: v.to(device) for k, v in batch.items()}


def labels_for(model: str) -> LabelInfo:
    if model == "alexatt":
        return LabelInfo()
    if model == "rald":
        names = tuple(f"fine{i}" for i in range(FG_FINE))
        return label_info(names, {n: f"coarse{i % FG_COARSE}" for i, n in enumerate(names)})
    if model == "gcsa":
        return label_info(
            ("neutral", "anger", "disgust", "fear", "happiness", "sadness", "surprise", "other")
        )
    return label_info(("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust"))


def timed(fn: Callable[[], Any], steps: int, device: torch.device) -> float:
    fn()  # warm: allocation, cuDNN autotuning
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def model_rates(model: str, device: torch.device, batch: int, steps: int) -> tuple[float, float, float]:
    """(train samples/s, inference samples/s, seconds per training step)."""
    spec = get_spec(model)
    labels = labels_for(model)
    options: dict[str, Any] = {}
    if model == "rald":
        options = {"hierarchy": labels.coarse_of, "n_coarse": len(labels.coarse_names)}
    net, _, loss_options = spec.build(options, labels)
    net.to(device)
    if device.type == "cuda":
        net.to(memory_format=torch.channels_last)
    loss_fn = spec.loss(loss_options, labels)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-4)
    scaler = torch.amp.GradScaler("cuda", enabled=device.type == "cuda")
    data = batch_of(model, batch, device)
    amp = device.type == "cuda"

    def train_step() -> None:
        net.train()
        with torch.autocast(device.type, enabled=amp):
            loss = loss_fn(net(data), data, Context())
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    @torch.no_grad()
    def infer_step() -> None:
        net.eval()
        with torch.autocast(device.type, enabled=amp):
            net(data)

    train_s = timed(train_step, steps, device)
    infer_s = timed(infer_step, steps, device)
    return batch / train_s, batch / infer_s, train_s


def loader_seconds(store: Path, batch: int, workers: int) -> float:
    """Seconds the DataLoader takes to deliver one ``clip``-view batch (warm cache)."""
    ds = open_dataset(store, "clip", snapshot="latest", mfcc_frames=300)
    loader = DataLoader(
        ds,
        batch_size=batch,
        shuffle=True,
        num_workers=workers,
        collate_fn=collate,
        persistent_workers=workers > 0,
    )
    for _ in loader:  # warm: page cache, workers
        pass
    start = time.perf_counter()
    n = 0
    for _ in loader:
        n += 1
    return (time.perf_counter() - start) / max(n, 1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--cpu-batch", type=int, default=4)
    parser.add_argument("--gpu-batch", type=int, default=64)
    parser.add_argument("--clips", type=int, default=24)
    args = parser.parse_args()
    devices = [torch.device("cpu")]
    if torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    else:
        print("no CUDA device: CPU figures only")
    amcm_step: dict[str, float] = {}
    for device in devices:
        batch = args.gpu_batch if device.type == "cuda" else args.cpu_batch
        print(f"{device.type}, batch {batch}{' (AMP, channels-last)' if device.type == 'cuda' else ''}:")
        for model in ("amcm", "jdcdtl", "rald", "gcsa", "alexatt"):
            train, infer, step = model_rates(model, device, batch, args.steps)
            if model == "amcm":
                amcm_step[device.type] = step / batch
            print(f"  {model:8s} train {train:9.1f} samples/s   inference {infer:9.1f} samples/s")
    with tempfile.TemporaryDirectory(prefix="emofeat-train-bench-") as name:
        tmp = Path(name)
        os.environ["EMOFEAT_CACHE_DIR"] = str(tmp / "cache")
        corpus = tmp / "corpus"
        corpus.mkdir()
        for i in range(args.clips):
            frames = face_frames(50, size=(240, 320), seed=i)
            write_video(
                corpus / f"c{i:03d}.mp4",
                frames,
                fps=25,
                audio=speech_like(2.0, 16000, seed=i),
                audio_rate=16000,
            )
        ingest("folder", corpus, tmp / "store", options=RunOptions(workers=2, batch_size=8))
        for workers in (0, 2):
            per_sample = loader_seconds(tmp / "store", 8, workers) / 8
            shares = ", ".join(
                f"{d}: {100 * per_sample / (per_sample + s):.1f} % of a step" for d, s in amcm_step.items()
            )
            print(
                f"clip-view loader, {workers} workers: {1000 * per_sample:.2f} ms a sample ({shares}, amcm)"
            )


if __name__ == "__main__":
    main()
