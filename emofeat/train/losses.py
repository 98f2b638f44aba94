"""The papers' training losses, in torch: each differentiable, each a mean by default.

Classification (``logits`` ``(B, C)``, ``target`` ``(B,)`` long; targets equal to ``ignore_index``
are left out, and a batch with nothing left scores 0, still attached to the graph):

* :func:`focal_loss` -- ``-alpha_i (1 - p_i)^gamma log p_i`` with ``p_i`` the softmax probability
  of item ``i``'s true class, averaged over the items kept (Lin, Goyal, Girshick, He and Dollár,
  "Focal Loss for Dense Object Detection", ICCV 2017). ``gamma=0`` without weights is the cross
  entropy. The mean divides by the number of items, not by the sum of their weights.
* :func:`fldw_alpha`, :func:`fldw_loss` -- focal loss with dynamic weights (FLDW): a
  misclassified item's weight grows with how often the previous epoch confused its true class
  with the class it is now predicted as: ``alpha = 1 + C[true, pred] / (errors of row true)``
  with ``C`` the previous epoch's confusion matrix (rows = true class); 1 for a right
  prediction, for a row without errors, and in the first epoch (no matrix yet).
* :func:`coarse_fine_loss`, :func:`quadrant_penalty` -- GCSA's coarse-fine loss: the cross
  entropy weighted by ``1 + mu[coarse(true), coarse(pred)]``, an extra penalty ``mu`` when the
  prediction falls in another coarse group (a valence/arousal quadrant) than the truth.

Metric learning and label distributions:

* :func:`contrastive_loss` -- Hadsell, Chopra and LeCun, "Dimensionality Reduction by Learning
  an Invariant Mapping", CVPR 2006: ``(same d^2 + (1 - same) max(0, margin - d)^2) / 2``.
* :func:`neighbour_distribution`, :func:`kl_label_distribution` -- RALD's nearest-neighbour
  label distribution term: each image's target distribution ``D`` is the relation-weighted
  average of its ``k`` most related images' predicted distributions, and the loss is
  ``KL(D || P)`` with ``D`` held constant.

Sequences (``mask`` True marks a real step, as the ``<key>_mask`` of :func:`emofeat.data.collate`):

* :func:`modal_scaling_loss` -- the AlexNet-attention paper's auxiliary loss on its modal
  scaling factor ``beta``: ``((beta - m)^2 + (beta - (1 - n))^2) / 2``.
* :func:`ccc_loss`, :func:`rmse_loss` -- ``1 - CCC`` (population form, every moment over ``N``)
  and the root mean squared error for continuous emotion, gold NaN treated as masked.

Arguments of the wrong shape or out of range raise :class:`~emofeat.errors.ConfigError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from emofeat.errors import ConfigError

Reduction = Literal["mean", "sum", "none"]


def _classification(logits: torch.Tensor, target: torch.Tensor, ignore_index: int) -> torch.Tensor:
    """Check ``logits`` (B, C) against ``target`` (B,); the mask of the items kept."""
    if logits.ndim != 2 or not logits.is_floating_point():
        raise ConfigError(f"logits must be a (B, C) float tensor, not {tuple(logits.shape)} {logits.dtype}")
    if target.shape != logits.shape[:1] or target.dtype.is_floating_point or target.dtype == torch.bool:
        raise ConfigError(
            f"target must be ({logits.shape[0]},) integer class indices, "
            f"not {tuple(target.shape)} {target.dtype}"
        )
    keep = target != ignore_index
    kept = target[keep]
    if kept.numel() and (kept.min() < 0 or kept.max() >= logits.shape[1]):
        raise ConfigError(f"target class indices must be in [0, {logits.shape[1]}) or {ignore_index}")
    return keep


def _reduce(per_item: torch.Tensor, keep: torch.Tensor, reduction: Reduction) -> torch.Tensor:
    """Mean over the kept items (0 when none), their sum, or every item (0 where not kept)."""
    per_item = torch.where(keep, per_item, torch.zeros_like(per_item))
    if reduction == "none":
        return per_item
    if reduction == "sum":
        return per_item.sum()
    if reduction == "mean":
        return per_item.sum() / keep.sum().clamp_min(1)
    raise ConfigError(f"reduction must be 'mean', 'sum' or 'none', not {reduction!r}")


def _true_log_prob(logits: torch.Tensor, target: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """``log p(true class)`` per item (B,); 0 where the target is ignored."""
    safe = torch.where(keep, target, torch.zeros_like(target)).long()
    return F.log_softmax(logits, dim=1).gather(1, safe[:, None])[:, 0]


def focal_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    gamma: float = 2.0,
    weight: torch.Tensor | None = None,
    ignore_index: int = -1,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """The focal loss ``-alpha_i (1 - p_i)^gamma log p_i`` (Lin et al. 2017).

    Parameters
    ----------
    logits : torch.Tensor, (B, C)
        Unnormalised class scores.
    target : torch.Tensor, (B,) long
        True class indices; ``ignore_index`` leaves an item out.
    gamma : float
        The focusing parameter, ``>= 0``; 0 (without ``weight``) is the cross entropy.
    weight : torch.Tensor, (B,), optional
        Each item's ``alpha`` (per sample, not per class); default 1. It is not differentiated.
    ignore_index : int
        The target value of items to leave out.
    reduction : {"mean", "sum", "none"}
        ``"mean"``: the sum over kept items divided by their count (not by the sum of weights,
        unlike ``F.cross_entropy(weight=...)``); 0 when no item is kept. ``"none"``: (B,) with 0 at
        ignored items.

    Raises
    ------
    ConfigError
        On shapes or dtypes that do not fit, a target out of range, a negative ``gamma`` or an
        unknown ``reduction``.
    """
    keep = _classification(logits, target, ignore_index)
    if gamma < 0:
        raise ConfigError(f"gamma must be >= 0, not {gamma}")
    log_p = _true_log_prob(logits, target, keep)
    loss = -log_p
    if gamma != 0:
        # Clamped so that (1 - p)^gamma keeps a finite gradient when p rounds to 1.
        one_minus_p = (1 - log_p.exp()).clamp_min(torch.finfo(log_p.dtype).tiny)
        loss = one_minus_p**gamma * loss
    if weight is not None:
        if weight.shape != target.shape:
            raise ConfigError(
                f"weight must be one alpha per item ({target.shape[0]},), not {tuple(weight.shape)}"
            )
        loss = weight.detach().to(loss.dtype) * loss
    return _reduce(loss, keep, reduction)


def _confusion(confusion: Any, device: torch.device) -> torch.Tensor:
    """``confusion`` as a float64 (C, C) tensor of counts, checked."""
    c = torch.as_tensor(np.asarray(confusion.detach().cpu() if hasattr(confusion, "detach") else confusion))
    if c.ndim != 2 or c.shape[0] != c.shape[1] or c.shape[0] == 0:
        raise ConfigError(f"confusion must be a (C, C) matrix, not of shape {tuple(c.shape)}")
    c = c.to(device=device, dtype=torch.float64)
    if not bool(torch.isfinite(c).all()) or bool((c < 0).any()):
        raise ConfigError("confusion must hold finite, non-negative counts")
    return c


def fldw_alpha(
    pred: torch.Tensor,
    target: torch.Tensor,
    confusion: torch.Tensor | np.ndarray | None,
    ignore_index: int = -1,
) -> torch.Tensor:
    """FLDW's per-item weight from the previous epoch's confusion matrix.

    ``alpha_i = 1`` when ``pred_i == target_i``; otherwise, with ``t = target_i``, ``q = pred_i``,
    ``alpha_i = 1 + C[t, q] / (sum_k C[t, k] - C[t, t])``: the share of class ``t``'s errors last
    epoch that went to the class ``q`` it is now mistaken for. A row with no errors (denominator
    0) gives 1, and so does ``confusion=None`` (the first epoch). Example: a row of 100 items of
    class 3, 87 right, 8 predicted 5 and 5 predicted 2 gives ``1 + 8/13`` to an item of class 3
    predicted 5 and ``1 + 5/13`` to one predicted 2.

    Parameters
    ----------
    pred, target : torch.Tensor, (B,) integer
        Predicted (this step) and true class indices.
    confusion : torch.Tensor or numpy.ndarray, (C, C), optional
        Last epoch's counts, rows = true class, columns = predicted (as
        :func:`emofeat.train.metrics.confusion_matrix`).
    ignore_index : int
        Items with this target get 1.

    Returns
    -------
    torch.Tensor
        (B,) float32 weights on ``target``'s device, without gradient.

    Raises
    ------
    ConfigError
        On shapes that differ, a confusion matrix that is not square or has negative counts, or
        indices outside it.
    """
    if pred.shape != target.shape or pred.ndim != 1:
        raise ConfigError(f"pred and target must be (B,), not {tuple(pred.shape)} and {tuple(target.shape)}")
    alpha = torch.ones(target.shape, dtype=torch.float32, device=target.device)
    if confusion is None:
        return alpha
    c = _confusion(confusion, target.device)
    n_classes = c.shape[0]
    pred, target = pred.detach().long(), target.detach().long()
    wrong = (pred != target) & (target != ignore_index)
    t, q = target[wrong], pred[wrong]
    if t.numel() and (min(int(t.min()), int(q.min())) < 0 or max(int(t.max()), int(q.max())) >= n_classes):
        raise ConfigError(
            f"class indices must be in [0, {n_classes}) for a ({n_classes}, {n_classes}) confusion"
        )
    errors = c.sum(dim=1) - c.diagonal()
    denominator = errors[t]
    share = torch.where(
        denominator > 0, c[t, q] / denominator.clamp_min(1e-300), torch.zeros_like(denominator)
    )
    alpha[wrong] = (1 + share).to(torch.float32)
    return alpha


def fldw_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    confusion: torch.Tensor | np.ndarray | None,
    gamma: float = 2.0,
    ignore_index: int = -1,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """Focal loss with dynamic weights: :func:`focal_loss` weighted by :func:`fldw_alpha`.

    The prediction is ``argmax(logits)``; the weights are constants (no gradient through them).

    Raises
    ------
    ConfigError
        As :func:`focal_loss` and :func:`fldw_alpha`.
    """
    _classification(logits, target, ignore_index)
    alpha = fldw_alpha(logits.detach().argmax(dim=1), target, confusion, ignore_index)
    return focal_loss(
        logits, target, gamma=gamma, weight=alpha, ignore_index=ignore_index, reduction=reduction
    )


def quadrant_penalty(values: Sequence[float]) -> torch.Tensor:
    """The symmetric (4, 4) penalty matrix of :func:`coarse_fine_loss` from its 6 coefficients.

    ``values`` are ``mu`` for the quadrant pairs (0,1), (0,2), (0,3), (1,2), (1,3), (2,3), in that
    order; the diagonal is 0 (no penalty within a quadrant).

    Raises
    ------
    ConfigError
        Unless there are exactly 6 finite, non-negative values.
    """
    v = [float(x) for x in values]
    if len(v) != 6 or not all(np.isfinite(x) and x >= 0 for x in v):
        raise ConfigError(f"quadrant_penalty needs 6 finite, non-negative coefficients, not {list(values)}")
    mu = torch.zeros(4, 4, dtype=torch.float32)
    for (i, j), x in zip(((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)), v, strict=True):
        mu[i, j] = mu[j, i] = x
    return mu


def coarse_fine_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    coarse_of: torch.Tensor,
    penalty: torch.Tensor,
    ignore_index: int = -1,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """GCSA's coarse-fine loss ``-1/N sum_i (1 + mu[coarse(true_i), coarse(pred_i)]) log p_i(true_i)``.

    Parameters
    ----------
    logits : torch.Tensor, (B, C)
        Fine-class scores; the prediction is their argmax (the factor is not differentiated).
    target : torch.Tensor, (B,) long
        True fine classes; ``ignore_index`` leaves an item out.
    coarse_of : torch.Tensor, (C,) long
        Each fine class's coarse class in ``[0, K)`` (e.g. its valence/arousal quadrant 0..3), or -1
        for none: ``mu`` is 0 when either the true or the predicted class has none.
    penalty : torch.Tensor, (K, K)
        ``mu``: symmetric, non-negative, zero diagonal (:func:`quadrant_penalty` for K = 4).
    ignore_index : int
        The target value of items to leave out.
    reduction : {"mean", "sum", "none"}
        As in :func:`focal_loss`.

    Raises
    ------
    ConfigError
        On shapes that do not fit, coarse classes outside ``[-1, K)``, or a penalty that is not
        symmetric, non-negative, with a zero diagonal.
    """
    keep = _classification(logits, target, ignore_index)
    n_classes = logits.shape[1]
    if coarse_of.shape != (n_classes,) or coarse_of.dtype.is_floating_point:
        raise ConfigError(
            f"coarse_of must be ({n_classes},) integer, not {tuple(coarse_of.shape)} {coarse_of.dtype}"
        )
    if penalty.ndim != 2 or penalty.shape[0] != penalty.shape[1]:
        raise ConfigError(f"penalty must be a (K, K) matrix, not {tuple(penalty.shape)}")
    k = penalty.shape[0]
    mu_matrix = penalty.detach().to(device=logits.device, dtype=logits.dtype)
    if (
        not bool(torch.isfinite(mu_matrix).all())
        or bool((mu_matrix < 0).any())
        or not torch.equal(mu_matrix, mu_matrix.T)
        or bool((mu_matrix.diagonal() != 0).any())
    ):
        raise ConfigError("penalty must be finite, non-negative, symmetric and zero on the diagonal")
    coarse = coarse_of.to(logits.device).long()
    if bool((coarse < -1).any()) or bool((coarse >= k).any()):
        raise ConfigError(f"coarse_of values must be in [-1, {k})")
    log_p = _true_log_prob(logits, target, keep)
    safe_target = torch.where(keep, target, torch.zeros_like(target)).long()
    true_coarse, pred_coarse = coarse[safe_target], coarse[logits.detach().argmax(dim=1)]
    both = (true_coarse >= 0) & (pred_coarse >= 0)
    mu = torch.where(
        both, mu_matrix[true_coarse.clamp_min(0), pred_coarse.clamp_min(0)], torch.zeros_like(log_p)
    )
    return _reduce(-(1 + mu) * log_p, keep, reduction)


def contrastive_loss(
    a: torch.Tensor, b: torch.Tensor, same: torch.Tensor, margin: float = 1.0
) -> torch.Tensor:
    """The contrastive loss of Hadsell, Chopra and LeCun (2006), a mean over pairs.

    ``mean_i [same_i d_i^2 + (1 - same_i) max(0, margin - d_i)^2] / 2`` with ``d_i = ||a_i - b_i||``
    (Euclidean). A similar pair is pulled together; a dissimilar one is pushed apart until it is
    ``margin`` away. The squared term uses the exact squared distance; ``d`` itself is
    ``sqrt(squared distance + 1e-12)`` so its gradient stays finite at ``a_i == b_i``.

    Parameters
    ----------
    a, b : torch.Tensor, (B, D)
        The two embeddings of each pair.
    same : torch.Tensor, (B,) bool (or 0/1)
        True for a similar pair.
    margin : float
        ``> 0``.

    Raises
    ------
    ConfigError
        On shapes that differ, an empty batch, or a margin that is not positive.
    """
    if a.ndim != 2 or a.shape != b.shape or a.shape[0] == 0:
        raise ConfigError(
            f"a and b must both be (B, D) with B >= 1, not {tuple(a.shape)} and {tuple(b.shape)}"
        )
    if same.shape != a.shape[:1]:
        raise ConfigError(f"same must be ({a.shape[0]},), not {tuple(same.shape)}")
    if not margin > 0:
        raise ConfigError(f"margin must be > 0, not {margin}")
    squared = ((a - b) ** 2).sum(dim=1)
    distance = torch.sqrt(squared + 1e-12)
    similar = same.to(device=a.device, dtype=a.dtype)
    per_pair = similar * squared + (1 - similar) * torch.relu(margin - distance) ** 2
    return per_pair.mean() / 2


def kl_label_distribution(logits: torch.Tensor, target_distribution: torch.Tensor) -> torch.Tensor:
    """``KL(D || P) = sum_c D_c (log D_c - log P_c)``, the mean over the batch.

    ``P = softmax(logits)``; ``D`` is a constant (detached) and ``0 log 0 = 0``, so classes with
    ``D_c = 0`` contribute nothing.

    Parameters
    ----------
    logits : torch.Tensor, (B, C)
        Unnormalised class scores.
    target_distribution : torch.Tensor, (B, C)
        Each row non-negative and summing to 1 (within 1e-4), e.g. :func:`neighbour_distribution`.

    Raises
    ------
    ConfigError
        On shapes that differ, or rows that are not distributions.
    """
    if logits.ndim != 2 or target_distribution.shape != logits.shape:
        raise ConfigError(
            f"logits and target_distribution must both be (B, C), not {tuple(logits.shape)} "
            f"and {tuple(target_distribution.shape)}"
        )
    d = target_distribution.detach().to(device=logits.device, dtype=logits.dtype)
    if bool((d < 0).any()) or not bool(torch.allclose(d.sum(dim=1), torch.ones_like(d[:, 0]), atol=1e-4)):
        raise ConfigError("each row of target_distribution must be non-negative and sum to 1")
    log_p = F.log_softmax(logits, dim=1)
    per_class = torch.where(d > 0, torch.xlogy(d, d) - d * log_p, torch.zeros_like(log_p))
    return per_class.sum(dim=1).mean()


def neighbour_distribution(probs: torch.Tensor, relation: torch.Tensor, k: int = 5) -> torch.Tensor:
    """Each image's distribution from its ``k`` most related *other* images of the batch.

    ``D_i = sum_j r_ij P_j / sum_j r_ij`` over the ``k`` images ``j != i`` with the highest
    ``relation[i, j]`` (all the others when the batch has fewer than ``k + 1``). Scores are made
    non-negative by clamping at 0 (``r_ij = max(relation[i, j], 0)``), which keeps the
    linear weighting for scores that are already non-negative (similarities, sigmoid outputs);
    when the chosen ``k`` all clamp to 0 their plain mean is used. The result is differentiable in
    both inputs; :func:`kl_label_distribution` detaches it.

    Parameters
    ----------
    probs : torch.Tensor, (B, C)
        Each image's predicted distribution.
    relation : torch.Tensor, (B, B)
        ``relation[i, j]``: how related image ``j`` is to image ``i`` (the diagonal is not used).
    k : int
        ``>= 1``.

    Returns
    -------
    torch.Tensor
        (B, C), each row a distribution when the rows of ``probs`` are.

    Raises
    ------
    ConfigError
        On shapes that do not fit, a batch of one image, or ``k < 1``.
    """
    if probs.ndim != 2:
        raise ConfigError(f"probs must be (B, C), not {tuple(probs.shape)}")
    b = probs.shape[0]
    if relation.shape != (b, b):
        raise ConfigError(f"relation must be ({b}, {b}), not {tuple(relation.shape)}")
    if b < 2:
        raise ConfigError("neighbour_distribution needs at least two images in the batch")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ConfigError(f"k must be an integer >= 1, not {k!r}")
    eye = torch.eye(b, dtype=torch.bool, device=relation.device)
    scores = relation.masked_fill(eye, float("-inf"))
    top, index = scores.topk(min(k, b - 1), dim=1)
    r = top.clamp_min(0)
    total = r.sum(dim=1, keepdim=True)
    w = torch.where(
        total > 0, r / total.clamp_min(torch.finfo(r.dtype).tiny), torch.full_like(r, 1 / r.shape[1])
    )
    return (w[:, :, None].to(probs.dtype) * probs[index]).sum(dim=1)


def _steps(mask: torch.Tensor | None, shape: torch.Size, device: torch.device) -> torch.Tensor:
    if mask is None:
        return torch.ones(shape, dtype=torch.bool, device=device)
    if mask.shape != shape or mask.dtype != torch.bool:
        raise ConfigError(
            f"mask must be a bool tensor of shape {tuple(shape)}, not {tuple(mask.shape)} {mask.dtype}"
        )
    return mask.to(device)


def modal_scaling_loss(
    beta: torch.Tensor, m: torch.Tensor, n: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """The AlexNet-attention paper's auxiliary loss ``L1 = [(beta - m)^2 + (beta - (1 - n))^2] / 2``.

    Averaged over the steps where ``mask`` is True (every step without a mask); 0 when none is.
    Per step the gradient with respect to ``beta`` is ``2 beta - (1 + m - n)`` (divided by the
    number of steps averaged), so the minimiser is ``beta = (1 + m - n) / 2``: 0.5 for
    ``(m, n) = (1, 1)``, 1 for ``(1, 0)``, 0 for ``(0, 1)`` and 0.5 for ``(0, 0)``.

    Parameters
    ----------
    beta : torch.Tensor, (B, S)
        The modal scaling factor per step.
    m, n : torch.Tensor, (B, S)
        The paper's two per-step indicators (``beta`` is drawn to ``m`` and to ``1 - n``).
    mask : torch.Tensor, (B, S) bool, optional
        True at the real steps (padding False).

    Raises
    ------
    ConfigError
        On shapes that differ or a mask that is not bool of that shape.
    """
    if m.shape != beta.shape or n.shape != beta.shape:
        raise ConfigError(
            f"beta, m and n must have one shape, not {tuple(beta.shape)}, {tuple(m.shape)}, {tuple(n.shape)}"
        )
    keep = _steps(mask, beta.shape, beta.device)
    m, n = m.to(beta.dtype), n.to(beta.dtype)
    per_step = ((beta - m) ** 2 + (beta - (1 - n)) ** 2) / 2
    return torch.where(keep, per_step, torch.zeros_like(per_step)).sum() / keep.sum().clamp_min(1)


def _valid(
    pred: torch.Tensor, gold: torch.Tensor, mask: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The pairs at real steps whose gold is not NaN, flattened."""
    if pred.shape != gold.shape:
        raise ConfigError(f"pred has shape {tuple(pred.shape)} and gold {tuple(gold.shape)}")
    keep = _steps(mask, pred.shape, pred.device) & ~torch.isnan(gold)
    return pred[keep], gold[keep].to(pred.dtype)


