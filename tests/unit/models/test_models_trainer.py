"""Building estimators from the text of a pipeline file, and fitting them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from modelyard.errors import DataError, UsageError
from modelyard.models.trainer import build_estimator, fit_estimator

X = np.array([[0.0, 1.0], [1.0, 0.0], [0.1, 0.9], [0.9, 0.2], [0.2, 0.8], [0.8, 0.1]])
Y = ["a", "b", "a", "b", "a", "b"]


def test_class_path_builds_an_instance_with_the_seed() -> None:
    estimator = build_estimator("sklearn.linear_model.LogisticRegression", {"C": 0.5}, seed=42)
    assert type(estimator).__name__ == "LogisticRegression"
    assert estimator.get_params()["C"] == 0.5 and estimator.get_params()["random_state"] == 42


def test_explicit_random_state_wins_and_seedless_classes_are_fine() -> None:
    explicit = build_estimator("sklearn.ensemble.RandomForestClassifier", {"random_state": 3}, seed=42)
    assert explicit.get_params()["random_state"] == 3
    ridge = build_estimator("sklearn.linear_model.LinearRegression", {}, seed=42)
    assert "random_state" not in ridge.get_params()


def test_typos_in_the_path_get_suggestions() -> None:
    with pytest.raises(UsageError) as caught:
        build_estimator("sklearn.linear_modle.LogisticRegression", {}, seed=None)
    assert "no module 'sklearn.linear_modle'" in str(caught.value)
    assert "did you mean 'linear_model'?" in str(caught.value)
    with pytest.raises(UsageError) as caught:
        build_estimator("sklearn.linear_model.LogisticRegresion", {}, seed=None)
    assert "has no 'LogisticRegresion'" in str(caught.value)
    assert "did you mean 'LogisticRegression'?" in str(caught.value)
    with pytest.raises(UsageError, match="dotted class path"):
        build_estimator("LogisticRegression", {}, seed=None)
    with pytest.raises(UsageError, match="not an estimator class"):
        build_estimator("collections.OrderedDict", {}, seed=None)


def test_unknown_parameter_is_named_and_valid_ones_listed() -> None:
    with pytest.raises(UsageError) as caught:
        build_estimator("sklearn.linear_model.LogisticRegression", {"max_iters": 10}, seed=None)
    text = str(caught.value)
    assert "LogisticRegression has no parameter 'max_iters'" in text
    assert "did you mean 'max_iter'?" in text and "valid parameters: " in text and "tol" in text


def test_bad_parameter_value_fails_before_training() -> None:
    with pytest.raises(UsageError) as caught:
        build_estimator("sklearn.linear_model.LogisticRegression", {"C": "strong"}, seed=None)
    assert "'C' parameter of LogisticRegression" in str(caught.value)


def test_fit_reports_time_and_importances_by_feature_name() -> None:
    forest = build_estimator("sklearn.ensemble.RandomForestClassifier", {"n_estimators": 5}, seed=0)
    info = fit_estimator(forest, X, Y, feature_names=["left", "right"])
    assert info["training_seconds"] > 0 and (info["n_samples"], info["n_features"]) == (6, 2)
    assert set(info["feature_importances"]) == {"left", "right"} and info["importance_kind"] == "impurity"
    assert math.isclose(sum(info["feature_importances"].values()), 1.0)
    assert forest.predict([[0.0, 1.0]]).tolist() == ["a"]
    linear = build_estimator("sklearn.linear_model.LogisticRegression", {"max_iter": 1}, seed=0)
    info = fit_estimator(linear, X, Y)
    assert info["importance_kind"] == "mean_abs_coefficient" and len(info["feature_importances"]) == 2
    assert any("ConvergenceWarning" in w for w in info["warnings"])


def test_fit_refuses_bad_training_data() -> None:
    estimator = build_estimator("sklearn.linear_model.LogisticRegression", {}, seed=0)
    with pytest.raises(DataError, match="2 missing value"):
        fit_estimator(estimator, X, ["a", None, "a", "b", None, "b"])
    with pytest.raises(DataError, match="6 feature rows but 5 labels"):
        fit_estimator(estimator, X, Y[:5])
    with pytest.raises(DataError, match="training LogisticRegression failed"):
        fit_estimator(estimator, X, ["a"] * 6)  # one class only
