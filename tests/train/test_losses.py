"""The losses against values worked by hand on tiny tensors: the arithmetic is in the comments."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from emofeat.errors import ConfigError
from emofeat.train.losses import (
    ccc_loss,
    coarse_fine_loss,
    contrastive_loss,
    fldw_alpha,
    fldw_loss,
    focal_loss,
    kl_label_distribution,
    modal_scaling_loss,
    neighbour_distribution,
    quadrant_penalty,
    rmse_loss,
)
from emofeat.train.metrics import ccc

LN3 = math.log(3.0)


def _quarter_three_quarters(rows: int = 1) -> torch.Tensor:
    """Logits ``[0, ln 3]`` per row: softmax ``[1/4, 3/4]``."""
    return torch.tensor([[0.0, LN3]] * rows, requires_grad=True)


def test_focal_loss_by_hand() -> None:
    logits = _quarter_three_quarters(3)
    target = torch.tensor([1, 0, -1])  # the third item is ignored
    weight = torch.tensor([2.0, 1.0, 5.0])
    # item 0: p = 3/4 -> -(1/4)^2 ln(3/4) = (1/16) ln(4/3), alpha 2
    # item 1: p = 1/4 -> -(3/4)^2 ln(1/4) = (9/16) ln 4, alpha 1
    # mean over the 2 kept items (not over the weights' sum)
    expected = (2 * math.log(4 / 3) / 16 + 9 * math.log(4) / 16) / 2
    loss = focal_loss(logits, target, gamma=2.0, weight=weight)
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    loss.backward()
    assert logits.grad is not None
    assert torch.isfinite(logits.grad).all()
    assert torch.equal(logits.grad[2], torch.zeros(2))  # the ignored item gets no gradient
    per_item = focal_loss(logits, target, weight=weight, reduction="none")
    assert per_item[2].item() == 0.0
    assert per_item.sum().item() == pytest.approx(2 * expected, rel=1e-6)


def test_focal_loss_with_gamma_zero_is_cross_entropy() -> None:
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(8, 5, generator=g)
    target = torch.tensor([0, 4, 2, -1, 1, 3, -1, 2])
    expected = F.cross_entropy(logits, target, ignore_index=-1)
    assert torch.allclose(focal_loss(logits, target, gamma=0.0), expected, atol=1e-6)


def test_focal_loss_of_an_all_ignored_batch_is_zero_and_attached() -> None:
    logits = torch.randn(2, 3, requires_grad=True)
    loss = focal_loss(logits, torch.tensor([-1, -1]))
    assert loss.item() == 0.0
    loss.backward()
    assert logits.grad is not None
    assert torch.equal(logits.grad, torch.zeros(2, 3))


def test_focal_loss_gradient_stays_finite_when_p_rounds_to_one() -> None:
    logits = torch.tensor([[200.0, 0.0]], requires_grad=True)  # p(class 0) == 1 in float32
    focal_loss(logits, torch.tensor([0]), gamma=0.5).backward()
    assert logits.grad is not None
    assert torch.isfinite(logits.grad).all()


def _paper_confusion() -> np.ndarray:
    """Six classes; row 3 holds the paper's example: 100 items, 87 right, 8 -> class 5, 5 -> class 2."""
    c = np.zeros((6, 6), dtype=np.int64)
    c[3, 3], c[3, 5], c[3, 2] = 87, 8, 5
    c[0, 0] = 40  # a row without errors
    return c


