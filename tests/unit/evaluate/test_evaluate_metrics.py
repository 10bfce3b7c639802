"""Metrics against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from modelyard.errors import DataError
from modelyard.evaluate.metrics import classification_metrics, regression_metrics

TRUE = ["a", "a", "b", "b", "c"]
PRED = ["a", "b", "b", "b", "a"]
# per class: a  P=1/2 R=1/2 F1=1/2;  b  P=2/3 R=1 F1=4/5;  c  no predictions: P=R=F1=0


def test_classification_metrics_by_hand() -> None:
    got = classification_metrics(TRUE, PRED)
    assert got == {
        "accuracy": pytest.approx(3 / 5),
        "precision_macro": pytest.approx((1 / 2 + 2 / 3 + 0) / 3),
        "recall_macro": pytest.approx((1 / 2 + 1 + 0) / 3),
        "f1_macro": pytest.approx((1 / 2 + 4 / 5 + 0) / 3),
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
    assert got == {"rmse": pytest.approx(1.0), "mae": pytest.approx(0.5), "r2": pytest.approx(0.2)}


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
