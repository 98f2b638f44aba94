"""Two stores hold the same features: the check behind "a distributed (object-storage,
killed-worker) run ends as a plain local run does"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import emofeat

#: Ledger columns that name the run or when it happened, not what it computed.
RUN_COLUMNS = ("run",)


def assert_same_features(expected: str | Path, actual: str | Path, corpus: str) -> None:
    """The catalogs, the ledgers (but the run ids) and every array of every clip are equal.

    Floats are compared bit for bit (NaN equal to NaN): the pipeline is deterministic
    whatever runs it.
    """
    a, b = emofeat.open_store(expected), emofeat.open_store(actual)
    fv = a.latest_version(corpus)
    assert b.latest_version(corpus) == fv
    cat_a, cat_b = (s.catalog(corpus).sort_values("clip_id").reset_index(drop=True) for s in (a, b))
    pd.testing.assert_frame_equal(cat_a, cat_b)
    led_a, led_b = (s.ledger(corpus, fv).drop(columns=list(RUN_COLUMNS)).sort_index() for s in (a, b))
    pd.testing.assert_frame_equal(led_a, led_b)
    ok = cat_a.loc[cat_a["status"] == "ok", "clip_id"].tolist()
    assert ok, "no clip was ingested"
    for clip_id in ok:
        arrays_a, arrays_b = a.read(clip_id, fv), b.read(clip_id, fv)
        assert sorted(arrays_a) == sorted(arrays_b), clip_id
        for key, value in arrays_a.items():
            other = arrays_b[key]
            assert value.dtype == other.dtype, (clip_id, key)
            assert value.shape == other.shape, (clip_id, key)
            same = np.array_equal(value, other, equal_nan=value.dtype.kind in "fc")
            assert same, f"{clip_id}: {key} differs"
