"""Normalisation statistics: computed blockwise from the parts, equal to numpy over the clips,
grouped by split, stored as versioned data, read back, applied; the CLI and the flow."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from emofeat.cli.app import app
from emofeat.data.stats import (
    ALL,
    FeatureStats,
    GroupStats,
    RunningStats,
    compute_stats,
    normalize,
    plan_stats,
    read_stats,
    stats,
    stats_groups,
    write_stats,
)
from emofeat.errors import ConfigError, NotFoundError, StoreError
from emofeat.store import ClipArrays, open_repo, open_store, prepare_version, record, write_part
from tests.corpusgen import Ingested

RTOL = 1e-6
CORPUS = "synth"
FV = "fv-000000000001"


def reference(arrays: list[np.ndarray], shape: tuple[int, ...]) -> FeatureStats:
    """One-shot numpy statistics of the rows of ``arrays`` (finite values only)."""
    rows = np.concatenate([np.asarray(a, np.float64).reshape(-1, *shape) for a in arrays], axis=0)
    finite = np.isfinite(rows)
    count = finite.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(finite, rows, 0.0).sum(axis=0) / count
        std = np.sqrt(np.square(np.where(finite, rows - mean, 0.0)).sum(axis=0) / count)
    return FeatureStats(np.where(count > 0, mean, np.nan), np.where(count > 0, std, np.nan), count)


def assert_close(got: FeatureStats, want: FeatureStats) -> None:
    assert got.shape == want.shape
    np.testing.assert_array_equal(got.count, want.count)
    np.testing.assert_allclose(got.mean, want.mean, rtol=RTOL, atol=1e-9)
    np.testing.assert_allclose(got.std, want.std, rtol=RTOL, atol=1e-9)


@pytest.fixture
def store_copy(ravdess_ingested: Ingested, tmp_path: Path) -> Path:
    """A private copy of the session's store (the tests here commit to it)."""
    return Path(shutil.copytree(ravdess_ingested.store, tmp_path / "store"))


def per_clip_rows(clips: list[dict[str, np.ndarray]], key: str, shape: tuple[int, ...]) -> list[np.ndarray]:
    """Each clip's rows of ``key`` (as ``store.read`` gives them; a per-clip value is one row)."""
    values = [arrays[key] for arrays in clips]
    return [v[np.newaxis] if v.shape == shape else v for v in values]


def test_stats_equal_numpy_over_every_ok_clip(ravdess_ingested: Ingested) -> None:
    store = open_store(ravdess_ingested.store)
    fv = store.latest_version("ravdess")
    catalog = store.catalog("ravdess", fv)
    ok = sorted(catalog.loc[catalog["status"] == "ok", "clip_id"])
    assert len(ok) >= 5
    result = compute_stats(store, "ravdess", fv)
    assert list(result) == [ALL]  # RAVDESS has no official splits
    assert result[ALL].clips == len(ok)
    groups = result[ALL]
    read = [store.read(c) for c in ok]
    assert {"mfcc", "logmel", "egemaps", "energy", "face_score"} <= set(groups)
    assert not {k for k in groups if k.endswith(("_times", ".offsets")) or k.startswith("label.")}
    assert {"face", "face_present", "speech_mask", "clip_id"}.isdisjoint(groups)  # not float
    assert (groups["mfcc"].shape, groups["logmel"].shape) == ((40,), (64, 3))
    assert (groups["egemaps"].shape, groups["energy"].shape) == ((88,), ())
    for key, got in groups.items():
        assert (got.mean.dtype, got.std.dtype, got.count.dtype) == (np.float64, np.float64, np.int64)
        assert_close(got, reference(per_clip_rows(read, key, got.shape), got.shape))
    # Clips without audio have NaN eGeMAPS functionals: excluded, so fewer values than clips.
    assert 0 < groups["egemaps"].count.max() < len(ok)
    assert groups["mfcc"].count.min() == sum(len(arrays["mfcc"]) for arrays in read)


def test_tiny_blocks_give_the_same_stats(ravdess_ingested: Ingested) -> None:
    store = open_store(ravdess_ingested.store)
    fv = store.latest_version("ravdess")
    keys = ["mfcc", "energy", "egemaps"]
    whole = compute_stats(store, "ravdess", fv, keys)
    blocks = compute_stats(store, "ravdess", fv, keys, block_bytes=1000)  # rows cut inside clips
    assert set(blocks[ALL]) == set(keys)
    for key in keys:
        assert_close(blocks[ALL][key], whole[ALL][key])