def test_fldw_alpha_reproduces_the_papers_worked_example() -> None:
    pred = torch.tensor([5, 2, 3, 1])
    target = torch.tensor([3, 3, 3, 0])
    alpha = fldw_alpha(pred, target, _paper_confusion())
    # errors of row 3: 100 - 87 = 13
    # class 3 predicted 5: 1 + 8/13 = 1.615... ~ 1.62; predicted 2: 1 + 5/13 = 1.385 ~ 1.38
    # right prediction: 1; row 0 has no errors (denominator 0): 1
    np.testing.assert_allclose(alpha.numpy(), [1 + 8 / 13, 1 + 5 / 13, 1.0, 1.0], rtol=1e-6)
    assert round(alpha[0].item(), 2) == 1.62
    assert round(alpha[1].item(), 2) == 1.38
    assert torch.equal(fldw_alpha(pred, target, torch.as_tensor(_paper_confusion())), alpha)


def test_fldw_alpha_in_the_first_epoch_is_one() -> None:
    alpha = fldw_alpha(torch.tensor([5, 2]), torch.tensor([3, 3]), None)
    assert torch.equal(alpha, torch.ones(2))


def test_fldw_loss_is_focal_loss_with_the_detached_weights() -> None:
    logits = torch.tensor(
        [[0.0, 0.0, 0.0, 0.0, 0.0, 2.0], [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]], requires_grad=True
    )
    target = torch.tensor([3, 3])  # argmax 5 and 2: alphas 1 + 8/13 and 1 + 5/13
    loss = fldw_loss(logits, target, _paper_confusion())
    alpha = torch.tensor([1 + 8 / 13, 1 + 5 / 13])
    reference = logits.detach().clone().requires_grad_(True)
    expected = focal_loss(reference, target, weight=alpha)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    loss.backward()
    expected.backward()
    assert logits.grad is not None
    assert reference.grad is not None
    assert torch.allclose(logits.grad, reference.grad)  # no gradient through alpha


def test_fldw_alpha_rejects_a_bad_confusion() -> None:
    with pytest.raises(ConfigError):
        fldw_alpha(torch.tensor([1]), torch.tensor([0]), np.zeros((2, 3)))
    with pytest.raises(ConfigError):
        fldw_alpha(torch.tensor([4]), torch.tensor([0]), np.ones((2, 2)))  # a class outside the matrix


def test_quadrant_penalty_layout() -> None:
    mu = quadrant_penalty([1, 2, 3, 4, 5, 6])
    expected = torch.tensor([[0.0, 1, 2, 3], [1, 0, 4, 5], [2, 4, 0, 6], [3, 5, 6, 0]])
    assert torch.equal(mu, expected)
    with pytest.raises(ConfigError):
        quadrant_penalty([1, 2, 3])
    with pytest.raises(ConfigError):
        quadrant_penalty([1, 2, 3, 4, 5, -6])


def test_coarse_fine_loss_penalises_an_error_into_another_quadrant() -> None:
    coarse_of = torch.tensor([0, 0, 1, -1])  # classes 0 and 1 in quadrant 0, class 2 in quadrant 1
    penalty = quadrant_penalty([0.5, 0, 0, 0, 0, 0])  # mu(0, 1) = 0.5
    # every row: one logit ln 3, the rest 0 -> p(class 0) = 1 / (3 + 1 + 1 + 1) = 1/6
    same = torch.tensor([[0.0, LN3, 0.0, 0.0]])  # predicts 1: same quadrant, mu 0
    other = torch.tensor([[0.0, 0.0, LN3, 0.0]])  # predicts 2: quadrant 1, mu 0.5
    none = torch.tensor([[0.0, 0.0, 0.0, LN3]])  # predicts 3: no quadrant, mu 0
    target = torch.tensor([0])
    assert coarse_fine_loss(same, target, coarse_of, penalty).item() == pytest.approx(math.log(6), rel=1e-6)
    assert coarse_fine_loss(other, target, coarse_of, penalty).item() == pytest.approx(
        1.5 * math.log(6), rel=1e-6
    )
    assert coarse_fine_loss(none, target, coarse_of, penalty).item() == pytest.approx(math.log(6), rel=1e-6)
    batch = torch.cat([same, other, none, other]).requires_grad_(True)
    loss = coarse_fine_loss(batch, torch.tensor([0, 0, 0, -1]), coarse_of, penalty)
    # the last item is ignored: (ln 6 + 1.5 ln 6 + ln 6) / 3
    assert loss.item() == pytest.approx(3.5 * math.log(6) / 3, rel=1e-6)
    loss.backward()
    assert batch.grad is not None
    assert torch.isfinite(batch.grad).all()
    with pytest.raises(ConfigError):
        coarse_fine_loss(same, target, coarse_of, torch.tensor([[0.0, 1.0], [2.0, 0.0]]))  # not symmetric


