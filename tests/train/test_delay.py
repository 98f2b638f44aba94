"""Annotation-delay compensation in the regression scoring: the delay is chosen on the
validation partition, applied to the held-out predictions, and recorded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from emofeat.train import metrics as m
from emofeat.train.run import evaluate_model
from emofeat.train.specs import LabelInfo, get_spec

STEPS = 50  # per item
STEP_S = 0.04


class _View:
    def options(self) -> dict[str, Any]:
        return {"steps": STEPS, "step_s": STEP_S}


class _Series(torch.utils.data.Dataset[dict[str, Any]]):
    """Step-view-like items of clips whose gold lags the signal by ``delays`` steps; the
    signal itself is in the item (``signal_*``) for the stand-in model to predict."""

    view = _View()

    def __init__(self, clips: int, items: int, delays: Mapping[str, int], seed: int):
        rng = np.random.default_rng(seed)
        self.items: list[dict[str, Any]] = []
        for clip in range(clips):
            length = STEPS * items
            for_item: dict[str, np.ndarray] = {}
            for name, delay in delays.items():
                kernel = np.ones(9) / 9
                signal = np.convolve(rng.standard_normal(length + 40), kernel, "same")[20 : 20 + length]
                gold = np.concatenate(
                    [np.full(delay, np.nan), signal[: length - delay]]
                )  # gold[t] = s[t - d]
                for_item["signal_" + name], for_item[name] = signal, gold
            for i in range(items):
                part = slice(i * STEPS, (i + 1) * STEPS)
                item: dict[str, Any] = {
                    k: torch.tensor(v[part], dtype=torch.float32) for k, v in for_item.items()
                }
                item["step_mask"] = torch.ones(STEPS, dtype=torch.bool)
                item["clip_id"] = f"clip{seed}-{clip}"
                self.items.append(item)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.items[index]


class _Oracle(nn.Module):
    """Predicts the signal at each step: right up to the annotation delay."""

    def __init__(self) -> None:
        super().__init__()
        self.unused = nn.Parameter(torch.zeros(1))

    def forward(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {name: batch["signal_" + name] for name in ("arousal", "valence")}


def _clips(dataset: _Series, key: str) -> list[np.ndarray]:
    """Each clip's items' ``key`` concatenated, clips in order."""
    clips = dict.fromkeys(item["clip_id"] for item in dataset.items)
    return [
        np.concatenate([item[key].numpy() for item in dataset.items if item["clip_id"] == clip])
        for clip in clips
    ]


def _score(held_out: _Series, validation: _Series | None, max_delay_s: float) -> dict[str, Any]:
    figures, _ = evaluate_model(
        get_spec("alexatt"),
        _Oracle(),
        held_out,  # type: ignore[arg-type]
        LabelInfo(),
        batch_size=4,
        scoring={"max_delay_s": max_delay_s},
        delay_on=None if validation is None else (validation, "validation"),  # type: ignore[arg-type]
    )
    return figures


def test_the_delay_is_chosen_on_validation_and_applied_to_the_held_out_scores() -> None:
    validation = _Series(clips=3, items=4, delays={"arousal": 12, "valence": 5}, seed=1)
    # The held-out series lag by other delays: the chosen delay must still be validation's.
    held_out = _Series(clips=2, items=4, delays={"arousal": 10, "valence": 5}, seed=2)
    figures = _score(held_out, validation, max_delay_s=1.0)
    assert (figures["delay_arousal"], figures["delay_valence"]) == (12, 5)
    assert figures["delay_arousal_s"] == pytest.approx(12 * STEP_S)
    assert figures["delay_chosen_on"] == "validation"
    # The held-out figures are those of the predictions delayed by validation's choice.
    for name, delay in (("arousal", 12), ("valence", 5)):
        preds, golds = _clips(held_out, "signal_" + name), _clips(held_out, name)
        shifted = [m.shift(p, delay) for p in preds]
        assert figures[f"ccc_{name}"] == pytest.approx(m.ccc_sequences(shifted, golds))
        assert figures[f"ccc_{name}_undelayed"] == pytest.approx(m.ccc_sequences(preds, golds))
        assert figures[f"r2_{name}"] == pytest.approx(m.r2(np.concatenate(shifted), np.concatenate(golds)))
    assert figures["ccc_valence"] > 0.99  # the right delay makes the oracle exact
    assert figures["ccc_valence"] > figures["ccc_valence_undelayed"] + 0.1


def test_without_a_validation_partition_the_held_out_data_chooses_and_zero_turns_it_off() -> None:
    held_out = _Series(clips=2, items=3, delays={"arousal": 7, "valence": 3}, seed=3)
    figures = _score(held_out, None, max_delay_s=1.0)
    assert (figures["delay_arousal"], figures["delay_valence"]) == (7, 3)
    assert figures["delay_chosen_on"] == "held-out"
    off = _score(held_out, None, max_delay_s=0.0)
    assert not any(k.startswith("delay") for k in off)
    assert off["ccc_arousal"] == pytest.approx(figures["ccc_arousal_undelayed"])
    # The search stops at max_delay_s: 0.2 s is 5 steps, short of the 7 the data need.
    assert _score(held_out, None, max_delay_s=0.2)["delay_arousal"] == 5


def test_the_spec_defaults_to_eight_seconds() -> None:
    assert get_spec("alexatt").scoring == {"max_delay_s": 8.0}
