"""The metrics against values worked by hand: the arithmetic is in the comments."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
import torch

from emofeat.errors import ConfigError
from emofeat.train.metrics import (
    abaw_expression_f1,
    accuracy,
    best_delay,
    ccc,
    ccc_sequences,
    classification_report,
    confusion_matrix,
    macro_f1,
    per_class_f1,
    r2,
    shift,
    uar,
)


def test_confusion_rows_are_the_true_class_columns_the_prediction() -> None:
    target = [0, 0, 1, 2, -1]
    pred = [1, 0, 2, 2, 0]  # the last item is ignored (target -1)
    m = confusion_matrix(pred, target, n_classes=3)
    # true 0 -> predicted 1 and 0; true 1 -> predicted 2; true 2 -> predicted 2
    expected = np.array([[1, 1, 0], [0, 0, 1], [0, 0, 1]])
    np.testing.assert_array_equal(m, expected)
    assert m.dtype == np.int64
    assert m[0, 1] == 1
    assert m[1, 0] == 0


def test_uar_on_an_imbalanced_split_sees_through_the_majority() -> None:
    target = np.array([0] * 90 + [1] * 10)
    pred = np.zeros(100, dtype=int)  # always the majority class
    # accuracy = 90 / 100; recalls: class 0 = 90/90 = 1, class 1 = 0/10 = 0; UAR = (1 + 0) / 2
    assert accuracy(pred, target) == pytest.approx(0.9)
    assert uar(pred, target) == pytest.approx(0.5)
    assert accuracy(pred, target, kind="mean_class") == pytest.approx(0.5)


def test_mean_class_accuracy_averages_only_classes_present_in_the_target() -> None:
    target = [0, 0, 0, 1]
    pred = [0, 0, 1, 2]  # class 2 is predicted but never true: it has no recall
    # recalls: class 0 = 2/3, class 1 = 0/1; mean = 1/3 (n_classes=5 does not change it)
    assert accuracy(pred, target, kind="mean_class", n_classes=5) == pytest.approx(1 / 3)


def test_macro_f1_counts_a_class_absent_from_both_as_zero() -> None:
    target = [0, 0, 1, 1]
    pred = [0, 1, 1, 1]
    # class 0: TP 1, FP 0, FN 1 -> 2/(2+0+1) = 2/3
    # class 1: TP 2, FP 1, FN 0 -> 4/(4+1+0) = 4/5
    # class 2: neither true nor predicted -> 0
    np.testing.assert_allclose(per_class_f1(pred, target, labels=[0, 1, 2]), [2 / 3, 4 / 5, 0.0])
    counted = macro_f1(pred, target, labels=[0, 1, 2])
    assert counted == pytest.approx((2 / 3 + 4 / 5 + 0) / 3)  # = 22/45 = 0.4889
    skipped = (2 / 3 + 4 / 5) / 2  # = 11/15 = 0.7333, what skipping class 2 would give
    assert counted != pytest.approx(skipped)
    assert macro_f1(pred, target) == pytest.approx(skipped)  # default labels: classes 0 and 1 only


def test_abaw_expression_f1_drops_unannotated_frames_and_averages_all_eight() -> None:
    target = [0, 1, -1, 1, 6]
    pred = [0, 1, 3, 2, 6]  # the third frame is unannotated: its prediction 3 is not a false positive
    # class 0: F1 1; class 1: TP 1, FN 1 -> 2/3; class 2: FP 1 -> 0; class 6: F1 1; the other four 0
    # (1 + 2/3 + 0 + 1) / 8 = (8/3) / 8 = 1/3
    assert abaw_expression_f1(pred, target) == pytest.approx(1 / 3)
    # pooled over videos: per-video arrays give the same score as one array of all frames
    assert abaw_expression_f1([np.array([0, 1]), np.array([3, 2, 6])], [[0, 1], [-1, 1, 6]]) == pytest.approx(
        1 / 3
    )
    with pytest.raises(ConfigError):
        abaw_expression_f1([8], [0])  # no class 8


def test_ccc_perfect_agreement() -> None:
    x = np.array([0.1, 0.5, -0.3, 0.8, 0.0])
    assert ccc(x, x, ddof_var=0) == pytest.approx(1.0)
    # ddof_var=1: cov = S/N, each variance S/(N-1) -> 2(S/N) / (2S/(N-1)) = (N-1)/N = 4/5
    assert ccc(x, x) == pytest.approx(4 / 5)


def test_ccc_a_constant_offset_lowers_it_by_the_formula() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0])
    c = 0.5
    # ddof 0: var = ((1.5)^2 + (0.5)^2 + (0.5)^2 + (1.5)^2) / 4 = 5/4; cov(x, x + c) = var
    # CCC = 2 var / (2 var + c^2) = 2.5 / (2.5 + 0.25) = 10/11
    assert ccc(x, x + c, ddof_var=0) == pytest.approx(10 / 11)
    # ddof 1: var = 5/3, cov = 5/4 -> 2.5 / (10/3 + 0.25) = 2.5 / (43/12) = 30/43
    assert ccc(x, x + c) == pytest.approx(30 / 43)


def test_ccc_of_a_negated_series_is_minus_one() -> None:
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])  # mean 0, so -x has the same mean
    assert ccc(x, -x, ddof_var=0) == pytest.approx(-1.0)
    assert ccc(x, -x) == pytest.approx(-4 / 5)  # (N-1)/N again


def test_ccc_small_example_by_hand() -> None:
    x, y = [1.0, 2.0, 3.0], [1.0, 3.0, 2.0]
    # means 2 and 2; deviations x: -1, 0, 1; y: -1, 1, 0
    # sum of products = 1 + 0 + 0 = 1 -> cov over N = 1/3
    # sums of squares = 2 and 2 -> variances over N-1 = 1 and 1
    # CCC = 2 (1/3) / (1 + 1 + 0) = 1/3
    assert ccc(x, y) == pytest.approx(1 / 3)
    # textbook: variances over N = 2/3 -> (2/3) / (4/3) = 1/2
    assert ccc(x, y, ddof_var=0) == pytest.approx(1 / 2)
    # gold + 1: means 2 and 3 -> 2 (1/3) / (1 + 1 + 1) = 2/9
    assert ccc(x, [2.0, 4.0, 3.0]) == pytest.approx(2 / 9)


def test_ccc_drops_unannotated_gold_pairwise() -> None:
    # the pair (99, NaN) goes: the rest is the hand example above
    assert ccc([1.0, 2.0, 99.0, 3.0], [1.0, 3.0, np.nan, 2.0]) == pytest.approx(1 / 3)
    with pytest.raises(ConfigError):
        ccc([1.0, np.nan, 3.0], [1.0, 3.0, 2.0])  # a NaN prediction is an error, never dropped


def test_ccc_accepts_torch_tensors() -> None:
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert ccc(x, torch.tensor([1.0, 3.0, 2.0])) == pytest.approx(1 / 3)


def test_per_sequence_and_concat_pooling_differ() -> None:
    preds = [np.array([0.0, 1.0]), np.array([11.0, 10.0])]
    golds = [np.array([0.0, 1.0]), np.array([10.0, 11.0])]
    # per sequence (ddof 0): CCC 1 and CCC -1 (reversed, same mean) -> mean 0
    assert ccc_sequences(preds, golds, pooling="per_sequence", ddof_var=0) == pytest.approx(0.0)
    # concat: x = 0 1 11 10, y = 0 1 10 11, both mean 5.5
    # dx = -5.5 -4.5 5.5 4.5, dy = -5.5 -4.5 4.5 5.5
    # sum dx dy = 30.25 + 20.25 + 24.75 + 24.75 = 100 -> cov 25; sum dx^2 = sum dy^2 = 101 -> var 25.25
    # CCC = 50 / 50.5 = 100/101
    assert ccc_sequences(preds, golds, pooling="concat", ddof_var=0) == pytest.approx(100 / 101)


def test_per_sequence_pooling_leaves_out_sequences_it_cannot_score() -> None:
    nan = np.nan
    preds = [[1.0, 2.0, 3.0], [5.0, 6.0], [0.0, 1.0, 2.0]]
    golds = [[1.0, 3.0, 2.0], [nan, nan], [4.0, nan, nan]]  # nothing, then a single annotated value
    # only the first sequence is scorable with N-1 variances: the hand example's 1/3
    assert ccc_sequences(preds, golds, pooling="per_sequence") == pytest.approx(1 / 3)
    with pytest.raises(ConfigError):
        ccc_sequences(preds[1:], golds[1:], pooling="per_sequence")


def test_shift_delays_and_pads_with_the_first_value() -> None:
    x = np.array([1, 2, 3, 4])
    np.testing.assert_array_equal(shift(x, 2), [1, 1, 1, 2])  # shifted[t] = x[t - 2]
    np.testing.assert_array_equal(shift(x, 0), x)
    np.testing.assert_array_equal(shift(x, 10), [1, 1, 1, 1])
    assert shift(x, 1) is not x
    assert len(shift(x, 3)) == 4
    with pytest.raises(ConfigError):
        shift(x, -1)


def test_best_delay_recovers_a_known_annotation_delay() -> None:
    t = np.arange(300)
    preds = [np.sin(2 * np.pi * t / 50), np.cos(2 * np.pi * t / 40)]
    golds = [np.sin(2 * np.pi * (t - 7) / 50), np.cos(2 * np.pi * (t - 7) / 40)]  # gold lags by 7 steps
    delay, score = best_delay(preds, golds, delays=range(0, 20))
    assert delay == 7
    assert score == pytest.approx(ccc_sequences([shift(p, 7) for p in preds], golds))
    assert score > ccc_sequences(preds, golds) + 0.1  # better than no compensation
    assert best_delay(preds, golds, delays=[7, 3], pooling="per_sequence")[0] == 7


def test_r2_known_values() -> None:
    y = [1.0, 2.0, 3.0, 4.0]
    # SS_res = 0 + 0 + 0 + 1 = 1; SS_tot = 2.25 + 0.25 + 0.25 + 2.25 = 5 -> 1 - 1/5 = 0.8
    assert r2([1.0, 2.0, 3.0, 5.0], y) == pytest.approx(0.8)
    assert r2([2.5] * 4, y) == pytest.approx(0.0)  # the mean
    assert r2(y, y) == pytest.approx(1.0)
    # the NaN pair goes: y = 1, 3 with mean 2, SS_tot = 2, SS_res = 0 -> 1
    assert r2([1.0, 100.0, 3.0], [1.0, np.nan, 3.0]) == pytest.approx(1.0)


def test_classification_report_is_plain_json() -> None:
    report = classification_report([0, 1, 1, 1], [0, 0, 1, 1], n_classes=3)
    again = json.loads(json.dumps(report))
    assert again == report
    assert report["accuracy"] == pytest.approx(3 / 4)
    assert report["uar"] == report["mean_class_accuracy"] == pytest.approx((1 / 2 + 1) / 2)
    assert report["macro_f1"] == pytest.approx((2 / 3 + 4 / 5) / 2)
    assert report["per_class_recall"] == [pytest.approx(0.5), pytest.approx(1.0), None]
    assert report["per_class_f1"][2] == 0.0
    assert report["confusion"] == [[1, 1, 0], [0, 2, 0], [0, 0, 0]]
    assert report["n"] == 4


@pytest.mark.parametrize(
    ("call", "args"),
    [
        (accuracy, ([0, 1], [0])),  # lengths differ
        (accuracy, ([], [])),  # empty
        (uar, ([0, 1], [-1, -1])),  # every target ignored
        (accuracy, ([0, 1], [0, 1], "weighted")),  # unknown kind
        (confusion_matrix, ([0, 3], [0, 1], 3)),  # a prediction out of range
        (macro_f1, ([0.5], [0])),  # not a class index
        (macro_f1, ([0], [0], [])),  # no labels
        (ccc, ([1.0, 2.0], [1.0])),  # lengths differ
        (ccc, ([], [])),  # empty
        (ccc, ([1.0, 2.0], [np.nan, np.nan])),  # nothing annotated
        (ccc, ([1.0], [1.0])),  # one pair cannot have an N-1 variance
        (ccc, ([1.0, 2.0], [1.0, 2.0], 2)),  # ddof_var
        (r2, ([1.0, 2.0, 3.0], [1.0, 2.0])),
        (ccc_sequences, ([[1.0, 2.0]], [[1.0, 2.0], [1.0, 2.0]])),  # sequence counts differ
        (ccc_sequences, ([[1.0, 2.0]], [[1.0, 2.0, 3.0]])),  # a sequence's lengths differ
        (ccc_sequences, ([], [])),
        (ccc_sequences, ([[1.0, 2.0]], [[1.0, 2.0]], "mean")),  # unknown pooling
        (best_delay, ([[1.0, 2.0]], [[1.0, 2.0]], [])),  # no candidate delay
    ],
)
def test_bad_input_raises_config_error(call: Any, args: tuple[Any, ...]) -> None:
    with pytest.raises(ConfigError):
        call(*args)


def test_an_undefined_ccc_is_nan() -> None:
    assert math.isnan(ccc([1.0, 1.0], [1.0, 1.0]))  # both constant and equal: 0 / 0
