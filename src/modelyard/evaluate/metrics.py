"""Evaluation metrics computed from labels and predictions.

Metric names are part of the product's vocabulary (thresholds in ``pipeline.yaml`` refer to them, the
registry stores them, the champion comparison reads them), so they are fixed here:

* classification: ``accuracy``, ``precision_macro``, ``recall_macro``, ``f1_macro`` and, when
  probabilities are given, ``log_loss``;
* regression: ``rmse``, ``mae``, ``r2``.

Macro averages weigh every class the same, so a model that ignores a rare class shows it; a class
with no predicted (or no true) examples counts as 0 precision (or recall) rather than raising.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from modelyard.errors import DataError
from modelyard.features.values import is_missing

HIGHER_IS_BETTER = frozenset({"accuracy", "precision_macro", "recall_macro", "f1_macro", "r2"})
LOWER_IS_BETTER = frozenset({"log_loss", "rmse", "mae"})


def _labels(values: Any, what: str) -> list[Any]:
    out = list(values.tolist() if hasattr(values, "tolist") else values)
    missing = sum(1 for v in out if is_missing(v))
    if missing:
        raise DataError(f"{what} has {missing} missing value(s)", hint="drop unlabeled rows before evaluating")
    return out


def _same_length(y_true: Sequence[Any], y_pred: Sequence[Any]) -> None:
    if len(y_true) != len(y_pred):
        raise DataError(f"{len(y_true)} true labels but {len(y_pred)} predictions")
    if not y_true:
        raise DataError("nothing to evaluate: no rows", hint="the evaluation split is empty")


def _proba_matrix(y_proba: Any, y_true: list[Any], labels: Sequence[Any] | None) -> tuple[Any, Any, Any]:
    """(y for log_loss, probability matrix, labels for log_loss), from dicts or an array."""
    import numpy as np

    if isinstance(y_proba, Sequence) and y_proba and isinstance(y_proba[0], Mapping):
        keys = [str(k) for k in (labels if labels is not None else y_proba[0].keys())]
        position = {k: i for i, k in enumerate(keys)}
        try:
            matrix = np.array([[float(row[k]) for k in keys] for row in y_proba], dtype=np.float64)
        except KeyError as exc:
            raise DataError(f"a probability row has no entry for class {exc.args[0]!r}") from exc
        unknown = sorted({str(y) for y in y_true} - set(keys), key=str)
        if unknown:
            raise DataError(
                f"true label(s) {', '.join(unknown)} have no probability column",
                hint="probabilities must cover every class",
            )
        return [position[str(y)] for y in y_true], matrix, list(range(len(keys)))
    matrix = np.asarray(y_proba, dtype=np.float64)
    return y_true, matrix, (list(labels) if labels is not None else None)


def classification_metrics(
    y_true: Any, y_pred: Any, y_proba: Any = None, labels: Sequence[Any] | None = None
) -> dict[str, float]:
    """Accuracy, macro precision/recall/F1 and, given probabilities, log loss.

    ``y_proba`` is either what ``ModelPackage.predict_proba`` returns (one ``{class: p}`` dict per row)
    or an array with one column per entry of ``labels`` (in that order). ``labels`` fixes which classes
    the macro averages run over (default: every class seen in ``y_true`` or ``y_pred``).
    """
    from sklearn.metrics import accuracy_score, log_loss, precision_recall_fscore_support

    truth = _labels(y_true, "y_true")
    predicted = _labels(y_pred, "y_pred")
    _same_length(truth, predicted)
    try:
        precision, recall, f1, _ = precision_recall_fscore_support(
            truth, predicted, labels=labels, average="macro", zero_division=0
        )
        out = {
            "accuracy": float(accuracy_score(truth, predicted)),
            "precision_macro": float(precision),
            "recall_macro": float(recall),
            "f1_macro": float(f1),
        }
    except (TypeError, ValueError) as exc:
        raise DataError(f"cannot compare labels and predictions: {exc}") from exc
    if y_proba is not None:
        if len(y_proba) != len(truth):
            raise DataError(f"{len(truth)} true labels but {len(y_proba)} probability rows")
        target, matrix, proba_labels = _proba_matrix(y_proba, truth, labels)
        try:
            out["log_loss"] = float(log_loss(target, matrix, labels=proba_labels))
        except ValueError as exc:
            raise DataError(f"cannot compute log loss: {exc}") from exc
    return out


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    """Root mean squared error, mean absolute error and R².

    R² is 1.0 for a perfect fit; when the true values do not vary at all (R² undefined) it is 1.0 for
    a perfect fit and 0.0 otherwise, so a metric table never holds NaN.
    """
    import numpy as np

    truth = _labels(y_true, "y_true")
    predicted = _labels(y_pred, "y_pred")
    _same_length(truth, predicted)
    try:
        t = np.asarray(truth, dtype=np.float64)
        p = np.asarray(predicted, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"regression metrics need numbers: {exc}") from exc
    if not (np.isfinite(t).all() and np.isfinite(p).all()):
        raise DataError("regression metrics need finite numbers; found NaN or infinity")
    error = p - t
    ss_res = float(np.sum(error**2))
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else (1.0 if ss_res == 0 else 0.0)
    return {
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mae": float(np.mean(np.abs(error))),
        "r2": r2,
    }