def test_blockwise_merge_is_stable_with_a_large_offset() -> None:
    rng = np.random.default_rng(7)
    data = 1e8 + rng.normal(0.0, 1.0, size=(60_000, 3))  # x**2 ~ 1e16: float64 ulp 2
    data[::7, 2] = np.nan  # one column with gaps
    acc = RunningStats((3,))
    cuts = np.sort(rng.choice(np.arange(1, len(data)), size=40, replace=False))
    for block in np.split(data, cuts):
        acc.update(block)
    got = acc.result()
    want = reference([data], (3,))
    np.testing.assert_array_equal(got.count, [60_000, 60_000, 60_000 - len(data[::7])])
    np.testing.assert_allclose(got.mean, want.mean, rtol=1e-12)
    np.testing.assert_allclose(got.std, want.std, rtol=RTOL)
    np.testing.assert_allclose(got.std[:2], np.std(data[:, :2], axis=0), rtol=RTOL)
    finite = RunningStats((2,))  # blocks without a NaN take the other branch
    for block in np.split(data[:, :2], cuts):
        finite.update(block)
    np.testing.assert_allclose(finite.result().std, np.std(data[:, :2], axis=0), rtol=RTOL)
    # Two accumulators merged equal one over all blocks (the parallel update).
    left, right = RunningStats((3,)), RunningStats((3,))
    left.update(data[:123])
    right.update(data[123:])
    left.merge(right)
    np.testing.assert_allclose(left.result().std, got.std, rtol=RTOL)


def test_columns_without_finite_values_have_nan_stats_and_normalize_leaves_them() -> None:
    acc = RunningStats((2,))
    acc.update(np.array([[1.0, np.nan], [3.0, np.inf], [5.0, np.nan]]))
    got = acc.result()
    np.testing.assert_array_equal(got.count, [3, 0])
    assert got.mean[0] == 3.0
    assert np.isclose(got.std[0], np.sqrt(8 / 3))
    assert np.isnan(got.mean[1])
    assert np.isnan(got.std[1])
    x = np.array([[3.0, 7.0], [np.nan, 2.0]], np.float32)
    out = normalize(x, got)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0], [0.0, 7.0])
    assert np.isnan(out[1, 0])
    assert out[1, 1] == 2.0
    constant = FeatureStats(np.array(2.0), np.array(0.0), np.array(4))
    np.testing.assert_array_equal(normalize(np.array([2.0, 3.0]), constant), [0.0, 1.0])
    with pytest.raises(ValueError, match="shape"):
        normalize(np.zeros((4, 3)), got)


# A synthetic store with splits: a clip stored in two parts, a failed clip, a removed clip,
# and a stale part holding an older copy of a clip (the ledger points elsewhere).


def series(rng: np.random.Generator, n: int) -> np.ndarray:
    return (1e3 + rng.normal(0.0, 2.0, size=(n, 3))).astype(np.float32)


def clip(clip_id: str, x: np.ndarray, y: np.ndarray, complete: bool = True) -> ClipArrays:
    arrays: dict[str, Any] = {
        "x": x,
        "x_times": np.arange(len(x), dtype=np.float64),
        "m": np.ones(len(x), "u1"),
    }
    if complete:
        arrays |= {"y": y, "label.v": np.zeros(2, np.float32), "label.v_times": np.zeros(2)}
    return ClipArrays(f"{CORPUS}/{clip_id}", arrays, per_clip=frozenset({"y"}), complete=complete)


def build_synthetic(path: Path) -> dict[str, dict[str, list[np.ndarray]]]:
    """Write the store; return each clip's rows of ``x`` and ``y`` as stored for it."""
    rng = np.random.default_rng(3)
    x = {c: series(rng, n) for c, n in {"a": 7, "b1": 5, "b2": 9, "c": 4, "e": 6, "f": 3, "old": 5}.items()}
    y = {c: rng.normal(size=4).astype(np.float32) for c in "abcef"}
    y["c"][:] = np.nan  # a clip without audio: NaN functionals
    repo = open_repo(path, create=True)
    session = repo.writable_session("main")
    attrs = {"feature_version": FV, "corpus": CORPUS, "created": "2024-01-01T00:00:00+00:00"}
    prepare_version(session, CORPUS, FV, attrs)
    write_part(session.store, CORPUS, FV, "p-stale", [clip("a", x["old"], y["a"])])
    write_part(
        session.store, CORPUS, FV, "p-one", [clip("a", x["a"], y["a"]), clip("b", x["b1"], y["b"], False)]
    )
    parts = [clip("b", x["b2"], y["b"]), clip("c", x["c"], y["c"]), clip("e", x["e"], y["e"])]
    write_part(session.store, CORPUS, FV, "p-two", [*parts, clip("f", x["f"], y["f"])])
    splits = {"a": "train", "b": "train", "c": "validation", "d": "test", "e": "test", "f": "train"}
    catalog = [
        {
            "clip_id": f"{CORPUS}/{c}",
            "corpus": CORPUS,
            "source": c,
            "split": s,
            "removed": "run-1" if c == "f" else None,
        }
        for c, s in splits.items()
    ]
    where = {
        "a": ("p-one", 0),
        "b": ("p-one p-two", 1),
        "c": ("p-two", 1),
        "e": ("p-two", 2),
        "f": ("p-two", 3),
    }
    ledger: list[dict[str, Any]] = [
        {"clip_id": f"{CORPUS}/{c}", "status": "ok", "stage": "validate", "part": p, "row": r}
        for c, (p, r) in where.items()
    ]
    ledger.append(
        {"clip_id": f"{CORPUS}/d", "status": "failed", "stage": "decode", "error_kind": "decode_error"}
    )
    record(session, CORPUS, FV, attrs, catalog, ledger)
    session.commit("synthetic")
    rows = {c: {"x": [x[c]], "y": [y[c][np.newaxis]]} for c in "acef"}
    rows["b"] = {"x": [x["b1"], x["b2"]], "y": [y["b"][np.newaxis]]}
    return rows


