"""Ingesting a real-layout RAVDESS tree end to end (local engine, real decoders and models)."""

from __future__ import annotations

import numpy as np
import pytest

import emofeat
from emofeat.config import FeatureConfig, VideoConfig
from emofeat.pipeline import RunOptions, ingest
from tests.corpusgen import (
    AUDIO_ONLY,
    AV,
    CARPHONE,
    SONG,
    SURROUND,
    VIDEO_ONLY_NO_FACE,
    Corpus,
    Ingested,
)


def cid(source: str) -> str:
    return f"ravdess/{source}"


def test_every_clip_is_stored_with_labels_actor_and_sex(ravdess: Corpus, ravdess_ingested: Ingested) -> None:
    first = ravdess_ingested.first
    expected = 6 if (ravdess.root / CARPHONE).exists() else 5
    assert first.clips == {"ok": expected, "failed": 0, "skipped": 0}
    reason = "name is not MM-VV-EE-II-SS-RR-AA.mp4|wav"
    assert first.ignored == {
        "count": 1,
        "by_reason": {reason: {"count": 1, "examples": ["Actor_01/README.txt"]}},
    }
    cat = emofeat.open_store(ravdess_ingested.store).catalog("ravdess").set_index("clip_id")
    assert (cat["status"] == "ok").all()
    assert set(cat["feature_version"]) == {first.feature_version}
    want = {
        AV: ("happy", "Actor_01", "male", "audio-video", "speech"),
        VIDEO_ONLY_NO_FACE: ("sad", "Actor_02", "female", "video-only", "speech"),
        AUDIO_ONLY: ("angry", "Actor_03", "male", "audio-only", "speech"),
        SONG: ("fearful", "Actor_04", "female", "audio-only", "song"),
        SURROUND: ("surprised", "Actor_05", "male", "audio-only", "speech"),
    }
    for source, (label, subject, sex, modality, channel) in want.items():
        row = cat.loc[cid(source)]
        assert (row["label"], row["subject"], row["sex"]) == (label, subject, sex), source
        assert (row["meta"]["modality"], row["meta"]["vocal_channel"]) == (modality, channel), source
        assert len(row["source_sha256"]) == 64


def test_audio_video_clip_has_every_feature(ravdess_ingested: Ingested) -> None:
    clip = emofeat.open_store(ravdess_ingested.store).read(cid(AV))
    t = len(clip["face_times"])
    assert t == 16
    assert clip["face"].shape == (16, 112, 112, 3)
    assert clip["face"].dtype == np.uint8
    assert clip["face_present"].shape == (16,)
    np.testing.assert_allclose(clip["face_times"], np.linspace(0, 49 / 25, 16), atol=0.5 / 25 + 1e-6)
    ta = len(clip["mfcc_times"])
    # 2 s at a 10 ms hop, plus at most one AAC frame (1024 samples) of encoder padding.
    assert 200 <= ta <= 200 + 1024 // 160 + 1
    assert clip["mfcc"].shape == (ta, 40)
    assert clip["logmel"].shape == (ta, 64, 3)
    assert clip["energy"].shape == (ta,)
    assert clip["egemaps_lld"].shape[1] == 25
    assert clip["egemaps"].shape == (88,)
    assert np.isfinite(clip["egemaps"]).all()
    for key in ("mfcc", "logmel", "energy", "egemaps_lld"):
        assert len(clip[f"{key}_times"]) == len(clip[key])
        assert np.all(np.diff(clip[f"{key}_times"]) > 0)


def test_face_present_high_on_faces_low_without(ravdess: Corpus, ravdess_ingested: Ingested) -> None:
    store = emofeat.open_store(ravdess_ingested.store)
    assert store.read(cid(AV))["face_present"].mean() >= 0.9
    no_face = store.read(cid(VIDEO_ONLY_NO_FACE))
    assert no_face["face_present"].mean() <= 0.1
    assert not no_face["face"][no_face["face_present"] == 0].any()
    assert len(no_face["mfcc"]) == 0  # video only: no audio stream, not an error
    assert np.isnan(no_face["egemaps"]).all()
    if (ravdess.root / CARPHONE).exists():
        assert store.read(cid(CARPHONE))["face_present"].mean() >= 0.8