def test_contrastive_loss_inside_and_outside_the_margin() -> None:
    a = torch.tensor([[0.0, 0.0]])
    b = torch.tensor([[3.0, 4.0]])  # d = 5
    yes, no = torch.tensor([True]), torch.tensor([False])
    assert contrastive_loss(a, b, yes).item() == pytest.approx(25 / 2)  # d^2 / 2
    assert contrastive_loss(a, b, no, margin=1.0).item() == 0.0  # outside the margin
    assert contrastive_loss(a, b, no, margin=6.0).item() == pytest.approx(0.5, rel=1e-6)  # (6 - 5)^2 / 2
    pair = torch.cat([a, a]), torch.cat([b, b])
    both = contrastive_loss(*pair, torch.tensor([True, False]), margin=6.0)
    assert both.item() == pytest.approx((25 + 1) / 2 / 2, rel=1e-6)  # the mean over the two pairs


def test_contrastive_loss_has_finite_gradients_at_zero_distance() -> None:
    a = torch.zeros(2, 3, requires_grad=True)
    b = torch.zeros(2, 3)
    loss = contrastive_loss(a, b, torch.tensor([True, False]), margin=1.0)
    # same pair: 0; different pair: (1 - ~0)^2 / 2; mean -> ~0.25
    assert loss.item() == pytest.approx(0.25, rel=1e-5)
    loss.backward()
    assert a.grad is not None
    assert torch.isfinite(a.grad).all()


def test_kl_label_distribution_by_hand() -> None:
    logits = _quarter_three_quarters()  # P = [1/4, 3/4]
    p = torch.softmax(logits.detach(), dim=1)
    assert kl_label_distribution(logits, p).item() == pytest.approx(0.0, abs=1e-7)
    # D = [1/2, 1/2]: 1/2 ln((1/2)/(1/4)) + 1/2 ln((1/2)/(3/4)) = 1/2 ln 2 + 1/2 ln(2/3) = 1/2 ln(4/3)
    half = torch.tensor([[0.5, 0.5]])
    assert kl_label_distribution(logits, half).item() == pytest.approx(0.5 * math.log(4 / 3), rel=1e-6)
    # D = [1, 0]: 1 ln(1 / (1/4)) + 0 log 0 = ln 4
    assert kl_label_distribution(logits, torch.tensor([[1.0, 0.0]])).item() == pytest.approx(
        math.log(4), rel=1e-6
    )


def test_kl_label_distribution_treats_the_target_as_constant() -> None:
    logits = _quarter_three_quarters()
    d = torch.tensor([[0.5, 0.5]], requires_grad=True)
    kl_label_distribution(logits, d).backward()
    assert d.grad is None
    assert logits.grad is not None
    assert torch.allclose(logits.grad, torch.tensor([[0.25 - 0.5, 0.75 - 0.5]]))  # d KL / d logits = P - D
    with pytest.raises(ConfigError):
        kl_label_distribution(logits, torch.tensor([[0.5, 0.6]]))  # not a distribution


