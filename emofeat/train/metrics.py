"""The field's evaluation metrics, in NumPy: what each computes and whose convention it follows.

Inputs are array-likes (lists, NumPy arrays, or torch tensors, which are detached and moved to
the CPU first); results are Python floats or NumPy arrays.

**Classification** (``pred`` and ``target`` are class indices, one per item; items whose target
is ``ignore_index`` are dropped before anything is counted):

* :func:`confusion_matrix` -- ``(C, C)`` int64 counts, **rows = the true class, columns = the
  predicted class**.
* :func:`accuracy` -- ``kind="overall"``: the share of items predicted right;
  ``kind="mean_class"``: the mean over the classes present in the target of each class's recall
  (the "Avg." column of FG-Emotions' tables, RAF-DB's mean class accuracy).
* :func:`uar` -- unweighted average recall, the same number as the mean class accuracy: the mean
  per-class recall over the classes present in the target (the speech emotion challenges'
  headline metric; on a 90/10 split, always predicting the majority scores 0.9 accuracy but 0.5
  UAR).
* :func:`per_class_f1`, :func:`macro_f1` -- each class's F1 ``2 TP / (2 TP + FP + FN)`` and
  their mean over ``labels``. **A class in ``labels`` with no support and no prediction has
  F1 = 0 and counts in the mean** (it is not skipped); by default ``labels`` are the classes
  present in the target or the prediction, so nothing absent from both is counted.
* :func:`abaw_expression_f1` -- the ABAW expression challenge's score: the macro F1 over the
  eight classes 0..7 (neutral, anger, disgust, fear, happiness, sadness, surprise, other),
  pooled over every annotated frame of all videos (frames labelled -1 dropped), a class that
  appears nowhere counting 0.
* :func:`classification_report` -- all of the above as plain JSON data.

**Continuous** (valence, arousal, ...; ``gold`` values that are NaN are frames nobody annotated:
each such pair is dropped; a NaN or infinite *prediction* is an error, never dropped):

* :func:`ccc` -- Lin's concordance correlation coefficient
  ``2 cov(x, y) / (var(x) + var(y) + (mean(x) - mean(y))^2)``. The default ``ddof_var=1`` is the
  AVEC challenges' baseline scoring: the two variances divide by ``N - 1``, the covariance by
  ``N``. ``ddof_var=0`` is the textbook (population) form: all three divide by ``N``.
* :func:`ccc_sequences` -- the CCC of a partition of sequences: ``pooling="concat"`` is the CCC
  of all sequences concatenated (AVEC's way), ``"per_sequence"`` the mean of each sequence's CCC.
* :func:`shift`, :func:`best_delay` -- annotation delay compensation: raters react late, so
  ``gold[t]`` describes the signal at ``t - d``; a prediction made from the signal at time ``t``
  is compared with ``gold[t + d]``. :func:`best_delay` picks ``d`` on validation sequences.
* :func:`r2` -- the coefficient of determination ``1 - SS_res / SS_tot``.

Arguments that cannot be scored (lengths that differ, nothing left to score, labels out of
range) raise :class:`~emofeat.errors.ConfigError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np

from emofeat.errors import ConfigError

#: The ABAW expression challenge's classes, in its label order.
ABAW_EXPRESSIONS = ("neutral", "anger", "disgust", "fear", "happiness", "sadness", "surprise", "other")


def _numpy(x: Any) -> np.ndarray:
    """``x`` as a NumPy array (a torch tensor is detached and moved to the CPU first)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu()
    return np.asarray(x)


def _labels(x: Any, name: str) -> np.ndarray:
    """A 1-D int64 array of class indices, or ConfigError."""
    a = _numpy(x)
    if a.ndim != 1:
        raise ConfigError(f"{name} must be one class index per item (1-D), not of shape {a.shape}")
    if a.dtype.kind in "iub":
        return a.astype(np.int64)
    if a.dtype.kind == "f" and np.isfinite(a).all() and (a == np.round(a)).all():
        return a.astype(np.int64)
    raise ConfigError(f"{name} must hold integer class indices, not {a.dtype} values")


