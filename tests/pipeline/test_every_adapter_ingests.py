"""Every adapter's fake corpus, with real media in place of its placeholders, ingests cleanly.

Each contract test class builds a tiny corpus that mirrors the real layout with empty
placeholder files. Here every clip's placeholder is replaced by small real media of its
type (audio, video, still image or image sequence), the corpus is ingested for real, and
the catalog must hold every clip as ``ok`` with the adapter's labels, subjects and folds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import emofeat
from emofeat.config import AudioConfig, FeatureConfig, VideoConfig
from emofeat.corpora import get_adapter
from emofeat.corpora.folds import assign_folds
from emofeat.corpora.rows import clip_row
from emofeat.media import AUDIO_SUFFIXES, IMAGE_SUFFIXES, VIDEO_SUFFIXES
from emofeat.pipeline import RunOptions, ingest
from tests.corpora import (
    test_afew,
    test_affectnet,
    test_affwild2,
    test_ckplus,
    test_contract_existing,
    test_cremad,
    test_emodb,
    test_enterface,
    test_fgemotions,
    test_rafdb,
    test_recola,
    test_savee,
)
from tests.corpora.contract import AdapterContract
from tests.mediagen import face_frames, speech_like, write_audio, write_image, write_video

# Modules, not classes, are imported: a Test* class imported here would be collected twice.
CONTRACTS: list[type[AdapterContract]] = [
    test_afew.TestAfewContract,
    test_affectnet.TestAffectNetContract,
    test_affwild2.TestAffWild2Contract,
    test_ckplus.TestCkPlusContract,
    test_cremad.TestCremaDContract,
    test_emodb.TestEmoDBContract,
    test_enterface.TestEnterfaceContract,
    test_fgemotions.TestFgEmotionsContract,
    test_contract_existing.TestFolderContract,
    test_rafdb.TestRafDbContract,
    test_contract_existing.TestRavdessContract,
    test_recola.TestRecolaContract,
    test_savee.TestSaveeContract,
]

# Cheap features: a few frames, no eGeMAPS (its cost is not what this test is about).
CONFIG = FeatureConfig(video=VideoConfig(frames=2), audio=AudioConfig(egemaps=False))


def make_real(path: Path, seed: int) -> None:
    """Overwrite a placeholder with real media of its type (a folder becomes an image sequence)."""
    if path.is_dir():
        names = sorted(p.name for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        frames = face_frames(len(names), size=(96, 128), seed=seed)
        for name, frame in zip(names, frames, strict=True):
            write_image(path / name, frame)
        return
    suffix = path.suffix.lower()
    rate = 44100 if suffix == ".flv" else 16000  # FLV carries AAC at 44.1 kHz
    speech = speech_like(0.6, rate, seed=seed)
    if suffix in IMAGE_SUFFIXES:
        write_image(path, face_frames(1, size=(96, 128), seed=seed)[0])
    elif suffix in VIDEO_SUFFIXES:
        codec = "mpeg4" if suffix == ".avi" else "libx264"
        audio_codec = "pcm_s16le" if suffix == ".avi" else "aac"
        frames = face_frames(4, size=(96, 128), seed=seed)
        write_video(path, frames, fps=8, codec=codec, audio=speech, audio_rate=rate, audio_codec=audio_codec)
    elif suffix in AUDIO_SUFFIXES:
        write_audio(path, speech, 16000)
    else:
        raise AssertionError(f"no real media for {path}")


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.adapter)
def test_fake_corpus_with_real_media_ingests(contract: type[AdapterContract], tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    contract().build(root)
    adapter = get_adapter(contract.adapter)
    manifest = adapter.scan(root)
    for seed, clip in enumerate(manifest.clips):
        for source in (clip.source, clip.audio_source):
            if source is not None:
                make_real(root / source, seed)
    manifest = adapter.scan(root)  # real media do not change what the adapter finds
    store = tmp_path / "store"
    summary = ingest(contract.adapter, root, store, CONFIG, RunOptions(workers=2, batch_size=4))
    assert summary.clips == {"ok": len(manifest.clips), "failed": 0, "skipped": 0}, summary.failures
    assert summary.ignored["count"] == len(manifest.skipped)
    catalog = emofeat.open_store(store).catalog(contract.adapter).set_index("clip_id")
    folds = assign_folds(manifest.clips)
    for clip in manifest.clips:
        expected = clip_row(adapter, clip, folds[clip.clip_id])
        got = catalog.loc[clip.clip_id]
        keys = ("source", "audio_source", "person", "subject", "sex", "label", "unified", "quadrant", "split")
        for key in (*keys, "fold"):
            value = got[key]
            assert (None if value is None or value != value else value) == expected[key], (clip.clip_id, key)
        assert got["status"] == "ok"
    for clip in manifest.clips:
        if clip.tracks:
            arrays = emofeat.open_store(store).read(clip.clip_id)
            for track in clip.tracks:
                assert len(arrays[f"label.{track.name}"]) == len(track.values)
                assert np.all(np.diff(arrays[f"label.{track.name}_times"]) >= 0)