def test_neighbour_distribution_on_a_four_image_batch() -> None:
    probs = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.0]])
    relation = torch.tensor(
        [
            [9.0, 0.6, 0.2, 0.3],  # itself (9) excluded: 1 and 3 -> (0.6 P1 + 0.3 P3) / 0.9 = [1/6, 5/6, 0]
            [0.1, 9.0, 0.4, -0.5],  # 2 and 0 -> (0.4 P2 + 0.1 P0) / 0.5 = [0.2, 0, 0.8]
            [0.5, 0.25, 9.0, 0.0],  # 0 and 1 -> (0.5 P0 + 0.25 P1) / 0.75 = [2/3, 1/3, 0]
            [-0.2, -0.1, -0.3, 9.0],  # 1 and 0, both clamped to 0 -> plain mean [1/2, 1/2, 0]
        ]
    )
    d = neighbour_distribution(probs, relation, k=2)
    expected = torch.tensor([[1 / 6, 5 / 6, 0.0], [0.2, 0.0, 0.8], [2 / 3, 1 / 3, 0.0], [0.5, 0.5, 0.0]])
    assert torch.allclose(d, expected, atol=1e-6)
    # k larger than the 3 others: all of them; row 0: (0.6 P1 + 0.2 P2 + 0.3 P3) / 1.1
    wide = neighbour_distribution(probs, relation, k=5)
    assert torch.allclose(wide[0], torch.tensor([0.15, 0.75, 0.2]) / 1.1, atol=1e-6)
    with pytest.raises(ConfigError):
        neighbour_distribution(probs[:1], relation[:1, :1])  # no other image


@pytest.mark.parametrize(
    ("m", "n", "optimum"), [(1.0, 1.0, 0.5), (1.0, 0.0, 1.0), (0.0, 1.0, 0.0), (0.0, 0.0, 0.5)]
)
def test_modal_scaling_loss_cases(m: float, n: float, optimum: float) -> None:
    beta = torch.tensor([[0.3]], requires_grad=True)
    mt, nt = torch.tensor([[m]]), torch.tensor([[n]])
    loss = modal_scaling_loss(beta, mt, nt)
    # L1 = ((0.3 - m)^2 + (0.3 - (1 - n))^2) / 2; dL1/dbeta = 2 (0.3) - (1 + m - n)
    assert loss.item() == pytest.approx(((0.3 - m) ** 2 + (0.3 - (1 - n)) ** 2) / 2, rel=1e-6)
    loss.backward()
    assert beta.grad is not None
    assert beta.grad.item() == pytest.approx(2 * 0.3 - (1 + m - n), rel=1e-6)
    at = torch.tensor([[optimum]], requires_grad=True)
    value = modal_scaling_loss(at, mt, nt)
    value.backward()
    assert at.grad is not None
    assert at.grad.item() == pytest.approx(0.0, abs=1e-7)
    for step in (-0.1, 0.1):
        assert modal_scaling_loss(torch.tensor([[optimum + step]]), mt, nt).item() > value.item()