def test_groups_follow_the_splits_and_the_ledger(tmp_path: Path) -> None:
    rows = build_synthetic(tmp_path / "synth")
    store = open_store(tmp_path / "synth")
    members = {ALL: "abce", "train": "ab", "validation": "c", "test": "e"}
    for block_bytes in (1 << 20, 48):  # 48 bytes: two rows of x per block
        result = compute_stats(store, CORPUS, FV, block_bytes=block_bytes)
        assert list(result) == [ALL, "test", "train", "validation"]
        for group, clips in members.items():
            assert result[group].clips == len(clips)
            assert sorted(result[group]) == ["x", "y"]  # not x_times, m (uint8), label.*
            for key in ("x", "y"):
                want = reference([r for c in clips for r in rows[c][key]], result[group][key].shape)
                assert_close(result[group][key], want)
    # The long clip reads back whole from its two parts: the stats saw both pieces.
    np.testing.assert_array_equal(store.read(f"{CORPUS}/b")["x"], np.concatenate(rows["b"]["x"]))
    assert result[ALL]["x"].count.tolist() == [7 + 14 + 4 + 6] * 3
    np.testing.assert_array_equal(result["validation"]["y"].count, [0, 0, 0, 0])
    assert np.isnan(result["validation"]["y"].mean).all()
    assert compute_stats(store, CORPUS, FV, ["y"])["train"].keys() == {"y"}
    with pytest.raises(NotFoundError, match="no float feature 'm'"):
        compute_stats(store, CORPUS, FV, ["m"])
    # Stored as a whole: a group no longer computed is removed.
    write_stats(tmp_path / "synth", result, corpus=CORPUS, feature_version=FV, computed_from=store.snapshot)
    assert stats_groups(open_store(tmp_path / "synth"), CORPUS, FV) == [ALL, "test", "train", "validation"]
    only = {ALL: result[ALL]}
    write_stats(tmp_path / "synth", only, corpus=CORPUS, feature_version=FV, computed_from=store.snapshot)
    assert stats_groups(open_store(tmp_path / "synth"), CORPUS, FV) == [ALL]
    with pytest.raises(StoreError, match="statistics group 'dev set'"):
        write_stats(
            tmp_path / "synth", {"dev set": result[ALL]}, corpus=CORPUS, feature_version=FV, computed_from="x"
        )


def test_several_feature_versions_need_a_choice(tmp_path: Path) -> None:
    build_synthetic(tmp_path / "synth")
    repo = open_repo(tmp_path / "synth")
    session = repo.writable_session("main")
    other = "fv-000000000002"
    prepare_version(session, CORPUS, other, {"feature_version": other, "corpus": CORPUS, "created": "2025"})
    record(
        session, CORPUS, other, {}, [], [{"clip_id": f"{CORPUS}/a", "status": "failed", "stage": "decode"}]
    )
    session.commit("second version")
    store = open_store(tmp_path / "synth")
    with pytest.raises(ConfigError, match=f"several feature versions \\({FV}, {other}\\)"):
        plan_stats(store)
    assert plan_stats(store, CORPUS, FV) == [(CORPUS, FV)]
    with pytest.raises(NotFoundError, match="no ok clip"):
        compute_stats(store, CORPUS, other)
    with pytest.raises(NotFoundError, match="it has: synth"):
        plan_stats(store, "nope")


