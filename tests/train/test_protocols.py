"""Every paper's protocol runs end to end (one epoch, small networks) on a store of its
corpora's real layouts: each adapter's fake corpus with real media in place of its
placeholders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emofeat.corpora import get_adapter
from emofeat.pipeline import RunOptions, ingest
from emofeat.train.protocols import PROTOCOLS
from emofeat.train.run import evaluate, plan_run, run
from tests.pipeline.test_every_adapter_ingests import CONFIG, CONTRACTS, make_real
from tests.train.test_run import TINY

BUILDERS = {contract.adapter: contract for contract in CONTRACTS}


@pytest.fixture(scope="module")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One store holding every corpus a protocol names, each in its real layout."""
    base = tmp_path_factory.mktemp("layouts")
    store = base / "store"
    for corpus in sorted({c for p in PROTOCOLS.values() for c in p.corpora}):
        root = base / corpus
        root.mkdir()
        BUILDERS[corpus]().build(root)
        manifest = get_adapter(corpus).scan(root)
        for seed, clip in enumerate(manifest.clips):
            for source in (clip.source, clip.audio_source):
                if source is not None:
                    make_real(root / source, seed)
        summary = ingest(corpus, root, store, CONFIG, RunOptions(workers=2, batch_size=4))
        assert summary.clips["failed"] == 0, summary.failures
    return store


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_each_protocol_runs_end_to_end(
    name: str, layouts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMOFEAT_CACHE_DIR", str(tmp_path / "cache"))
    protocol = PROTOCOLS[name]
    tiny = TINY[protocol.model]
    plan = plan_run(
        protocol.model,
        layouts,
        corpora=protocol.corpora,
        protocol=protocol,
        model_options=tiny["model"],
        view_options=tiny["view"],
        train={"epochs": 1, "batch_size": 2, "device": "cpu"},
    )
    result = run(plan, tmp_path / "run", reported=protocol.reported)
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert record["protocol"] == name
    assert record["reported"] == protocol.reported
    assert record["corpora"] == list(protocol.corpora)
    assert set(record["feature_versions"]) == set(protocol.corpora)
    assert result["metrics"], result
    again = evaluate(tmp_path / "run")  # the checkpoint judged again gives the same figures
    for key, value in result["metrics"].items():
        if isinstance(value, float) and value == value:
            assert again[key] == pytest.approx(value, abs=1e-6), key
    if protocol.scheme == "folds":
        assert record["fold"] is not None
    else:
        assert record["split"] == {"train": protocol.train_split, "eval": protocol.eval_split}