def _pairs(
    pred: Any, target: Any, ignore_index: int, n_classes: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``pred`` and ``target`` as int64 arrays without the ignored items, checked."""
    p, t = _labels(pred, "pred"), _labels(target, "target")
    if p.shape != t.shape:
        raise ConfigError(f"pred has {p.size} items and target {t.size}")
    keep = t != ignore_index
    p, t = p[keep], t[keep]
    if t.size == 0:
        raise ConfigError("nothing to score: no items, or every target is ignore_index")
    if (p < 0).any() or (t < 0).any():
        raise ConfigError("class indices must be non-negative (other than ignore_index in target)")
    if n_classes is not None:
        if n_classes < 1:
            raise ConfigError(f"n_classes must be at least 1, not {n_classes}")
        if (p >= n_classes).any() or (t >= n_classes).any():
            raise ConfigError(f"class indices must be below n_classes={n_classes}")
    return p, t


def confusion_matrix(pred: Any, target: Any, n_classes: int, ignore_index: int = -1) -> np.ndarray:
    """Counts of (true class, predicted class): ``m[i, j]`` items of class ``i`` predicted ``j``.

    Parameters
    ----------
    pred, target : array-like of int, (N,)
        Predicted and true class indices in ``[0, n_classes)``.
    n_classes : int
        The number of classes ``C``.
    ignore_index : int
        Items whose target is this value are dropped.

    Returns
    -------
    numpy.ndarray
        ``(C, C)`` int64; rows are the true class, columns the predicted class.

    Raises
    ------
    ConfigError
        On lengths that differ, nothing left to score, or indices outside ``[0, n_classes)``.
    """
    p, t = _pairs(pred, target, ignore_index, n_classes)
    return np.bincount(t * n_classes + p, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def _recalls(p: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Each class present in ``t`` (ascending): the share of its items predicted right."""
    classes = np.unique(t)
    return np.array([float(np.mean(p[t == c] == c)) for c in classes], dtype=np.float64)


def accuracy(
    pred: Any,
    target: Any,
    kind: Literal["overall", "mean_class"] = "overall",
    n_classes: int | None = None,
    ignore_index: int = -1,
) -> float:
    """Overall accuracy, or the mean class accuracy.

    Parameters
    ----------
    pred, target : array-like of int, (N,)
        Predicted and true class indices.
    kind : {"overall", "mean_class"}
        ``"overall"``: correct items / items. ``"mean_class"``: the mean over the classes present
        in ``target`` of their recall (FG-Emotions' "Avg.", RAF-DB's mean class accuracy).
    n_classes : int, optional
        When given, indices must lie in ``[0, n_classes)`` (the value does not change the score:
        absent classes have no recall to average).
    ignore_index : int
        Items whose target is this value are dropped.

    Raises
    ------
    ConfigError
        On an unknown ``kind``, lengths that differ, nothing left to score, or indices out of range.
    """
    if kind not in ("overall", "mean_class"):
        raise ConfigError(f"kind must be 'overall' or 'mean_class', not {kind!r}")
    p, t = _pairs(pred, target, ignore_index, n_classes)
    if kind == "overall":
        return float(np.mean(p == t))
    return float(np.mean(_recalls(p, t)))


def uar(pred: Any, target: Any, n_classes: int | None = None, ignore_index: int = -1) -> float:
    """Unweighted average recall: the mean per-class recall over the classes present in ``target``.

    The same number as ``accuracy(..., kind="mean_class")``.

    Raises
    ------
    ConfigError
        On lengths that differ, nothing left to score, or indices out of range.
    """
    return accuracy(pred, target, kind="mean_class", n_classes=n_classes, ignore_index=ignore_index)


def _label_list(labels: Iterable[int] | None, p: np.ndarray, t: np.ndarray) -> np.ndarray:
    if labels is None:
        return np.union1d(p, t)
    out = _labels(np.asarray(list(labels)), "labels")
    if out.size == 0:
        raise ConfigError("labels must name at least one class")
    if np.unique(out).size != out.size:
        raise ConfigError(f"labels must not repeat a class: {out.tolist()}")
    return out


def per_class_f1(
    pred: Any, target: Any, labels: Iterable[int] | None = None, ignore_index: int = -1
) -> np.ndarray:
    """Each class's F1 ``2 TP / (2 TP + FP + FN)``, in the order of ``labels``.

    Parameters
    ----------
    pred, target : array-like of int, (N,)
        Predicted and true class indices.
    labels : iterable of int, optional
        The classes to score; default: those present in ``target`` or ``pred`` (ascending). A class
        with no support and no prediction (``2 TP + FP + FN = 0``) has F1 = 0. Predictions of a
        class outside ``labels`` still count as misses of their item's true class.
    ignore_index : int
        Items whose target is this value are dropped.

    Returns
    -------
    numpy.ndarray
        float64, one F1 per label.

    Raises
    ------
    ConfigError
        On lengths that differ, nothing left to score, negative indices, or empty or repeated labels.
    """
    p, t = _pairs(pred, target, ignore_index)
    out = []
    for c in _label_list(labels, p, t):
        tp = int(np.sum((p == c) & (t == c)))
        fp = int(np.sum((p == c) & (t != c)))
        fn = int(np.sum((p != c) & (t == c)))
        denominator = 2 * tp + fp + fn
        out.append(2 * tp / denominator if denominator else 0.0)
    return np.asarray(out, dtype=np.float64)


def macro_f1(pred: Any, target: Any, labels: Iterable[int] | None = None, ignore_index: int = -1) -> float:
    """The mean of :func:`per_class_f1` over ``labels``.

    A class in ``labels`` that is neither in ``target`` nor predicted counts as F1 = 0 (it is not
    skipped: naming eight classes averages over eight). By default ``labels`` are the classes in
    ``target`` or ``pred``.

    Raises
    ------
    ConfigError
        On lengths that differ, nothing left to score, negative indices, or empty or repeated labels.
    """
    return float(np.mean(per_class_f1(pred, target, labels=labels, ignore_index=ignore_index)))


def _pool(x: Any) -> Any:
    """A list or tuple of 1-D arrays (one per video) concatenated; anything else as it is."""
    if isinstance(x, list | tuple) and x and all(np.ndim(_numpy(v)) == 1 for v in x):
        return np.concatenate([_numpy(v) for v in x])
    return x


def abaw_expression_f1(pred: Any, target: Any) -> float:
    """The ABAW expression challenge's score: macro F1 over the 8 classes 0..7.

    The classes are :data:`ABAW_EXPRESSIONS` (neutral, anger, disgust, fear, happiness, sadness,
    surprise, other). The F1 is pooled over every annotated frame of all videos: pass one array of
    all frames, or a list of per-video arrays (concatenated). Frames labelled -1 are dropped; a
    class that neither appears nor is predicted counts F1 = 0, so the mean is always over 8.

    Raises
    ------
    ConfigError
        On lengths that differ, no annotated frame, a prediction outside 0..7 or a target outside
        -1..7.
    """
    p, t = _pairs(_pool(pred), _pool(target), ignore_index=-1, n_classes=len(ABAW_EXPRESSIONS))
    return macro_f1(p, t, labels=range(len(ABAW_EXPRESSIONS)))


def _series(pred: Any, gold: Any) -> tuple[np.ndarray, np.ndarray]:
    """``pred`` and ``gold`` as float64, flattened, without the pairs whose gold is NaN."""
    x, y = _numpy(pred).astype(np.float64), _numpy(gold).astype(np.float64)
    if x.shape != y.shape:
        raise ConfigError(f"pred has shape {x.shape} and gold {y.shape}")
    x, y = x.ravel(), y.ravel()
    if not np.isfinite(x).all():
        raise ConfigError("pred holds NaN or infinite values")
    keep = ~np.isnan(y)
    x, y = x[keep], y[keep]
    if not np.isfinite(y).all():
        raise ConfigError("gold holds infinite values")
    if y.size == 0:
        raise ConfigError("nothing to score: no values, or every gold value is NaN")
    return x, y


def ccc(pred: Any, gold: Any, ddof_var: int = 1) -> float:
    """Lin's concordance correlation coefficient of ``pred`` against ``gold``.

    ``2 cov(x, y) / (var(x) + var(y) + (mean(x) - mean(y))^2)`` where, with ``N`` scored pairs,
    ``cov = sum((x - mean x)(y - mean y)) / N`` and ``var(v) = sum((v - mean v)^2) / (N - ddof_var)``.

    Parameters
    ----------
    pred, gold : array-like of float, same shape
        Predictions and annotations (flattened). Pairs whose gold is NaN are dropped.
    ddof_var : {1, 0}
        1 (default): the AVEC baseline convention, variances over ``N - 1`` and the covariance over
        ``N``. 0: the textbook form, all three over ``N``.

    Returns
    -------
    float
        In ``[-1, 1]``. Under ``ddof_var=1`` the two normalisations differ, so identical series
        score ``(N - 1) / N``, not 1 (negligible at challenge lengths; use ``ddof_var=0`` where an
        exact 1 matters). NaN when the denominator is 0 (both series constant and equal).

    Raises
    ------
    ConfigError
        On shapes that differ, a NaN or infinite prediction, nothing left to score, ``ddof_var``
        other than 0 or 1, or a single pair with ``ddof_var=1``.
    """
    if ddof_var not in (0, 1):
        raise ConfigError(f"ddof_var must be 0 or 1, not {ddof_var}")
    x, y = _series(pred, gold)
    n = x.size
    if n - ddof_var < 1:
        raise ConfigError(f"a CCC with ddof_var={ddof_var} needs at least {ddof_var + 1} values, not {n}")
    mx, my = x.mean(), y.mean()
    cov = float(np.sum((x - mx) * (y - my)) / n)
    var_x = float(np.sum((x - mx) ** 2) / (n - ddof_var))
    var_y = float(np.sum((y - my) ** 2) / (n - ddof_var))
    denominator = var_x + var_y + float(mx - my) ** 2
    return 2.0 * cov / denominator if denominator > 0 else float("nan")


def _sequences(preds: Sequence[Any], golds: Sequence[Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    if len(preds) != len(golds):
        raise ConfigError(f"{len(preds)} predicted sequences for {len(golds)} gold sequences")
    if len(preds) == 0:
        raise ConfigError("no sequences to score")
    out = []
    for i, (p, g) in enumerate(zip(preds, golds, strict=True)):
        x, y = _numpy(p).astype(np.float64), _numpy(g).astype(np.float64)
        if x.shape != y.shape:
            raise ConfigError(f"sequence {i}: pred has shape {x.shape} and gold {y.shape}")
        out.append((x, y))
    return out


def ccc_sequences(
    preds: Sequence[Any],
    golds: Sequence[Any],
    pooling: Literal["concat", "per_sequence"] = "concat",
    ddof_var: int = 1,
) -> float:
    """The CCC of a partition's sequences.

    Parameters
    ----------
    preds, golds : sequence of array-like
        One prediction and one annotation series per sequence (each pair of one shape).
    pooling : {"concat", "per_sequence"}
        ``"concat"`` (AVEC): one CCC over all sequences concatenated. ``"per_sequence"``: the mean of
        each sequence's CCC over the sequences where it is defined: a sequence with fewer than
        ``ddof_var + 1`` annotated values, or whose CCC is NaN (prediction and gold constant and
        equal), is left out of the mean; NaN when every scorable sequence's CCC is NaN.
    ddof_var : {1, 0}
        As in :func:`ccc`.

    Raises
    ------
    ConfigError
        On an unknown ``pooling``, counts or shapes that differ, no sequences, or no annotated value.
    """
    if pooling not in ("concat", "per_sequence"):
        raise ConfigError(f"pooling must be 'concat' or 'per_sequence', not {pooling!r}")
    pairs = _sequences(preds, golds)
    if pooling == "concat":
        return ccc(
            np.concatenate([x.ravel() for x, _ in pairs]),
            np.concatenate([y.ravel() for _, y in pairs]),
            ddof_var,
        )
    scored = [ccc(x, y, ddof_var) for x, y in pairs if int((~np.isnan(y)).sum()) > ddof_var]
    if not scored:
        raise ConfigError(f"nothing to score: no sequence has more than {ddof_var} annotated value(s)")
    defined = [v for v in scored if not np.isnan(v)]
    return float(np.mean(defined)) if defined else float("nan")


def shift(pred: Any, delay_steps: int) -> np.ndarray:
    """Delay a prediction series by ``delay_steps`` to compare it with delayed annotations.

    Annotations lag the signal by the annotation delay ``d``: ``gold[t]`` describes the signal at
    ``t - d``. A prediction made from the signal at time ``t`` is therefore compared with
    ``gold[t + d]``: ``shifted[t] = pred[t - d]`` for ``t >= d``, and the first ``d`` steps repeat
    ``pred[0]`` (edge padding), so ``shifted`` has ``pred``'s length:
    ``shifted = concat(pred[0] repeated d times, pred[:-d])``. The shift is along axis 0.

    Parameters
    ----------
    pred : array-like, (T, ...)
        One sequence's predictions.
    delay_steps : int
        ``d >= 0``, in steps of the series (not seconds). A delay of ``T`` or more repeats ``pred[0]``.

    Returns
    -------
    numpy.ndarray
        A new array, ``pred``'s shape and dtype.

    Raises
    ------
    ConfigError
        On a negative or non-integer delay, or a 0-d or empty ``pred``.
    """
    if isinstance(delay_steps, bool) or not isinstance(delay_steps, int | np.integer) or delay_steps < 0:
        raise ConfigError(f"delay_steps must be a non-negative integer, not {delay_steps!r}")
    x = _numpy(pred)
    if x.ndim == 0 or len(x) == 0:
        raise ConfigError("shift needs a non-empty sequence")
    d = min(int(delay_steps), len(x))
    out = np.empty_like(x)
    out[:d] = x[0]
    out[d:] = x[: len(x) - d]
    return out


def best_delay(
    preds: Sequence[Any],
    golds: Sequence[Any],
    delays: Sequence[int],
    pooling: Literal["concat", "per_sequence"] = "concat",
    ddof_var: int = 1,
) -> tuple[int, float]:
    """The annotation delay, in steps, under which the shifted predictions score the highest CCC.

    Choose it on validation sequences, then apply it (:func:`shift`) to the test sequences.

    Parameters
    ----------
    preds, golds : sequence of array-like
        One prediction and one annotation series per sequence.
    delays : sequence of int
        The candidate delays (each ``>= 0``). On a tie the first candidate wins.
    pooling, ddof_var
        As in :func:`ccc_sequences`.

    Returns
    -------
    tuple of (int, float)
        The best delay and its CCC (a NaN CCC never wins over a number).

    Raises
    ------
    ConfigError
        On no candidate delays, a negative delay, or what :func:`ccc_sequences` refuses.
    """
    candidates = list(delays)
    if not candidates:
        raise ConfigError("best_delay needs at least one candidate delay")
    pairs = _sequences(preds, golds)
    scores = [
        ccc_sequences([shift(x, d) for x, _ in pairs], [y for _, y in pairs], pooling, ddof_var)
        for d in candidates
    ]
    ranked = [-np.inf if np.isnan(s) else s for s in scores]
    i = int(np.argmax(ranked))  # the first of equal maxima
    return int(candidates[i]), scores[i]


def r2(pred: Any, gold: Any) -> float:
    """The coefficient of determination ``1 - sum((y - x)^2) / sum((y - mean y)^2)``.

    ``x`` is ``pred`` and ``y`` ``gold`` (flattened), pairs whose gold is NaN dropped. 1 is a perfect
    fit, 0 the score of always predicting gold's mean, and it is unbounded below. NaN when every
    gold value is the same (``SS_tot = 0``).

    Raises
    ------
    ConfigError
        On shapes that differ, a NaN or infinite prediction, or nothing left to score.
    """
    x, y = _series(pred, gold)
    ss_res = float(np.sum((y - x) ** 2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan")


def classification_report(pred: Any, target: Any, n_classes: int, ignore_index: int = -1) -> dict[str, Any]:
    """The classification metrics as plain JSON data.

    Returns
    -------
    dict
        ``n`` (items scored), ``n_classes``, ``accuracy``, ``mean_class_accuracy`` and ``uar`` (the
        same number under the two names the literature uses), ``macro_f1`` (over the classes in the
        target or the prediction, as :func:`macro_f1` by default), ``per_class_recall`` (one per
        class ``0 .. n_classes - 1``; None for a class absent from the target), ``per_class_f1``
        (one per class; 0 for a class neither present nor predicted) and ``confusion`` (list of
        lists, rows = true class, columns = predicted).

    Raises
    ------
    ConfigError
        On lengths that differ, nothing left to score, or indices outside ``[0, n_classes)``.
    """
    p, t = _pairs(pred, target, ignore_index, n_classes)
    m = confusion_matrix(p, t, n_classes)
    support = m.sum(axis=1)
    recall: list[float | None] = [
        float(m[c, c] / support[c]) if support[c] else None for c in range(n_classes)
    ]
    mean_class = accuracy(p, t, kind="mean_class")
    return {
        "n": int(t.size),
        "n_classes": int(n_classes),
        "accuracy": accuracy(p, t),
        "mean_class_accuracy": mean_class,
        "uar": mean_class,
        "macro_f1": macro_f1(p, t),
        "per_class_recall": recall,
        "per_class_f1": [float(v) for v in per_class_f1(p, t, labels=range(n_classes))],
        "confusion": m.tolist(),
    }
