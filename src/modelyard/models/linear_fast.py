"""scikit-learn's linear models predicted by the same arithmetic, without the per-call input validation.

Why: in scikit-learn 1.9 a ``predict`` of a logistic or linear regression spends 100-200 µs per call
validating its input (dataframe detection, array-API dispatch, finiteness, feature count), while the
arithmetic is one matrix product of a few microseconds. For a served model that fixed cost is paid by every
micro-batch, and it is the largest share of the model's own time per request. A model package has already
checked every record against the signature and built the feature matrix itself (dense float64 of the fitted
width), so the validation has nothing left to find except NaN or infinity, which is checked here.

This is used only when it is the same computation: the estimator's class must use scikit-learn's own
linear ``predict`` and decision function (a subclass that overrides either is predicted by its own code),
its coefficients must be a dense float64 array, and :class:`LinearPredict` compares its answers with the
estimator's own ``predict`` on the first batch it sees, falling back for good on any difference. A matrix
holding NaN or infinity goes to the estimator, which raises its usual error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Predict = Callable[[np.ndarray], np.ndarray]


def _classifier(estimator: Any) -> Predict:
    """LinearClassifierMixin.predict: class of the largest score, or score > 0 for one column of scores."""
    coef = estimator.coef_
    coef_t = coef.T if coef.ndim == 2 else coef
    intercept, classes = estimator.intercept_, estimator.classes_

    def predict(x: np.ndarray) -> np.ndarray:
        scores = x @ coef_t + intercept
        if scores.ndim > 1 and scores.shape[1] == 1:
            scores = scores.reshape(-1)
        indices = (scores > 0).astype(np.intp) if scores.ndim == 1 else scores.argmax(axis=1)
        return classes.take(indices, axis=0)

    return predict


def _regressor(estimator: Any) -> Predict:
    """LinearModel.predict: the decision function itself."""
    coef, intercept = estimator.coef_, estimator.intercept_
    coef_t = coef.T if coef.ndim == 2 else coef

    def predict(x: np.ndarray) -> np.ndarray:
        return x @ coef_t + intercept

    return predict


def linear_predict(estimator: Any) -> Predict | None:
    """The fast equivalent of ``estimator.predict`` for scikit-learn's plain linear models, else None."""
    try:
        from sklearn.linear_model._base import LinearClassifierMixin, LinearModel
    except ImportError:  # pragma: no cover - scikit-learn is a dependency; a future layout may move these
        return None
    kind = type(estimator)
    coef = getattr(estimator, "coef_", None)
    if not isinstance(coef, np.ndarray) or coef.dtype != np.float64 or coef.ndim not in (1, 2):
        return None
    if not isinstance(getattr(estimator, "intercept_", None), np.ndarray | float):
        return None
    if (
        getattr(kind, "predict", None) is LinearClassifierMixin.predict
        and getattr(kind, "decision_function", None) is LinearClassifierMixin.decision_function
        and isinstance(getattr(estimator, "classes_", None), np.ndarray)
    ):
        return _classifier(estimator)
    if (
        getattr(kind, "predict", None) is LinearModel.predict
        and getattr(kind, "_decision_function", None) is LinearModel._decision_function
    ):
        return _regressor(estimator)
    return None


class LinearPredict:
    """``estimator.predict`` through the fast path once it has given the same answers on a real batch."""

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator
        self._fast = linear_predict(estimator)
        self._trusted = False

    @property
    def active(self) -> bool:
        return self._fast is not None

    def __call__(self, x: np.ndarray) -> Any:
        fast = self._fast
        if fast is None or not isinstance(x, np.ndarray) or x.dtype != np.float64 or not np.isfinite(x).all():
            return self.estimator.predict(x)
        if self._trusted:
            return fast(x)
        expected = self.estimator.predict(x)
        if np.array_equal(fast(x), expected):
            self._trusted = True
        else:
            self._fast = None
        return expected
