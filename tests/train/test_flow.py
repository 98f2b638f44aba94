"""The training flow runs every fold of a protocol, on one pinned snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest

from emofeat.store import open_store
from tests.train.test_run import TINY
from tests.twocorpora import TwoCorpora


@pytest.mark.prefect
def test_the_flow_runs_every_fold_of_a_protocol(
    prefect_api: str, two_corpora: TwoCorpora, cache_env: Path, tmp_path: Path
) -> None:
    from emofeat.orchestration.train_flow import train_flow

    result = train_flow(
        "amcm-ravdess",
        str(two_corpora.store),
        str(tmp_path / "runs"),
        train={"epochs": 1, "batch_size": 2, "device": "cpu"},
        model_options=TINY["amcm"]["model"],
        view_options=TINY["amcm"]["view"],
    )
    catalog = open_store(two_corpora.store).catalog("ravdess")
    folds = sorted(int(f) for f in catalog["fold"].dropna().unique())
    assert len(result["folds"]) == len(folds)
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [f"fold-{f}" for f in folds]
    assert result["snapshot"] == open_store(two_corpora.store).snapshot
    assert 0.0 <= result["mean"]["accuracy"] <= 1.0
    assert result["reported"] == 0.9755
