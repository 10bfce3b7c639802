"""The linear fast path gives exactly what the estimator's own predict gives, or is not used."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import (
    LinearRegression,
    LogisticRegression,
    Perceptron,
    Ridge,
    RidgeClassifier,
    SGDClassifier,
)
from sklearn.svm import LinearSVC, LinearSVR

from modelyard.models.linear_fast import LinearPredict, linear_predict

RNG = np.random.default_rng(5)
X = RNG.normal(size=(400, 12))
LABELS = {
    2: np.where(X[:, 0] + X[:, 1] > 0, "yes", "no"),
    3: np.array(["a", "b", "c"])[np.argmax(X[:, :3], axis=1)],
}


@pytest.mark.parametrize("classes", [2, 3])
@pytest.mark.parametrize(
    "make",
    [lambda: LogisticRegression(max_iter=500), lambda: SGDClassifier(random_state=0), LinearSVC, Perceptron],
)
def test_classifiers_answer_exactly_as_their_own_predict(make, classes) -> None:
    estimator = make().fit(X, LABELS[classes])
    fast = linear_predict(estimator)
    assert fast is not None
    fresh = RNG.normal(size=(257, 12)) * 3
    assert np.array_equal(fast(fresh), estimator.predict(fresh))
    assert np.array_equal(fast(fresh[:1]), estimator.predict(fresh[:1]))


def test_regressors_answer_exactly_as_their_own_predict() -> None:
    y = X @ RNG.normal(size=12) + 0.1 * RNG.normal(size=400)
    estimator = LinearSVR(max_iter=20_000).fit(X, y)
    fast = linear_predict(estimator)
    assert fast is not None
    fresh = RNG.normal(size=(50, 12))
    assert np.array_equal(fast(fresh), estimator.predict(fresh))


def test_estimators_with_their_own_predict_are_not_taken_over() -> None:
    class Shifted(LogisticRegression):
        def predict(self, x):  # a user's subclass: its own rule must run
            return super().predict(x + 1)

    assert linear_predict(Shifted(max_iter=500).fit(X, LABELS[2])) is None
    for own in (Ridge(), LinearRegression(), RidgeClassifier()):  # predict methods of their own: not taken over
        assert linear_predict(own.fit(X, LABELS[2] == "yes")) is None


def test_a_matrix_with_nan_goes_to_the_estimator_and_a_difference_disables_the_fast_path() -> None:
    estimator = LogisticRegression(max_iter=500).fit(X, LABELS[2])
    wrapped = LinearPredict(estimator)
    bad = X[:3].copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        wrapped(bad)  # scikit-learn's own error, as without the fast path
    assert np.array_equal(wrapped(X[:20]), estimator.predict(X[:20])) and wrapped._trusted
    other = LinearPredict(estimator)
    other._fast = lambda x: np.full(len(x), "yes")  # a fast path that disagrees on its first batch
    assert np.array_equal(other(X[:20]), estimator.predict(X[:20]))
    assert not other.active
