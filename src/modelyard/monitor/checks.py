"""What the monitor computes for one window of traffic, against a model's training reference.

Four questions, each answered from statistics so that a window of a million rows costs one statistics
pass plus one batch transform:

- drift: have the raw input features moved away from the training data? (``compare_statistics`` in
  drift mode over the schema's ``serving`` columns, thresholds from the schema, chosen per column by
  type and sample size: chi-square / KS tests for small windows, distances for large ones);
- skew: do the serving inputs, after the model's own fitted transform, look like the training
  features did? (skew mode, ``skew_threshold``);
- prediction drift: do the model's answers have the distribution they had on the training data?
- quality: where labels were posted, the model's metrics on this window.

Plus the contract checks of the schema's serving environment (a new category, a missing field, NaN),
reported as anomalies as ``yard validate`` would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelyard.core.anomalies import Anomalies, DriftReport
from modelyard.core.statistics import DatasetStatistics
from modelyard.models.reference import PREDICTION_COLUMN, ModelReference

SERVING = "serving"
MIN_LABELLED = 30  # fewer labelled rows than this give no quality figure: too noisy to act on


@dataclass
class WindowChecks:
    """Everything measured on one window (statistics are kept for the report, not the JSON)."""

    drift: DriftReport
    skew: DriftReport | None
    prediction_drift: DriftReport | None
    quality: dict[str, float] | None
    anomalies: Anomalies
    current: DatasetStatistics = field(repr=False)
    predictions: DatasetStatistics | None = field(default=None, repr=False)

    @property
    def drifted(self) -> list[str]:
        return [c.column for c in self.drift.drifted]

    @property
    def skewed(self) -> list[str]:
        return [c.column for c in self.skew.drifted] if self.skew is not None else []

    @property
    def prediction_drifted(self) -> bool:
        return bool(self.prediction_drift is not None and self.prediction_drift.drifted)

    def to_dict(self) -> dict[str, Any]:
        return {
            "drifted": self.drifted,
            "skewed": self.skewed,
            "prediction_drifted": self.prediction_drifted,
            "quality": self.quality,
            "drift": self.drift.to_dict(),
            "skew": self.skew.to_dict() if self.skew is not None else None,
            "prediction_drift": self.prediction_drift.to_dict() if self.prediction_drift is not None else None,
            "anomalies": self.anomalies.to_dict(),
        }


def _serving_environment(reference: ModelReference) -> str | None:
    schema = reference.schema
    return SERVING if schema is not None and SERVING in schema.environments else None


def check_window(
    window_file: Path, package: Any, reference: ModelReference, inputs_file: Path | None = None
) -> WindowChecks:
    """Statistics of the window's inputs and predictions, compared with ``reference``; labels scored."""
    import pyarrow.parquet as pq

    from modelyard.data.drift import compare_statistics
    from modelyard.data.statistics import compute_statistics
    from modelyard.data.validation import validate_statistics
    from modelyard.models.reference import statistics_of_columns, statistics_of_table, unlabelled

    inputs = [c["name"] for c in package.signature.get("inputs", [])]
    columns = [*inputs, "prediction", "label"]
    table = pq.read_table(window_file, columns=columns)
    # the engine reads the inputs-only file itself: no copy through Python
    current = unlabelled(compute_statistics(inputs_file)) if inputs_file else statistics_of_table(table.select(inputs))
    schema = reference.schema
    environment = _serving_environment(reference)
    if reference.inputs is None:
        raise_missing_reference(package)
    drift = compare_statistics(reference.inputs, current, schema=schema, mode="drift", environment=environment)
    anomalies = Anomalies(())
    if schema is not None:  # columns the model does not take are not expected in its traffic
        found = validate_statistics(current, schema, environment=environment)
        anomalies = Anomalies(tuple(a for a in found if a.column is None or a.column in inputs))
    skew = None
    if reference.features is not None and table.num_rows:
        matrix = package.transform.apply_batch(table.select(inputs))
        names = list(package.transform.feature_names_out)
        features = statistics_of_columns({name: matrix[:, i] for i, name in enumerate(names)})
        skew = compare_statistics(reference.features, features, mode="skew")
    predicted = table.column("prediction").to_pylist()
    predictions = None
    prediction_drift = None
    if reference.predictions is not None and any(p is not None for p in predicted):
        predictions = statistics_of_columns({PREDICTION_COLUMN: predicted})
        prediction_drift = compare_statistics(reference.predictions, predictions, mode="drift")
    return WindowChecks(drift, skew, prediction_drift, _quality(table, package), anomalies, current, predictions)


def raise_missing_reference(package: Any) -> None:
    from modelyard.errors import UsageError

    raise UsageError(
        f"the model package at {package.path} carries no training reference (reference/inputs.json)",
        hint="retrain it with this version of modelyard, or give --reference DATA (a file of training data)",
    )


def _quality(table: Any, package: Any) -> dict[str, float] | None:
    """Metrics over the labelled rows, with the labelled row count; None below MIN_LABELLED rows."""
    from modelyard.evaluate.metrics import classification_metrics, regression_metrics

    pairs = [
        (label, prediction)
        for label, prediction in zip(
            table.column("label").to_pylist(), table.column("prediction").to_pylist(), strict=True
        )
        if label is not None and prediction is not None
    ]
    if len(pairs) < MIN_LABELLED:
        return None
    truth, predicted = [p[0] for p in pairs], [p[1] for p in pairs]
    if package.task == "regression":
        metrics = regression_metrics([float(t) for t in truth], [float(p) for p in predicted])
    else:
        metrics = classification_metrics([str(t) for t in truth], [str(p) for p in predicted])
    return {**metrics, "labelled_rows": float(len(pairs))}