def ccc_loss(pred: torch.Tensor, gold: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """``1 - CCC`` of ``pred`` against ``gold``, one CCC over every valid element (batch and time pooled).

    The population form: covariance and variances all divide by ``N`` (``ddof 0``). Elements where
    ``mask`` is False or ``gold`` is NaN are left out; no element left gives 0 (attached to the
    graph). A zero denominator (both constant and equal) is clamped to 1e-12, giving loss 1.

    Raises
    ------
    ConfigError
        On shapes that differ or a mask that is not bool of that shape.
    """
    x, y = _valid(pred, gold, mask)
    if x.numel() == 0:
        return (pred.nan_to_num() * 0).sum()
    mx, my = x.mean(), y.mean()
    cov = ((x - mx) * (y - my)).mean()
    denominator = ((x - mx) ** 2).mean() + ((y - my) ** 2).mean() + (mx - my) ** 2
    return 1 - 2 * cov / denominator.clamp_min(1e-12)


def rmse_loss(pred: torch.Tensor, gold: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """The root mean squared error over the valid elements (mask True and gold not NaN).

    ``sqrt(max(mse, 1e-12))``: the floor keeps the gradient finite at a perfect fit (where the
    loss reads 1e-6). No element left gives 0 (attached to the graph).

    Raises
    ------
    ConfigError
        On shapes that differ or a mask that is not bool of that shape.
    """
    x, y = _valid(pred, gold, mask)
    if x.numel() == 0:
        return (pred.nan_to_num() * 0).sum()
    return ((x - y) ** 2).mean().clamp_min(1e-12).sqrt()
