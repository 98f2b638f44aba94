"""AlexAtt: shapes, ranges and gradients, the attention and the gate, causality across masked
steps, faceless steps and the fusion ablations."""

from __future__ import annotations

import pytest
import torch

from emofeat.errors import ConfigError
from emofeat.train.alexatt import AlexAtt, AlexAttConfig

B, S, LLD = 2, 5, 10


def batch(seed: int = 0, size: int = 32) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "face": torch.randint(0, 256, (B, S, 3, size, size), generator=g, dtype=torch.uint8),
        "face_present": torch.ones(B, S),
        "energy": torch.rand(B, S, generator=g),
        "lld": torch.randn(B, S, LLD, generator=g),
        "step_mask": torch.ones(B, S, dtype=torch.bool),
    }


def small(**kwargs: object) -> AlexAttConfig:
    options: dict[str, object] = {
        "lld_dim": LLD,
        "hidden": 6,
        "face_size": 32,
        "channels": (4, 8, 8),
        "fc_channels": (16, 8),
        "attention": 5,
    }
    options.update(kwargs)
    return AlexAttConfig(**options)  # type: ignore[arg-type]


def test_forward_backward_shapes_and_ranges() -> None:
    torch.manual_seed(0)
    model = AlexAtt(small(), 2)
    out = model(batch())
    for key in ("arousal", "valence", "beta"):
        assert out[key].shape == (B, S), key
    assert out["attention"].shape == (B, S, 4)  # 32 px -> a 2 x 2 grid
    assert out["logits"].shape == (B, S, 2)
    assert torch.equal(out["logits"][..., 0], out["arousal"])
    assert torch.equal(out["logits"][..., 1], out["valence"])
    assert (out["logits"].abs() <= 1).all()
    assert ((out["beta"] > 0) & (out["beta"] < 1)).all()
    torch.testing.assert_close(out["attention"].sum(-1), torch.ones(B, S))
    (out["logits"].sum() + out["beta"].sum()).backward()
    assert model.video is not None
    assert model.lstm is not None
    assert model.gate is not None
    for name, p in [
        ("video", next(model.video.parameters())),
        ("lstm", next(model.lstm.parameters())),
        ("gate", model.gate.weight),
    ]:
        assert p.grad is not None, name
        assert torch.count_nonzero(p.grad) > 0, name


def test_default_grid_is_7_by_7() -> None:
    config = AlexAttConfig()
    assert (config.lld_dim, config.hidden, config.face_size, config.positions) == (176, 128, 112, 49)
    torch.manual_seed(0)
    model = AlexAtt(config, 2).eval()
    g = torch.Generator().manual_seed(0)
    one = {
        "face": torch.randint(0, 256, (1, 2, 3, 112, 112), generator=g, dtype=torch.uint8),
        "lld": torch.randn(1, 2, 176, generator=g),
        "step_mask": torch.ones(1, 2, dtype=torch.bool),
    }
    with torch.no_grad():
        assert model(one)["attention"].shape == (1, 2, 49)


@pytest.mark.parametrize("train", [False, True])
def test_a_masked_last_step_does_not_change_earlier_outputs(train: bool) -> None:
    torch.manual_seed(0)
    model = AlexAtt(small(dropout=0.0), 2).train(train)
    first = batch()
    first["step_mask"][:, -1] = False
    other = {k: v.clone() for k, v in first.items()}
    changed = batch(seed=1)
    for key in ("face", "lld", "energy"):
        other[key][:, -1] = changed[key][:, -1]
    with torch.no_grad():
        a, b = model(first), model(other)
    for key in ("logits", "beta", "attention"):
        torch.testing.assert_close(a[key][:, :-1], b[key][:, :-1], rtol=0, atol=0)
    # Control: the same change at an unmasked step does change the outputs of later steps.
    first["step_mask"][:, -1] = True
    other["step_mask"][:, -1] = True
    mid = {k: v.clone() for k, v in first.items()}
    mid["lld"][:, 1] = changed["lld"][:, 1]
    with torch.no_grad():
        assert not torch.allclose(model(first)["logits"][:, 2:], model(mid)["logits"][:, 2:])


def test_faceless_steps_still_produce_outputs() -> None:
    torch.manual_seed(0)
    model = AlexAtt(small(), 2).eval()
    b = batch()
    b["face"][:, 1:3] = 0
    b["face_present"][:, 1:3] = 0
    with torch.no_grad():
        out = model(b)
    assert torch.isfinite(out["logits"]).all()
    torch.testing.assert_close(out["attention"].sum(-1), torch.ones(B, S))


def test_nan_descriptors_are_read_as_zero() -> None:
    torch.manual_seed(0)
    model = AlexAtt(small(), 2).eval()
    b = batch()
    b["lld"][0, 2] = float("nan")
    with torch.no_grad():
        out = model(b)
        b["lld"][0, 2] = 0
        torch.testing.assert_close(out["logits"], model(b)["logits"])


@pytest.mark.parametrize("fusion", ["audio", "video"])
def test_ablations_run(fusion: str) -> None:
    torch.manual_seed(0)
    model = AlexAtt(small(fusion=fusion), 2)
    b = batch()
    if fusion == "video":
        del b["lld"]  # the video ablation needs no audio
    out = model(b)
    assert out["logits"].shape == (B, S, 2)
    torch.testing.assert_close(out["attention"].sum(-1), torch.ones(B, S))
    assert torch.equal(out["beta"], torch.full((B, S), 1.0 if fusion == "audio" else 0.0))
    assert (model.video is None) == (fusion == "audio")
    assert (model.lstm is None) == (fusion == "video")
    out["logits"].sum().backward()


def test_wrong_face_size_raises() -> None:
    model = AlexAtt(small(), 2)
    with pytest.raises(ValueError, match="faces"):
        model(batch(size=48))


@pytest.mark.parametrize(
    "options",
    [
        {"fusion": "concat"},
        {"hidden": 0},
        {"face_size": 8},
        {"dropout": -0.1},
        {"channels": (4, 8)},
    ],
)
def test_bad_config_raises(options: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        AlexAttConfig(**options)  # type: ignore[arg-type]


def test_n_classes_must_be_two() -> None:
    with pytest.raises(ConfigError):
        AlexAtt(small(), 3)
