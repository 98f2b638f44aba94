"""Frozen configs and the feature-version id."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from emofeat.config import (
    IMPLEMENTATION_VERSIONS,
    AudioConfig,
    FaceConfig,
    FeatureConfig,
    VideoConfig,
    canonical_json,
    feature_version_id,
)
from emofeat.errors import ConfigError

WEIGHTS = {"retinaface-mnet025": "ab" * 32}


def test_id_is_deterministic_and_short() -> None:
    a = feature_version_id(FeatureConfig(), WEIGHTS)
    b = feature_version_id(FeatureConfig.from_dict({}), dict(WEIGHTS))
    assert a == b
    assert a.startswith("fv-")
    assert len(a) == 15


@pytest.mark.parametrize(
    "changed",
    [
        FeatureConfig(video=VideoConfig(frames=8)),
        FeatureConfig(audio=AudioConfig(n_mfcc=13)),
        FeatureConfig(faces=FaceConfig(threshold=0.6)),
    ],
)
def test_changing_one_value_changes_the_id(changed: FeatureConfig) -> None:
    assert feature_version_id(changed, WEIGHTS) != feature_version_id(FeatureConfig(), WEIGHTS)


def test_weights_and_implementation_are_hashed(monkeypatch: pytest.MonkeyPatch) -> None:
    base = feature_version_id(FeatureConfig(), WEIGHTS)
    assert feature_version_id(FeatureConfig(), {"retinaface-mnet025": "cd" * 32}) != base
    monkeypatch.setitem(IMPLEMENTATION_VERSIONS, "mfcc", "999")
    assert feature_version_id(FeatureConfig(), WEIGHTS) != base


def test_model_path_is_not_hashed_but_recorded() -> None:
    a = FeatureConfig(faces=FaceConfig(detector="scrfd", model_path="/a/det_10g.onnx"))
    b = FeatureConfig(faces=FaceConfig(detector="scrfd", model_path="/b/det_10g.onnx"))
    assert feature_version_id(a, WEIGHTS) == feature_version_id(b, WEIGHTS)
    assert a.to_dict()["faces"]["model_path"] == "/a/det_10g.onnx"


def test_configs_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        FeatureConfig().audio.n_mfcc = 13  # type: ignore[misc]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"vidéo": {}}, "unknown config section"),
        ({"audio": {"n_mfc": 3}}, "unknown key"),
        ({"video": {"sampling": "random"}}, "video.sampling"),
        ({"faces": {"detector": "scrfd"}}, "model_path"),
        ({"faces": {"input_size": 100}}, "multiple of 32"),
    ],
)
def test_invalid_configs_say_what_is_wrong(data: dict[str, dict[str, object]], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        FeatureConfig.from_dict(data)


def test_canonical_json_rejects_nan() -> None:
    assert canonical_json({"b": 1, "a": [2.5]}) == '{"a":[2.5],"b":1}'
    with pytest.raises(ConfigError):
        canonical_json({"a": float("nan")})


def test_from_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[video]\nsampling = "fps"\nfps = 2.0\n[audio]\nn_mfcc = 20\n')
    cfg = FeatureConfig.from_file(path)
    assert (cfg.video.sampling, cfg.video.fps, cfg.audio.n_mfcc) == ("fps", 2.0, 20)
    with pytest.raises(ConfigError, match="cannot read"):
        FeatureConfig.from_file(tmp_path / "missing.toml")
    path.write_text("[video\n")
    with pytest.raises(ConfigError, match="cannot parse"):
        FeatureConfig.from_file(path)


def test_equal_values_hash_equally_whatever_their_spelling() -> None:
    spelled = FeatureConfig.from_dict({"faces": {"min_size": 20, "threshold": 0.7}, "audio": {"hop_ms": 10}})
    assert spelled == FeatureConfig()
    assert feature_version_id(spelled, WEIGHTS) == feature_version_id(FeatureConfig(), WEIGHTS)
    assert isinstance(spelled.faces.min_size, float)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"audio": {"egemaps": "false"}}, "true or false"),
        ({"faces": {"crop_size": 112.0}}, "integer"),
        ({"video": {"frames": True}}, "integer"),
        ({"audio": {"hop_ms": "10"}}, "number"),
        ({"video": {"sampling": 3}}, "string"),
    ],
)
def test_wrong_types_are_rejected(data: dict[str, dict[str, object]], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        FeatureConfig.from_dict(data)