def test_modal_scaling_loss_averages_over_unmasked_steps() -> None:
    beta = torch.tensor([[0.3, 0.7, 0.2], [0.9, 0.1, 0.4]], requires_grad=True)
    m = torch.tensor([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    n = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    mask = torch.tensor([[True, True, True], [True, False, False]])  # 4 real steps
    modal_scaling_loss(beta, m, n, mask).backward()
    assert beta.grad is not None
    expected = torch.where(mask, (2 * beta.detach() - (1 + m - n)) / 4, torch.zeros(2, 3))
    assert torch.allclose(beta.grad, expected)


def test_ccc_loss_by_hand_and_against_the_metric() -> None:
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = torch.tensor([1.0, 3.0, 2.0])
    # population CCC of the metrics' hand example: (2/3) / (4/3) = 1/2 -> loss 1/2
    loss = ccc_loss(x, y)
    assert loss.item() == pytest.approx(0.5, rel=1e-6)
    loss.backward()
    assert x.grad is not None
    assert torch.isfinite(x.grad).all()
    assert ccc_loss(y, y).item() == pytest.approx(0.0, abs=1e-6)
    g = torch.Generator().manual_seed(1)
    a, b = (
        torch.randn(2, 10, generator=g, dtype=torch.float64),
        torch.randn(2, 10, generator=g, dtype=torch.float64),
    )
    assert ccc_loss(a, b).item() == pytest.approx(1 - ccc(a, b, ddof_var=0))


def test_ccc_loss_masks_nan_gold_and_padding() -> None:
    x = torch.tensor([[1.0, 2.0, 50.0, 3.0, 7.0]], requires_grad=True)
    y = torch.tensor([[1.0, 3.0, float("nan"), 2.0, 0.0]])
    mask = torch.tensor([[True, True, True, True, False]])  # the last step is padding
    loss = ccc_loss(x, y, mask)
    assert loss.item() == pytest.approx(0.5, rel=1e-6)  # only the hand example's three pairs remain
    loss.backward()
    assert x.grad is not None
    assert torch.isfinite(x.grad).all()
    assert x.grad[0, 2].item() == 0.0
    assert x.grad[0, 4].item() == 0.0


def test_rmse_loss_by_hand() -> None:
    x = torch.tensor([0.0, 0.0, 9.0, 1.0], requires_grad=True)
    y = torch.tensor([3.0, 4.0, float("nan"), 1.0])
    mask = torch.tensor([True, True, True, False])
    # kept: (0 - 3)^2 = 9 and (0 - 4)^2 = 16 -> sqrt(25 / 2)
    loss = rmse_loss(x, y, mask)
    assert loss.item() == pytest.approx(math.sqrt(12.5), rel=1e-6)
    loss.backward()
    assert x.grad is not None
    assert torch.isfinite(x.grad).all()
    perfect = torch.tensor([1.0, 2.0], requires_grad=True)
    rmse_loss(perfect, torch.tensor([1.0, 2.0])).backward()
    assert perfect.grad is not None
    assert torch.isfinite(perfect.grad).all()


LossCall = Callable[[], torch.Tensor]
BAD_REDUCTION: Any = "max"


@pytest.mark.parametrize(
    "call",
    [
        lambda: focal_loss(torch.zeros(2, 3), torch.tensor([0, 3])),  # target out of range
        lambda: focal_loss(torch.zeros(2, 3), torch.tensor([0])),  # lengths differ
        lambda: focal_loss(torch.zeros(2, 3), torch.tensor([0, 1]), gamma=-1.0),
        lambda: focal_loss(torch.zeros(2, 3), torch.tensor([0.0, 1.0])),  # float targets
        lambda: focal_loss(torch.zeros(2, 3), torch.tensor([0, 1]), weight=torch.ones(3)),
        lambda: focal_loss(torch.zeros(2, 3), torch.tensor([0, 1]), reduction=BAD_REDUCTION),
        lambda: coarse_fine_loss(
            torch.zeros(1, 3), torch.tensor([0]), torch.tensor([0, 1]), torch.zeros(2, 2)
        ),
        lambda: contrastive_loss(torch.zeros(2, 3), torch.zeros(2, 4), torch.tensor([True, False])),
        lambda: contrastive_loss(torch.zeros(1, 3), torch.zeros(1, 3), torch.tensor([True]), margin=0.0),
        lambda: neighbour_distribution(torch.zeros(3, 2), torch.zeros(3, 3), k=0),
        lambda: modal_scaling_loss(torch.zeros(1, 2), torch.zeros(1, 2), torch.zeros(1, 3)),
        lambda: modal_scaling_loss(torch.zeros(1, 2), torch.zeros(1, 2), torch.zeros(1, 2), torch.ones(1, 2)),
        lambda: ccc_loss(torch.zeros(3), torch.zeros(4)),
        lambda: rmse_loss(torch.zeros(3), torch.zeros(3), torch.ones(2, dtype=torch.bool)),
    ],
)
def test_bad_arguments_raise_config_error(call: LossCall) -> None:
    with pytest.raises(ConfigError):
        call()
