"""open_dataset over a real ingested store: every view with 0 and 2 workers, alignment on the
clock, masks for missing faces and audio, resume, pinning, the cache."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from emofeat.config import AudioConfig, FeatureConfig
from emofeat.data import EpochSampler, FeatureDataset, collate, open_dataset, worker_init_fn
from emofeat.data.cache import CachedArrays
from emofeat.data.stats import stats
from emofeat.errors import ConfigError, NotFoundError, StoreError
from emofeat.pipeline import RunOptions, ingest
from emofeat.store import open_store
from tests.corpusgen import AUDIO_ONLY, AV, VIDEO_ONLY_NO_FACE, Corpus
from tests.twocorpora import LABELS, OFF, ON, TwoCorpora

RECOLA = "recola/recordings_video/train_1.mp4"
VIEWS: dict[str, dict[str, Any]] = {
    "clip": {},
    "segment": {},
    "image": {},
    "window": {"audio": "logmel"},
    "step": {"steps": 25},
}
SHAPES = {  # key -> per-item shape (None: variable on axis 0)
    "clip": {"face": (16, 3, 112, 112), "face_mask": (16,), "face_times": (16,), "mfcc": None},
    "segment": {"logmel": (3, 64, 64), "logmel_mask": (64,), "face": (3, 64, 64), "face_mask": ()},
    "image": {"face": (3, 112, 112), "face_mask": (), "face_times": (1,)},
    "window": {"face": (8, 3, 112, 112), "face_mask": (8,), "logmel": (200, 64, 3), "logmel_mask": (200,)},
    "step": {"times": (25,), "face": (25, 3, 112, 112), "face_present": (25,), "energy": (25,), "lld": None},
}


def _open(view: str, **kwargs: Any) -> FeatureDataset:
    store = kwargs.pop("store", None)
    return open_dataset(store, view, snapshot=kwargs.pop("snapshot", "latest"), **{**VIEWS[view], **kwargs})


def _same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], torch.Tensor):
            assert a[key].dtype == b[key].dtype, key
            assert torch.equal(a[key].nan_to_num(7.0), b[key].nan_to_num(7.0)), key
        else:
            assert a[key] == b[key], key


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("view", list(VIEWS))
def test_every_view_reads_every_item_with_any_worker_count(
    two_corpora: TwoCorpora, cache_env: Path, view: str, workers: int
) -> None:
    ds = _open(view, store=two_corpora.store)
    assert ds.feature_versions.keys() == {"ravdess", "recola"}
    sampler = EpochSampler(ds, seed=3)
    loader = DataLoader(
        ds,
        batch_size=3,
        sampler=sampler,
        num_workers=workers,
        collate_fn=collate,
        worker_init_fn=worker_init_fn,
    )
    seen: list[int] = []
    for batch in loader:
        seen += batch["index"].tolist()
        for key, shape in SHAPES[view].items():
            if shape is not None:
                assert tuple(batch[key].shape[1:]) == shape, key
        assert len(batch["clip_id"]) == len(batch["index"])
        assert batch["label"].dtype == torch.int64
        for i, index in enumerate(batch["index"].tolist()):  # the batch holds exactly the items
            item = ds[index]
            for key in SHAPES[view]:
                got, want = batch[key][i], item[key]
                got = got[: len(want)] if want.ndim else got
                assert torch.equal(got.nan_to_num(7.0), want.nan_to_num(7.0)), key
    assert seen == list(sampler.shard())


def test_a_face_and_a_tone_at_known_times_land_in_the_same_windows(
    two_corpora: TwoCorpora, cache_env: Path
) -> None:
    ds = _open(
        "window",
        store=two_corpora.store,
        corpus="recola",
        split="train",
        seconds=0.4,
        frames=4,
        audio="spectrogram",
    )
    assert len(ds) == 8  # 3 s in windows of 0.4 s
    for index in range(len(ds)):
        item = ds[index]
        start = index * 0.4
        face_times = item["face_times"][item["face_mask"]]
        assert ((face_times >= start) & (face_times < start + 0.4)).all()
        times = item["spectrogram_times"][item["spectrogram_mask"]]
        assert len(times)
        assert (times >= start).all()
        assert (times < start + 0.4).all()
        assert (times[1:] - times[:-1]).max() < 0.0101  # contiguous audio frames
        loud = item["spectrogram"][item["spectrogram_mask"]].max(dim=-1).values.mean()
        inside = start >= ON - 1e-6 and start + 0.4 <= OFF + 1e-6
        outside = start + 0.4 <= ON + 1e-6 or start >= OFF - 1e-6
        if inside:
            assert item["face_mask"].all(), index
            assert loud > -20, index
        if outside:
            assert not item["face_mask"].any(), index
            assert loud < -60, index


def test_the_step_view_aligns_faces_energy_and_continuous_labels(
    two_corpora: TwoCorpora, cache_env: Path
) -> None:
    ds = _open("step", store=two_corpora.store, corpus="recola", split="train", steps=40)
    assert len(ds) == 2  # 76 steps of 40 ms (0 .. 3.0 s)
    items = [ds[0], ds[1]]
    times = torch.cat([it["times"] for it in items])
    np.testing.assert_allclose(times.numpy(), 0.04 * np.arange(80))
    valid = torch.cat([it["step_mask"] for it in items])
    assert valid.sum() == 76
    event = ((times >= ON - 1e-6) & (times < OFF - 1e-6)).numpy()
    present = torch.cat([it["face_present"] for it in items]).numpy()
    assert (present[event] == 1).all()
    assert (present[~event] == 0).all()
    energy = torch.cat([it["energy"] for it in items]).numpy()
    inner = event & (times.numpy() > ON + 0.02) & (times.numpy() < OFF - 0.03)
    assert (energy[inner] > 0.5).all()
    assert (energy[~event][:25] == 0).all()
    energy_times = torch.cat([it["energy_times"] for it in items])
    assert (abs(energy_times - times)[valid] <= 0.02 + 1e-9).all()  # the audio frame of each step
    face_times = torch.cat([it["face_times"] for it in items])[torch.from_numpy(event)]
    assert (abs(face_times - times[torch.from_numpy(event)]) < 1e-6).all()  # 25 fps: the step's frame
    arousal = torch.cat([it["arousal"] for it in items]).numpy()
    valence = torch.cat([it["valence"] for it in items]).numpy()
    np.testing.assert_allclose(arousal[:LABELS], 0.01 * np.arange(LABELS), atol=1e-6)
    np.testing.assert_allclose(valence[:LABELS], -0.01 * np.arange(LABELS), atol=1e-6)
    assert np.isnan(arousal[LABELS:]).all()
    assert items[0]["lld"].shape == (40, 176)
    lld_times = items[0]["lld_times"]
    assert (abs(lld_times - items[0]["times"]) <= 1.5 + 1e-6).all()  # a 3 s window around each step


def test_missing_faces_and_missing_audio_are_masked(two_corpora: TwoCorpora, cache_env: Path) -> None:
    ds = _open("clip", store=two_corpora.store, corpus="ravdess")
    by_id = {ds[i]["clip_id"]: ds[i] for i in range(len(ds))}
    no_face = by_id[f"ravdess/{VIDEO_ONLY_NO_FACE}"]
    assert not no_face["face_mask"].any()
    assert no_face["face"].sum() == 0
    assert no_face["mfcc"].shape == (0, 40)  # no audio stream
    audio_only = by_id[f"ravdess/{AUDIO_ONLY}"]
    assert not audio_only["face_mask"].any()
    assert audio_only["mfcc"].shape[0] > 0
    assert torch.isnan(audio_only["face_times"]).all()
    av = by_id[f"ravdess/{AV}"]
    assert av["face_mask"].all()
    assert av["label_name"] == "happy"
    assert av["label_native_name"] == "happy"
    batch = collate([no_face, audio_only, av])
    assert batch["mfcc_lengths"].tolist() == [0, len(audio_only["mfcc"]), len(av["mfcc"])]
    assert batch["mfcc_mask"].sum(dim=1).tolist() == batch["mfcc_lengths"].tolist()
    window = _open("window", store=two_corpora.store, corpus="ravdess")
    silent = [window[i] for i in range(len(window)) if window[i]["clip_id"] == no_face["clip_id"]]
    assert silent
    assert not silent[0]["logmel_mask"].any()


@pytest.mark.parametrize("workers", [0, 2])
def test_a_resumed_sampler_yields_exactly_the_remaining_items(
    two_corpora: TwoCorpora, cache_env: Path, workers: int
) -> None:
    ds = _open("image", store=two_corpora.store)
    first = EpochSampler(ds, seed=9)
    first.set_epoch(2)
    loader = DataLoader(ds, batch_size=2, sampler=first, num_workers=workers, collate_fn=collate)
    batches = iter(loader)
    consumed = [*next(batches)["index"].tolist(), *next(batches)["index"].tolist()]
    state = first.state_dict(consumed=len(consumed))
    del batches
    resumed = EpochSampler(ds, seed=9)
    resumed.load_state_dict(state)
    rest = [
        i
        for b in DataLoader(ds, batch_size=2, sampler=resumed, num_workers=workers, collate_fn=collate)
        for i in b["index"].tolist()
    ]
    assert consumed + rest == list(first.shard(2))


def test_one_snapshot_reads_bit_identical_and_a_pinned_reader_ignores_later_commits(
    two_corpora: TwoCorpora, ravdess: Corpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store"
    shutil.copytree(two_corpora.store, store)
    monkeypatch.setenv("EMOFEAT_CACHE_DIR", str(tmp_path / "cache"))
    pinned = open_store(store).snapshot
    before = _open("clip", store=store, snapshot=pinned)
    assert before.snapshot == pinned
    items = [before[i] for i in range(len(before))]
    for i, item in enumerate(items):
        _same(item, _open("clip", store=store, snapshot=pinned, cache=False)[i])  # the store itself
    # A second feature version of ravdess, in a newer commit.
    config = FeatureConfig(audio=AudioConfig(n_mfcc=20))
    ingest("ravdess", ravdess.root, store, config, RunOptions(workers=1))
    with pytest.raises(ConfigError, match="feature versions"):
        _open("clip", store=store, corpus="ravdess")
    again = _open("clip", store=store, snapshot=pinned)
    for i, item in enumerate(items):
        _same(item, again[i])
    newer = _open("clip", store=store, corpus="ravdess", feature_version=before.feature_versions["ravdess"])
    assert newer.snapshot != pinned
    assert newer[0]["mfcc"].shape[1] == 40


def test_the_snapshot_is_required_and_latest_is_recorded(two_corpora: TwoCorpora, cache_env: Path) -> None:
    with pytest.raises(ConfigError, match="snapshot"):
        open_dataset(two_corpora.store, "clip", snapshot="")
    ds = _open("clip", store=two_corpora.store)
    assert ds.snapshot == open_store(two_corpora.store).snapshot
    record = ds.provenance()
    assert record["snapshot"] == ds.snapshot
    assert record["view"] == "clip"
    assert record["feature_versions"] == ds.feature_versions
    with pytest.raises(NotFoundError):
        _open("clip", store=two_corpora.store, snapshot="no-such-tag")
    with pytest.raises(ConfigError, match="unknown view"):
        open_dataset(two_corpora.store, "frames", snapshot="latest")
    with pytest.raises(ConfigError, match="unknown option"):
        _open("clip", store=two_corpora.store, frame=3)
    with pytest.raises(ConfigError, match="spectrogram"):
        _open("window", store=two_corpora.store, corpus="ravdess", audio="spectrogram")


def test_splits_folds_and_labels(two_corpora: TwoCorpora, cache_env: Path) -> None:
    train = _open("clip", store=two_corpora.store, corpus="recola", split="train")
    assert train.clip_ids == [RECOLA]
    assert train[0]["label"] == -1
    assert train[0]["label_name"] == ""
    validation = _open("clip", store=two_corpora.store, corpus="recola", split=["validation"])
    assert validation.clip_ids == ["recola/recordings_video/dev_1.mp4"]
    every = _open("clip", store=two_corpora.store, corpus="ravdess")
    folds = open_store(two_corpora.store).catalog("ravdess").set_index("clip_id")["fold"]
    one = int(folds.dropna().iloc[0])
    subset = _open("clip", store=two_corpora.store, corpus="ravdess", folds=[one])
    assert set(subset.clip_ids) == {c for c in every.clip_ids if folds[c] == one}
    native = _open("clip", store=two_corpora.store, corpus="ravdess", label="native")
    assert [native[i]["label_native"] for i in range(len(native))] == [
        native[i]["label"] for i in range(len(native))
    ]
    with pytest.raises(ConfigError, match="passes"):
        _open("clip", store=two_corpora.store, corpus="recola", split="test")


def test_pickles_as_its_options_and_reopens(two_corpora: TwoCorpora, cache_env: Path) -> None:
    ds = _open("segment", store=two_corpora.store)
    state = pickle.dumps(ds)
    assert len(state) < 20_000  # the index and options, no arrays, no handles
    copy = pickle.loads(state)
    for i in range(len(ds)):
        _same(ds[i], copy[i])


def test_reading_the_store_from_forked_workers_is_refused_clearly(two_corpora: TwoCorpora) -> None:
    ds = _open("image", store=two_corpora.store, cache=False)
    loader = DataLoader(ds, batch_size=2, num_workers=1, collate_fn=collate, multiprocessing_context="fork")
    with pytest.raises(ConfigError, match="spawn"):
        next(iter(loader))


def test_a_damaged_cache_is_found(two_corpora: TwoCorpora, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    ds = _open("image", store=two_corpora.store, cache=cache)
    directory = cache / ds.snapshot / "ravdess" / ds.feature_versions["ravdess"]
    CachedArrays(directory).verify()
    face = directory / "face.npy"
    data = bytearray(face.read_bytes())
    data[-1] ^= 0xFF
    face.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="checksum"):
        CachedArrays(directory).verify()
    face.write_bytes(bytes(data[:-10]))
    with pytest.raises(StoreError, match="truncated"):
        _open("image", store=two_corpora.store, cache=cache)


def test_normalize_applies_the_stored_statistics(two_corpora: TwoCorpora, tmp_path: Path) -> None:
    store = tmp_path / "store"
    shutil.copytree(two_corpora.store, store)
    cache = tmp_path / "cache"
    with pytest.raises(NotFoundError, match="emofeat stats"):
        open_dataset(store, "clip", snapshot="latest", corpus="ravdess", normalize="all", cache=cache)
    stats(store, snapshot=None, corpus="ravdess")
    ds = open_dataset(store, "clip", snapshot="latest", corpus="ravdess", normalize="all", cache=cache)
    assert ds.provenance()["normalize"] == "all"
    mfcc = torch.cat([ds[i]["mfcc"] for i in range(len(ds))]).double()
    np.testing.assert_allclose(mfcc.mean(dim=0).numpy(), 0.0, atol=1e-4)
    np.testing.assert_allclose(mfcc.std(dim=0, unbiased=False).numpy(), 1.0, atol=1e-3)
    raw = open_dataset(store, "clip", snapshot="latest", corpus="ravdess", cache=cache)
    assert not torch.equal(raw[0]["mfcc"], ds[0]["mfcc"])
    assert torch.equal(raw[0]["face"], ds[0]["face"])  # faces are not normalised
