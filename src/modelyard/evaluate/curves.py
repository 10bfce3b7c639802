"""Curve data for the evaluation report: ROC and precision-recall per class, and the calibration bins.

Kept as plain lists (thinned to a few hundred points) so they can be stored in the evaluation artifact
and drawn later without the model or the data; a report should never need to re-run a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from modelyard.evaluate.metrics import CALIBRATION_BINS, probability_matrix

_MAX_POINTS = 200


def _thin(xs: Any, ys: Any) -> tuple[list[float], list[float]]:
    import numpy as np

    n = len(xs)
    if n > _MAX_POINTS:
        keep = np.unique(np.linspace(0, n - 1, _MAX_POINTS).round().astype(int))
        xs, ys = xs[keep], ys[keep]
    return [round(float(x), 5) for x in xs], [round(float(y), 5) for y in ys]


def classification_curves(y_true: Sequence[Any], y_proba: Any, labels: Sequence[Any] | None = None) -> dict[str, Any]:
    """``{"roc": {class: {"x", "y"}}, "pr": {...}, "calibration": [{"confidence", "accuracy", "rows"}]}``.

    One-vs-rest per class (for two classes, only the second one, the "positive" class); classes with
    no positive or no negative row have no curve.
    """
    import numpy as np
    from sklearn.metrics import precision_recall_curve, roc_curve

    keys, matrix = probability_matrix(y_proba, labels)
    position = {k: i for i, k in enumerate(keys)}
    target = np.array([position.get(str(y), -1) for y in y_true], dtype=np.intp)
    roc: dict[str, Any] = {}
    pr: dict[str, Any] = {}
    for c, key in enumerate(keys):
        if len(keys) == 2 and c == 0:
            continue
        positive = target == c
        if positive.all() or not positive.any():
            continue
        fpr, tpr, _ = roc_curve(positive, matrix[:, c])
        x, y = _thin(fpr, tpr)
        roc[key] = {"x": x, "y": y}
        precision, recall, _ = precision_recall_curve(positive, matrix[:, c])
        x, y = _thin(recall[::-1], precision[::-1])
        pr[key] = {"x": x, "y": y}
    confidence = matrix.max(axis=1)
    correct = matrix.argmax(axis=1) == target
    which = np.minimum((confidence * CALIBRATION_BINS).astype(np.intp), CALIBRATION_BINS - 1)
    calibration = []
    for b in range(CALIBRATION_BINS):
        mask = which == b
        if mask.any():
            calibration.append(
                {
                    "confidence": round(float(confidence[mask].mean()), 5),
                    "accuracy": round(float(correct[mask].mean()), 5),
                    "rows": int(mask.sum()),
                }
            )
    return {"roc": roc, "pr": pr, "calibration": calibration}
