"""Metrics against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from modelyard.errors import DataError
from modelyard.evaluate.metrics import (
    classification_metrics,
    confusion,
    expected_calibration_error,
    regression_metrics,
)

TRUE = ["a", "a", "b", "b", "c"]
PRED = ["a", "b", "b", "b", "a"]
# per class: a  P=1/2 R=1/2 F1=1/2;  b  P=2/3 R=1 F1=4/5;  c  no predictions: P=R=F1=0


def test_classification_metrics_by_hand() -> None:
    got = classification_metrics(TRUE, PRED)
    # weighted by support: a 2 rows, b 2 rows, c 1 row
    assert got == {
        "accuracy": pytest.approx(3 / 5),
        "precision_macro": pytest.approx((1 / 2 + 2 / 3 + 0) / 3),
        "recall_macro": pytest.approx((1 / 2 + 1 + 0) / 3),
        "f1_macro": pytest.approx((1 / 2 + 4 / 5 + 0) / 3),
        "precision_weighted": pytest.approx((2 * 1 / 2 + 2 * 2 / 3 + 0) / 5),
        "recall_weighted": pytest.approx((2 * 1 / 2 + 2 * 1 + 0) / 5),
        "f1_weighted": pytest.approx((2 * 1 / 2 + 2 * 4 / 5 + 0) / 5),
    }
    assert all(type(v) is float for v in got.values())


def test_labels_fix_the_classes_the_average_runs_over() -> None:
    got = classification_metrics(TRUE, PRED, labels=["a", "b"])
    assert got["recall_macro"] == pytest.approx((1 / 2 + 1) / 2)


def test_log_loss_from_predict_proba_dicts_and_from_an_array() -> None:
    proba = [{"x": 0.8, "y": 0.2}, {"x": 0.4, "y": 0.6}, {"x": 0.5, "y": 0.5}]
    expected = -(math.log(0.8) + math.log(0.6) + math.log(0.5)) / 3
    got = classification_metrics(["x", "y", "x"], ["x", "y", "x"], proba)
    assert got["log_loss"] == pytest.approx(expected) and got["accuracy"] == 1.0
    as_array = np.array([[0.8, 0.2], [0.4, 0.6], [0.5, 0.5]])
    assert classification_metrics(["x", "y", "x"], ["x", "y", "x"], as_array, labels=["x", "y"])[
        "log_loss"
    ] == pytest.approx(expected)
    # integer class labels: predict_proba keys are their strings
    int_proba = [{"1": 0.8, "2": 0.2}, {"1": 0.4, "2": 0.6}]
    assert classification_metrics([1, 2], [1, 2], int_proba)["log_loss"] == pytest.approx(
        -(math.log(0.8) + math.log(0.6)) / 2
    )


def test_regression_metrics_by_hand() -> None:
    # errors 0, 0, 0, 2: MSE 1, MAE 0.5; total sum of squares around 2.5 is 5, so R² = 1 - 4/5
    got = regression_metrics([1, 2, 3, 4], np.array([1.0, 2.0, 3.0, 6.0]))
    # MAPE: only the last row is off, by 2 of 4
    assert got == {
        "rmse": pytest.approx(1.0),
        "mae": pytest.approx(0.5),
        "mape": pytest.approx(0.5 / 4),
        "r2": pytest.approx(0.2),
    }
    assert "mape" not in regression_metrics([0, 1], [0.5, 1.0])  # undefined with a true zero: left out


def test_r2_of_a_constant_target_is_never_nan() -> None:
    assert regression_metrics([5, 5, 5], [5, 5, 5])["r2"] == 1.0
    assert regression_metrics([5, 5, 5], [5, 6, 5])["r2"] == 0.0


def test_bad_inputs_are_data_errors() -> None:
    with pytest.raises(DataError, match="3 true labels but 2 predictions"):
        classification_metrics(["a", "b", "c"], ["a", "b"])
    with pytest.raises(DataError, match="no rows"):
        regression_metrics([], [])
    with pytest.raises(DataError, match="y_true has 1 missing"):
        regression_metrics([1.0, math.nan], [1.0, 2.0])
    with pytest.raises(DataError, match=r"true label.*z.*no probability column"):
        classification_metrics(["x", "z"], ["x", "x"], [{"x": 1.0, "y": 0.0}, {"x": 1.0, "y": 0.0}])


def test_probability_metrics_roc_pr_and_calibration_by_hand() -> None:
    # binary, positive class "y": scores 0.9 (y), 0.6 (x), 0.4 (y), 0.2 (x) -> 3 of 4 pairs ordered: AUC 0.75
    proba = [{"x": 0.1, "y": 0.9}, {"x": 0.4, "y": 0.6}, {"x": 0.6, "y": 0.4}, {"x": 0.8, "y": 0.2}]
    truth = ["y", "x", "y", "x"]
    got = classification_metrics(truth, ["y", "y", "x", "x"], proba)
    assert got["roc_auc"] == pytest.approx(0.75)
    # average precision: ranks y@1 (P=1), y@3 (P=2/3) -> (1 + 2/3) / 2
    assert got["pr_auc"] == pytest.approx((1 + 2 / 3) / 2)
    # top-label confidences 0.9 (right), 0.6 (wrong), 0.6 (wrong), 0.8 (right), 10 bins:
    # bin 9: |1 - 0.9|, bin 8: |1 - 0.8|, bin 6: |0 - 0.6| x 2 rows  -> (0.1 + 0.2 + 1.2) / 4
    assert got["ece"] == pytest.approx((0.1 + 0.2 + 1.2) / 4)


def test_roc_auc_is_left_out_when_only_one_class_is_present() -> None:
    got = classification_metrics(["x", "x"], ["x", "x"], [{"x": 0.7, "y": 0.3}, {"x": 0.9, "y": 0.1}])
    assert "roc_auc" not in got and "pr_auc" not in got and "log_loss" in got


def test_perfectly_calibrated_scores_have_zero_ece() -> None:
    target = np.array([0, 0, 1, 1])
    matrix = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    assert expected_calibration_error(target, matrix) == 0.0


def test_confusion_matrix_rows_are_truth_columns_predictions() -> None:
    got = confusion(TRUE, PRED)
    assert got == {"labels": ["a", "b", "c"], "matrix": [[1, 1, 0], [0, 2, 0], [1, 0, 0]]}
