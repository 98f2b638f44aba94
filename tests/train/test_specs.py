"""The losses each spec hands the loop, on tiny tensors."""

from __future__ import annotations

import pytest
import torch

from emofeat.errors import ConfigError
from emofeat.train.loop import Context
from emofeat.train.losses import kl_label_distribution, neighbour_distribution
from emofeat.train.specs import LabelInfo, get_spec


def test_rald_adds_the_neighbour_kl_over_n_and_c_and_can_leave_it_out() -> None:
    spec = get_spec("rald")
    labels = LabelInfo(names=("a", "b", "c", "d"))
    torch.manual_seed(0)
    logits = torch.randn(6, 4)
    relation = torch.softmax(torch.randn(6, 6), dim=-1)
    batch = {"label": torch.tensor([0, 1, 2, 3, 0, 1])}
    outputs = {"logits": logits, "relation": relation}
    ce = torch.nn.functional.cross_entropy(logits, batch["label"])
    neighbours = neighbour_distribution(torch.softmax(logits, -1), relation, k=5)
    with_kl = spec.loss({"neighbours": 5, "nnldl": True}, labels)(outputs, batch, Context())
    assert with_kl == pytest.approx(float(ce + kl_label_distribution(logits, neighbours) / 4), rel=1e-6)
    without = spec.loss({"neighbours": 5, "nnldl": False}, labels)(outputs, batch, Context())
    assert without == pytest.approx(float(ce), rel=1e-6)
    with pytest.raises(ConfigError, match="nnldl"):
        spec.loss({"neighbours": 5, "nnldl": "no"}, labels)
