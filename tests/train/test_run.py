"""Training runs end to end on small ingested stores: every model for one epoch through the
CLI, a two-class corpus learnt well above chance, resume, evaluate, protocols."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from emofeat.cli.app import app
from emofeat.config import AudioConfig, FeatureConfig
from emofeat.data import open_dataset
from emofeat.errors import ConfigError
from emofeat.pipeline import RunOptions, ingest
from emofeat.store import open_store
from emofeat.train.protocols import PROTOCOLS
from emofeat.train.run import evaluate, plan_run, run
from tests.mediagen import sine, write_audio
from tests.twocorpora import TwoCorpora

SR = 16000
#: Small networks, so one CPU epoch takes seconds (each model's paper sizes are its defaults).
TINY: dict[str, dict[str, dict[str, Any]]] = {
    "amcm": {
        "model": {"channels": 16, "depth": 1, "audio_dim": 32, "attention_dim": 16},
        "view": {"frames": 4, "size": 28, "mfcc_frames": 64},
    },
    "jdcdtl": {"model": {"channels": [8, 16], "embedding": 16}, "view": {}},
    "rald": {"model": {"dim": 32, "heads": 2}, "view": {"size": 56}},
    "gcsa": {
        "model": {"audio_channels": 8, "video_channels": 8, "audio_key": "logmel"},
        "view": {"audio": "logmel", "frames": 2, "size": 56, "seconds": 1.0},
    },
    "alexatt": {
        "model": {"hidden": 16, "channels": [8, 8, 8], "fc_channels": [16, 16], "attention": 8},
        "view": {"steps": 25, "size": 56},
    },
}
CORPUS = {"amcm": "ravdess", "jdcdtl": "ravdess", "rald": "ravdess", "gcsa": "ravdess", "alexatt": "recola"}


def _toml(path: Path, sections: dict[str, dict[str, Any]]) -> Path:
    lines = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        for key, value in values.items():
            lines.append(f"{key} = {json.dumps(value)}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("model", list(TINY))
def test_each_model_trains_one_epoch_from_the_cli(
    model: str, two_corpora: TwoCorpora, cache_env: Path, tmp_path: Path
) -> None:
    config = _toml(tmp_path / "train.toml", {**TINY[model], "train": {"batch_size": 4}})
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        ["train", model, "--store", str(two_corpora.store), "--corpus", CORPUS[model], "--epochs", "1",
         "--config", str(config), "--out", str(out), "--device", "cpu", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    record = json.loads((out / "metrics.json").read_text())
    store = open_store(two_corpora.store)
    assert record["snapshot"] == store.snapshot
    assert record["feature_versions"] == {CORPUS[model]: store.latest_version(CORPUS[model])}
    assert record["model"] == model
    for key, value in TINY[model]["view"].items():
        assert record["view"]["options"][key] == value, key
    assert len(record["history"]) == 1
    assert record["metrics"]
    assert (out / "learning_curve.png").is_file()
    assert (out / ("traces.png" if model == "alexatt" else "confusion.png")).is_file()
    state = torch.load(out / "last.pt", weights_only=True)  # tensors and plain data only
    assert state["epoch"] == 1
    again = evaluate(out)
    for key, value in record["metrics"].items():
        if isinstance(value, float) and not np.isnan(value):
            assert again[key] == pytest.approx(value, abs=1e-6), key
    if model == "alexatt":  # annotation delay: chosen on validation, recorded, found again
        assert record["scoring"] == {"max_delay_s": 8.0}
        assert record["metrics"]["delay_chosen_on"] == "validation"
        for name in ("arousal", "valence"):
            delay = record["metrics"][f"delay_{name}"]
            assert isinstance(delay, int)
            assert 0 <= delay <= 200
            assert again[f"delay_{name}"] == delay


def test_rald_reads_fixed_label_vectors_named_in_the_config(
    two_corpora: TwoCorpora, cache_env: Path, tmp_path: Path
) -> None:
    from emofeat.data.dataset import native_labels

    names = native_labels(open_store(two_corpora.store), "ravdess")
    rng = np.random.default_rng(0)
    rows = {name: rng.standard_normal(6).round(4) for name in names}
    vectors = tmp_path / "words.txt"  # GloVe text format, the labels' words in another order
    lines = [f"{w} " + " ".join(str(v) for v in rows[w]) for w in reversed(names)] + ["other 1 2 3 4 5 6"]
    vectors.write_text("\n".join(lines) + "\n")
    digest = hashlib.sha256(vectors.read_bytes()).hexdigest()
    model = {**TINY["rald"]["model"], "label_encoder": "fixed", "label_vectors": str(vectors)}
    config = _toml(tmp_path / "train.toml", {"model": model, "view": TINY["rald"]["view"]})
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        ["train", "rald", "--store", str(two_corpora.store), "--corpus", "ravdess", "--epochs", "1",
         "--batch-size", "4", "--config", str(config), "--out", str(out), "--device", "cpu"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    record = json.loads((out / "metrics.json").read_text())
    assert record["config"]["label_vectors"] == str(vectors.resolve())
    assert record["config"]["label_vectors_sha256"] == digest
    assert record["train"]["lr_step_epochs"] == 100  # the paper's decay is in the defaults
    assert record["train"]["lr_gamma"] == 0.005
    state = torch.load(out / "last.pt", weights_only=True)["model"]
    expected = np.stack([rows[name] for name in record["classes"]]).astype(np.float32)
    np.testing.assert_array_equal(state["label_vectors"].numpy(), expected)  # rows in label order
    again = evaluate(out)
    assert again["accuracy"] == pytest.approx(record["metrics"]["accuracy"])
    vectors.write_text(vectors.read_text() + "more 0 0 0 0 0 0\n")
    with pytest.raises(ConfigError, match="changed"):
        evaluate(out)


def _two_classes(root: Path) -> None:
    """24 one-second clips of 12 speakers: "happy" is a loud 440 Hz tone, "sad" a quiet hiss."""
    rows = []
    rng = np.random.default_rng(0)
    for speaker in range(12):
        for label in ("happy", "sad"):
            name = f"s{speaker:02d}_{label}.wav"
            if label == "happy":
                signal = sine(440 + 20 * speaker, 1.0, SR, 0.6)
            else:
                signal = (0.02 * rng.standard_normal(SR)).astype(np.float32)
            write_audio(root / name, signal, SR)
            rows.append({"source": name, "label": label, "subject": f"s{speaker:02d}"})
    with open(root / "labels.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["source", "label", "subject"])
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def two_classes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("two-classes")
    (base / "corpus").mkdir()
    _two_classes(base / "corpus")
    store = base / "store"
    summary = ingest(
        "folder",
        base / "corpus",
        store,
        FeatureConfig(audio=AudioConfig(egemaps=False)),
        RunOptions(workers=1),
    )
    assert summary.clips["ok"] == 24, summary.failures
    return store


def _plan(store: Path, epochs: int, **train: Any) -> Any:
    return plan_run(
        "amcm",
        store,
        corpora=["folder"],
        fold=0,
        model_options={**TINY["amcm"]["model"], "loss": "ce"},
        view_options=TINY["amcm"]["view"],
        train={"epochs": epochs, "batch_size": 4, "lr": 1e-3, "device": "cpu", **train},
    )


def test_two_easy_classes_are_learnt_well_above_chance(
    two_classes: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMOFEAT_CACHE_DIR", str(tmp_path / "cache"))
    result = run(_plan(two_classes, epochs=6), tmp_path / "run")
    assert result["fold"] == 0
    assert result["split_protocol"] == "subject_independent"
    assert result["metrics"]["accuracy"] >= 0.9, result["history"]


def test_a_resumed_run_equals_an_uninterrupted_one(
    two_classes: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMOFEAT_CACHE_DIR", str(tmp_path / "cache"))
    whole = run(_plan(two_classes, epochs=2), tmp_path / "whole")
    run(_plan(two_classes, epochs=1), tmp_path / "parts")
    with pytest.raises(ConfigError, match="resume"):
        run(_plan(two_classes, epochs=2), tmp_path / "parts")  # never overwrites silently
    resumed = run(_plan(two_classes, epochs=2), tmp_path / "parts", resume=True)
    assert [h["train_loss"] for h in resumed["history"]] == [h["train_loss"] for h in whole["history"]]
    a = torch.load(tmp_path / "whole" / "last.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "parts" / "last.pt", weights_only=True)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_run_resumed_mid_epoch_equals_an_uninterrupted_one(
    two_classes: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emofeat.train import loop

    monkeypatch.setenv("EMOFEAT_CACHE_DIR", str(tmp_path / "cache"))
    run(_plan(two_classes, epochs=1), tmp_path / "whole")
    calls = {"n": 0}
    original = loop.Trainer.save

    def crash_after_second_checkpoint(self: loop.Trainer, name: str = "last.pt") -> Path:
        path = original(self, name)
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the run dies right after its mid-epoch checkpoint
        return path

    monkeypatch.setattr(loop.Trainer, "save", crash_after_second_checkpoint)
    with pytest.raises(KeyboardInterrupt):
        run(_plan(two_classes, epochs=1, checkpoint_every=1), tmp_path / "parts")
    monkeypatch.setattr(loop.Trainer, "save", original)
    state = torch.load(tmp_path / "parts" / "last.pt", weights_only=True)
    assert state["epoch"] == 0
    assert state["consumed"] == 8  # two batches of 4 into the epoch
    run(_plan(two_classes, epochs=1, checkpoint_every=1), tmp_path / "parts", resume=True)
    a = torch.load(tmp_path / "whole" / "last.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "parts" / "last.pt", weights_only=True)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_every_named_protocol_exists_as_data() -> None:
    assert {
        "amcm-enterface", "amcm-ravdess", "jdcdtl-enterface-savee-emodb", "rald-fgemotions",
        "rald-rafdb", "rald-affectnet", "gcsa-affwild2", "alexatt-recola",
    } <= set(PROTOCOLS)  # fmt: skip
    for protocol in PROTOCOLS.values():
        assert protocol.reported
        assert protocol.scheme in ("folds", "split")


@pytest.mark.parametrize(("protocol", "model"), [("amcm-ravdess", "amcm"), ("alexatt-recola", "alexatt")])
def test_a_protocol_runs_end_to_end_on_a_store_of_its_layout(
    protocol: str, model: str, two_corpora: TwoCorpora, cache_env: Path, tmp_path: Path
) -> None:
    config = _toml(tmp_path / "train.toml", {**TINY[model], "train": {"batch_size": 4}})
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        ["train", "--protocol", protocol, "--store", str(two_corpora.store), "--epochs", "1",
         "--config", str(config), "--out", str(out), "--device", "cpu"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "the paper reports" in result.output
    record = json.loads((out / "metrics.json").read_text())
    assert record["protocol"] == protocol
    assert record["reported"] == PROTOCOLS[protocol].reported


def test_the_papers_augmentations_apply_to_training_items_only(
    two_corpora: TwoCorpora, cache_env: Path
) -> None:
    from emofeat.data import FaceAugment
    from emofeat.train.run import datasets, make_augment
    from emofeat.train.specs import get_spec

    plan = plan_run("amcm", two_corpora.store, corpora=["ravdess"], view_options=TINY["amcm"]["view"])
    assert plan.data["augment"] == {"face": {"crop": 0.9, "flip": 0.0, "rotate": 10.0}}  # crop, rotation
    train, held_out = datasets(plan, get_spec("amcm"))
    assert train.augment is not None
    assert train.augment.face == FaceAugment(crop=0.9, flip=0.0, rotate=10.0)
    assert held_out.augment is None
    flipped = plan_run(
        "amcm",
        two_corpora.store,
        corpora=["ravdess"],
        view_options=TINY["amcm"]["view"],
        data={"augment": {"face": {"crop": 1.0, "flip": 1.0, "rotate": 0.0}}},
    )
    train, _ = datasets(flipped, get_spec("amcm"))
    plain = open_dataset(
        two_corpora.store, "clip", snapshot=plan.snapshot, corpus="ravdess", **TINY["amcm"]["view"]
    )
    by_id = {plain[i]["clip_id"]: plain[i]["face"] for i in range(len(plain))}
    for i in range(len(train)):
        item = train[i]
        assert torch.equal(item["face"], by_id[item["clip_id"]].flip(-1))
    assert make_augment({}) is None
    with pytest.raises(ConfigError, match="augmentation"):
        make_augment({"faces": {}})
    with pytest.raises(ConfigError, match=r"\[data\]"):
        plan_run("amcm", two_corpora.store, corpora=["ravdess"], data={"normalise": "train"})