def test_audio_only_clips_have_no_faces(ravdess_ingested: Ingested) -> None:
    store = emofeat.open_store(ravdess_ingested.store)
    for source, seconds in ((AUDIO_ONLY, 2.5), (SONG, 1.0), (SURROUND, 1.0)):
        clip = store.read(cid(source))
        assert clip["face"].shape == (0, 112, 112, 3)
        assert len(clip["mfcc_times"]) == pytest.approx(seconds / 0.010, abs=3), source


def _inside(times: np.ndarray, intervals: list[tuple[float, float]], margin: float) -> np.ndarray:
    mask = np.zeros(len(times), bool)
    for start, end in intervals:
        mask |= (times >= start + margin) & (times <= end - margin)
    return mask


def test_energy_high_in_speech_zero_in_digital_silence(ravdess: Corpus, ravdess_ingested: Ingested) -> None:
    clip = emofeat.open_store(ravdess_ingested.store).read(cid(AUDIO_ONLY))
    times, energy = clip["energy_times"], clip["energy"]
    assert energy.min() >= 0.0
    assert energy.max() <= 1.0
    voiced = _inside(times, ravdess.audio_only_voiced, margin=0.05)
    assert energy[voiced].mean() > 0.6
    trailing_silence = times > 1.5 + 0.05  # the last second is exact digital silence
    assert trailing_silence.sum() > 80
    assert np.all(energy[trailing_silence] == 0.0)


def test_second_run_writes_nothing(ravdess_ingested: Ingested) -> None:
    first, second = ravdess_ingested.first, ravdess_ingested.second
    assert second.clips == {"ok": 0, "failed": 0, "skipped": sum(first.clips.values())}
    assert second.commits == []
    assert second.snapshot == first.snapshot
    assert second.feature_version == first.feature_version
    history = emofeat.open_store(ravdess_ingested.store).history()
    assert len(history) == len(first.commits) + 2  # + icechunk's initial commit and the store's creation


def test_every_commit_records_the_run(ravdess_ingested: Ingested) -> None:
    history = emofeat.open_store(ravdess_ingested.store).history()
    runs = [c.metadata["emofeat"] for c in history if "emofeat" in c.metadata]
    assert len(runs) == len(ravdess_ingested.first.commits) >= 2  # 3 batches, 2 per checkpoint
    final = runs[0]
    assert final["final"] is True
    assert final["feature_version"] == ravdess_ingested.first.feature_version
    assert final["counts"] == ravdess_ingested.first.clips
    assert final["config"]["video"]["frames"] == 16
    assert len(next(iter(final["weights"].values()))) == 64
    assert final["environment"]["libraries"]["av"]
    assert len(final["environment"]["code_sha256"]) == 64


def test_changed_config_adds_a_second_version_beside_the_first(
    ravdess: Corpus, tmp_path_factory: pytest.TempPathFactory
) -> None:
    store = tmp_path_factory.mktemp("two-versions") / "s"
    options = RunOptions(batch_size=4, checkpoint_every=4, workers=1)
    a = ingest("ravdess", ravdess.root, store, options=options)
    b = ingest("ravdess", ravdess.root, store, FeatureConfig(video=VideoConfig(frames=8)), options=options)
    assert a.feature_version != b.feature_version
    assert b.clips["ok"] == a.clips["ok"]
    assert b.clips["skipped"] == 0
    opened = emofeat.open_store(store)
    assert [v["feature_version"] for v in opened.feature_versions("ravdess")] == [
        a.feature_version,
        b.feature_version,
    ]
    assert opened.read(cid(AV), a.feature_version)["face"].shape[0] == 16
    assert opened.read(cid(AV), b.feature_version)["face"].shape[0] == 8
    assert opened.read(cid(AV))["face"].shape[0] == 8  # default: the newest version
    # An old snapshot still reads the first version alone.
    old = emofeat.open_store(store, snapshot=a.snapshot)
    assert [v["feature_version"] for v in old.feature_versions()] == [a.feature_version]