def test_write_then_read_back_is_versioned(store_copy: Path) -> None:
    before = open_store(store_copy)
    fv = before.latest_version("ravdess")
    computed = compute_stats(before, "ravdess", fv, ["mfcc", "energy", "egemaps"])
    snap = write_stats(
        store_copy, computed, corpus="ravdess", feature_version=fv, computed_from=before.snapshot
    )
    assert snap is not None
    after = open_store(store_copy, snap)
    back = read_stats(after, "ravdess", fv, ALL)
    assert dict(back) == dict(computed[ALL])
    assert (back.clips, back.computed_from) == (computed[ALL].clips, before.snapshot)
    meta = after.history()[0].metadata["emofeat"]
    assert meta == {
        "kind": "stats",
        "corpus": "ravdess",
        "feature_version": fv,
        "versions": {"ravdess": fv},
        "computed_from": before.snapshot,
    }
    with pytest.raises(NotFoundError, match=r"stored groups: none.*emofeat stats --store"):
        read_stats(before, "ravdess", fv, ALL)  # the older snapshot has no stats
    with pytest.raises(NotFoundError, match=r"'train'.*stored groups: all\)"):
        read_stats(after, "ravdess", fv)
    # The same stats again, even computed from the newer snapshot: nothing to commit.
    assert write_stats(store_copy, computed, corpus="ravdess", feature_version=fv, computed_from=snap) is None
    again = compute_stats(after, "ravdess", fv, ["mfcc", "energy", "egemaps"])
    assert write_stats(store_copy, again, corpus="ravdess", feature_version=fv, computed_from=snap) is None
    # The same values over a different number of clips: stored anew.
    recounted = {ALL: GroupStats(computed[ALL], clips=computed[ALL].clips + 1)}
    assert write_stats(store_copy, recounted, corpus="ravdess", feature_version=fv, computed_from=snap)
    assert read_stats(open_store(store_copy), "ravdess", fv, ALL).clips == computed[ALL].clips + 1
    # Different stats replace the stored ones; the earlier snapshot keeps its own.
    mfcc = computed[ALL]["mfcc"]
    shifted = {ALL: GroupStats({**computed[ALL], "mfcc": FeatureStats(mfcc.mean + 1, mfcc.std, mfcc.count)})}
    shifted[ALL].clips = computed[ALL].clips
    moved = write_stats(store_copy, shifted, corpus="ravdess", feature_version=fv, computed_from=snap)
    assert moved is not None
    np.testing.assert_array_equal(
        read_stats(open_store(store_copy), "ravdess", fv, ALL)["mfcc"].mean, mfcc.mean + 1
    )
    fewer = compute_stats(after, "ravdess", fv, ["mfcc"])
    third = write_stats(store_copy, fewer, corpus="ravdess", feature_version=fv, computed_from=snap)
    assert third is not None
    assert set(read_stats(open_store(store_copy, third), "ravdess", fv, ALL)) == {"mfcc"}
    assert set(read_stats(open_store(store_copy, snap), "ravdess", fv, ALL)) == {"mfcc", "energy", "egemaps"}


def test_stats_entry_commits_once_then_nothing(store_copy: Path) -> None:
    first = stats(store_copy, keys=["mfcc"])
    tip = open_store(store_copy)
    assert first["committed"] is True
    assert first["snapshot"] == tip.snapshot != first["computed_from"]
    fv = tip.latest_version("ravdess")
    assert first["corpora"] == {"ravdess": {"feature_version": fv, "groups": {ALL: 6}, "keys": ["mfcc"]}}
    second = stats(store_copy, snapshot="latest", keys=["mfcc"])
    assert (second["committed"], second["snapshot"]) == (False, tip.snapshot)
    assert len(open_store(store_copy).history()) == len(tip.history())


runner = CliRunner()


def test_cli_json_and_errors(store_copy: Path) -> None:
    result = runner.invoke(app, ["stats", "--store", str(store_copy), "--key", "energy", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["committed"] is True
    assert summary["corpora"]["ravdess"]["keys"] == ["energy"]
    text = runner.invoke(app, ["stats", "--store", str(store_copy), "--key", "energy"])
    assert text.exit_code == 0, text.output
    assert "ravdess" in text.stdout
    assert "all  clips=6" in text.stdout
    assert "unchanged" in text.stdout
    bad = runner.invoke(app, ["stats", "--store", str(store_copy), "--corpus", "nope"])
    assert bad.exit_code == 1
    assert bad.stderr.startswith("emofeat: error (not_found): corpus 'nope' is not in this store")


@pytest.mark.prefect
def test_the_flow_stores_stats(store_copy: Path, prefect_api: str) -> None:
    from emofeat.orchestration.stats_flow import stats_flow

    summary = stats_flow(str(store_copy), keys=["mfcc", "egemaps"])
    assert summary["committed"] is True
    assert summary["corpora"]["ravdess"]["groups"] == {ALL: 6}
    store = open_store(store_copy, summary["snapshot"])
    fv = summary["corpora"]["ravdess"]["feature_version"]
    back = read_stats(store, "ravdess", fv, ALL)
    assert dict(back) == dict(compute_stats(store, "ravdess", fv, ["mfcc", "egemaps"])[ALL])
    assert back.computed_from == summary["computed_from"]
