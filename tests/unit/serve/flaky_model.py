"""A model that fails on purpose: a python_function estimator whose predict raises for some inputs.

It wraps a fitted classifier and raises for every matrix whose first row has a first feature above
``threshold``; the tests choose the threshold so the warm-up record passes and about half of live rows fail.
"""

from __future__ import annotations

from typing import Any


class FlakyModel:
    def __init__(self, inner: Any, threshold: float) -> None:
        self.inner = inner
        self.threshold = threshold
        self.classes_ = inner.classes_
        self.n_features_in_ = inner.n_features_in_

    def predict(self, matrix: Any) -> Any:
        if len(matrix) and float(matrix[0][0]) > self.threshold:
            raise RuntimeError("flaky model: this input breaks me")
        return self.inner.predict(matrix)
