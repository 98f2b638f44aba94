"""The loop's optimiser and schedule: per-group learning rates (GCSA's modality weights) and
the step decay (RALD's schedule in its defaults)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from emofeat.errors import ConfigError
from emofeat.train.gcsa import Gcsa, GcsaConfig
from emofeat.train.loop import TrainConfig, make_optimizer, make_scheduler, parameter_groups
from emofeat.train.specs import get_spec


def gcsa(**options: object) -> Gcsa:
    torch.manual_seed(0)
    return Gcsa(GcsaConfig(audio_channels=8, video_channels=16, dropout=0, **options), 8)  # type: ignore[arg-type]


def test_a_named_group_gets_its_own_lr_and_leaves_the_default_group() -> None:
    model = gcsa()
    assert model.fusion_log_weights is not None
    config = TrainConfig(lr=1e-4, optimizer="sgd", lr_groups={"modality_weights": 1e-3})
    optimizer = make_optimizer(model, config)
    default, weights = optimizer.param_groups
    assert (default["name"], default["lr"]) == ("default", 1e-4)
    assert (weights["name"], weights["lr"]) == ("modality_weights", 1e-3)
    assert weights["params"] == [model.fusion_log_weights]
    assert all(p is not model.fusion_log_weights for p in default["params"])
    assert len(default["params"]) + 1 == len(list(model.parameters()))


def test_one_sgd_step_moves_each_group_by_its_own_lr() -> None:
    model = gcsa()
    assert model.fusion_log_weights is not None
    optimizer = make_optimizer(
        model, TrainConfig(lr=1e-4, optimizer="sgd", momentum=0.9, lr_groups={"modality_weights": 1e-3})
    )
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    optimizer.step()
    for name, p in model.named_parameters():
        moved = before[name] - p.detach()
        expected = 1e-3 if name == "fusion_log_weights" else 1e-4
        torch.testing.assert_close(moved, torch.full_like(moved, expected), msg=name)


def test_fixed_weights_leave_the_group_empty_and_unknown_groups_fail() -> None:
    fixed = gcsa(learn_weights=False)
    assert fixed.fusion_log_weights is None
    groups = parameter_groups(fixed, TrainConfig(lr_groups={"modality_weights": 1e-3}))
    assert [g["name"] for g in groups] == ["default"]
    with pytest.raises(ConfigError, match="modality_weight"):
        parameter_groups(gcsa(), TrainConfig(lr_groups={"modality_weight": 1e-3}))
    with pytest.raises(ConfigError, match="does not declare"):
        parameter_groups(nn.Linear(2, 2), TrainConfig(lr_groups={"modality_weights": 1e-3}))
    with pytest.raises(ConfigError, match="lr_groups"):
        TrainConfig(lr_groups={"modality_weights": 0.0})


def test_gcsa_defaults_give_the_modality_weights_the_papers_lr() -> None:
    spec = get_spec("gcsa")
    assert (spec.train.lr, spec.train.optimizer, spec.train.momentum) == (1e-4, "sgd", 0.9)
    assert spec.train.lr_groups == {"modality_weights": 1e-3}
    lrs = {g["name"]: g["lr"] for g in make_optimizer(gcsa(), spec.train).param_groups}
    assert lrs == {"default": 1e-4, "modality_weights": 1e-3}


def test_the_rald_defaults_decay_the_lr_every_100_epochs_by_5e_3() -> None:
    spec = get_spec("rald")
    optimizer = make_optimizer(nn.Linear(2, 2), spec.train)
    scheduler = make_scheduler(optimizer, spec.train)
    assert scheduler is not None
    lrs = []
    for _ in range(spec.train.epochs):  # the loop steps the scheduler once an epoch
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert lrs[0] == lrs[99] == pytest.approx(0.01)
    assert lrs[100] == lrs[199] == pytest.approx(5e-5)
    assert lrs[200] == lrs[299] == pytest.approx(2.5e-7)
    assert make_scheduler(optimizer, TrainConfig()) is None
    assert make_scheduler(optimizer, spec.train.replace(lr_step_epochs=0)) is None  # TOML's "off"


def test_the_alexatt_defaults_are_the_papers_optimiser() -> None:
    train = get_spec("alexatt").train
    assert (train.optimizer, train.lr, train.epochs) == ("adam", 5e-4, 1000)


def test_lr_groups_round_trip_through_a_record() -> None:
    import dataclasses
    import json

    config = TrainConfig(lr_groups={"modality_weights": 1e-3})
    again = TrainConfig(**json.loads(json.dumps(dataclasses.asdict(config))))
    assert again == config
