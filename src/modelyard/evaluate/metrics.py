"""Evaluation metrics computed from labels, predictions and (for classifiers) probabilities.

Metric names are part of the product's vocabulary (thresholds in ``pipeline.yaml`` refer to them, the
registry stores them, the champion comparison reads them), so they are fixed here:

* classification: ``accuracy``; ``precision``/``recall``/``f1`` as ``_macro`` and ``_weighted``; and,
  when probabilities are given, ``log_loss``, ``roc_auc``, ``pr_auc`` and ``ece`` (expected calibration
  error); the confusion matrix comes from :func:`confusion`;
* regression: ``rmse``, ``mae``, ``mape``, ``r2``.

Macro averages weigh every class the same, so a model that ignores a rare class shows it; weighted ones
follow the class mix, which is what a user's accuracy-like intuition expects. A class with no predicted
(or no true) examples counts as 0 precision (or recall) rather than raising. A metric that is undefined
on the data (ROC AUC when only one class is present, MAPE when a true value is 0) is left out instead of
being NaN, because a threshold compared with NaN can neither pass nor fail honestly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from modelyard.errors import DataError
from modelyard.features.values import is_missing

HIGHER_IS_BETTER = frozenset(
    {
        "accuracy", "precision_macro", "recall_macro", "f1_macro", "precision_weighted", "recall_weighted",
        "f1_weighted", "roc_auc", "pr_auc", "r2",
    }
)  # fmt: skip
LOWER_IS_BETTER = frozenset({"log_loss", "ece", "rmse", "mae", "mape"})
CALIBRATION_BINS = 10


def higher_is_better(metric: str) -> bool | None:
    """The direction of a known metric (``gap.*`` is always lower-is-better); None when unknown."""
    if metric.startswith("gap."):
        return False
    if metric in HIGHER_IS_BETTER:
        return True
    if metric in LOWER_IS_BETTER:
        return False
    return None


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


def probability_matrix(y_proba: Any, labels: Sequence[Any] | None = None) -> tuple[list[str], Any]:
    """(class keys, rows x classes float matrix) from ``predict_proba`` dicts or an array.

    With an array, ``labels`` names its columns in order; with dicts the keys are the class labels as
    strings (``labels`` fixes their order when given).
    """
    import numpy as np

    if isinstance(y_proba, Sequence) and y_proba and isinstance(y_proba[0], Mapping):
        keys = [str(k) for k in (labels if labels is not None else y_proba[0].keys())]
        try:
            matrix = np.array([[float(row[k]) for k in keys] for row in y_proba], dtype=np.float64)
        except KeyError as exc:
            raise DataError(f"a probability row has no entry for class {exc.args[0]!r}") from exc
        return keys, matrix
    matrix = np.asarray(y_proba, dtype=np.float64)
    if matrix.ndim != 2:
        raise DataError(f"probabilities must be one row per example, got shape {matrix.shape}")
    keys = [str(k) for k in labels] if labels is not None else [str(i) for i in range(matrix.shape[1])]
    if len(keys) != matrix.shape[1]:
        raise DataError(f"{matrix.shape[1]} probability columns but {len(keys)} labels")
    return keys, matrix


def _target_index(truth: list[Any], keys: list[str]) -> Any:
    import numpy as np

    position = {k: i for i, k in enumerate(keys)}
    unknown = sorted({str(y) for y in truth} - set(keys), key=str)
    if unknown:
        raise DataError(
            f"true label(s) {', '.join(unknown)} have no probability column",
            hint="probabilities must cover every class",
        )
    return np.array([position[str(y)] for y in truth], dtype=np.intp)


def expected_calibration_error(target: Any, matrix: Any, bins: int = CALIBRATION_BINS) -> float:
    """Top-label ECE: the row-weighted gap between confidence and accuracy over equal-width bins."""
    import numpy as np

    confidence = matrix.max(axis=1)
    correct = (matrix.argmax(axis=1) == target).astype(np.float64)
    which = np.minimum((confidence * bins).astype(np.intp), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += abs(float(correct[mask].mean()) - float(confidence[mask].mean())) * int(mask.sum())
    return total / len(target)


def _probability_metrics(truth: list[Any], y_proba: Any, labels: Sequence[Any] | None) -> dict[str, float]:
    import numpy as np
    from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

    if len(y_proba) != len(truth):
        raise DataError(f"{len(truth)} true labels but {len(y_proba)} probability rows")
    keys, matrix = probability_matrix(y_proba, labels)
    target = _target_index(truth, keys)
    out: dict[str, float] = {}
    try:
        out["log_loss"] = float(log_loss(target, matrix, labels=list(range(len(keys)))))
    except ValueError as exc:
        raise DataError(f"cannot compute log loss: {exc}") from exc
    present = np.unique(target)
    if len(present) > 1:
        onehot = np.zeros_like(matrix)
        onehot[np.arange(len(target)), target] = 1.0
        cols = [c for c in range(len(keys)) if c in set(present.tolist())]
        if len(keys) == 2:
            out["roc_auc"] = float(roc_auc_score(onehot[:, 1], matrix[:, 1]))
            out["pr_auc"] = float(average_precision_score(onehot[:, 1], matrix[:, 1]))
        else:  # one-vs-rest, averaged over the classes present (a missing class has no curve)
            out["roc_auc"] = float(np.mean([roc_auc_score(onehot[:, c], matrix[:, c]) for c in cols]))
            out["pr_auc"] = float(np.mean([average_precision_score(onehot[:, c], matrix[:, c]) for c in cols]))
    out["ece"] = expected_calibration_error(target, matrix)
    return out


def classification_metrics(
    y_true: Any, y_pred: Any, y_proba: Any = None, labels: Sequence[Any] | None = None
) -> dict[str, float]:
    """Accuracy, macro and weighted precision/recall/F1 and, given probabilities, log loss, ROC AUC,
    PR AUC and ECE.

    ``y_proba`` is either what ``ModelPackage.predict_proba`` returns (one ``{class: p}`` dict per row)
    or an array with one column per entry of ``labels`` (in that order). ``labels`` fixes which classes
    the macro averages run over (default: every class seen in ``y_true`` or ``y_pred``).
    """
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    truth = _labels(y_true, "y_true")
    predicted = _labels(y_pred, "y_pred")
    _same_length(truth, predicted)
    out: dict[str, float] = {}
    try:
        out["accuracy"] = float(accuracy_score(truth, predicted))
        for average in ("macro", "weighted"):
            precision, recall, f1, _ = precision_recall_fscore_support(
                truth, predicted, labels=labels, average=average, zero_division=0
            )
            out[f"precision_{average}"] = float(precision)
            out[f"recall_{average}"] = float(recall)
            out[f"f1_{average}"] = float(f1)
    except (TypeError, ValueError) as exc:
        raise DataError(f"cannot compare labels and predictions: {exc}") from exc
    if y_proba is not None:
        out.update(_probability_metrics(truth, y_proba, labels))
    return out


def confusion(y_true: Any, y_pred: Any, labels: Sequence[Any] | None = None) -> dict[str, Any]:
    """``{"labels": [...], "matrix": [[count]]}``: rows are true classes, columns predicted ones."""
    truth = _labels(y_true, "y_true")
    predicted = _labels(y_pred, "y_pred")
    _same_length(truth, predicted)
    keys = [str(k) for k in labels] if labels is not None else sorted({str(v) for v in truth + predicted})
    index = {k: i for i, k in enumerate(keys)}
    matrix = [[0] * len(keys) for _ in keys]
    for t, p in zip(truth, predicted, strict=True):
        if str(t) in index and str(p) in index:
            matrix[index[str(t)]][index[str(p)]] += 1
    return {"labels": keys, "matrix": matrix}


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    """Root mean squared error, mean absolute error, mean absolute percentage error and R².

    R² is 1.0 for a perfect fit; when the true values do not vary at all (R² undefined) it is 1.0 for
    a perfect fit and 0.0 otherwise, so a metric table never holds NaN. MAPE is a fraction (0.05 = 5%)
    and is left out when a true value is 0.
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
    out = {"rmse": float(np.sqrt(np.mean(error**2))), "mae": float(np.mean(np.abs(error)))}
    if np.all(t != 0):
        out["mape"] = float(np.mean(np.abs(error / t)))
    out["r2"] = r2
    return out
