"""The training reference a model package carries: what its data looked like when it was trained.

Why inside the package: a monitor comparing live traffic with training data must not depend on the
training run's artifacts still being around, nor on which pipeline built the model. The package is the
one thing a server and a monitor both hold, so the reference travels in it (``reference/``):

    reference/inputs.json       statistics of the raw training rows (the label included)
    reference/features.json     statistics of the same rows after the fitted transform (for skew)
    reference/predictions.json  statistics of the model's own predictions on those rows
    reference/schema.yaml       the data contract it was trained under (thresholds, domains)

Statistics are the same JSON as a statistics artifact, so drift is a statistics comparison and costs
nothing on the reference side. The files are deterministic (sorted keys), so the package digest stays
reproducible.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelyard.core.schema import Schema
from modelyard.core.statistics import DatasetStatistics

REFERENCE_DIR = "reference"
PREDICTION_COLUMN = "prediction"
_PARTS = ("inputs", "features", "predictions")


@dataclass(frozen=True)
class ModelReference:
    """The training-time statistics of a model (any part may be missing in an older package)."""

    inputs: DatasetStatistics | None
    features: DatasetStatistics | None
    predictions: DatasetStatistics | None
    schema: Schema | None


def statistics_of_table(table: Any) -> DatasetStatistics:
    """Statistics of an in-memory Arrow table, by the same engine as any dataset (via a temporary Parquet)."""
    import pyarrow.parquet as pq

    from modelyard.data.statistics import compute_statistics

    with tempfile.TemporaryDirectory(prefix="modelyard-reference-") as folder:
        path = Path(folder) / "columns.parquet"
        pq.write_table(table, path)
        stats = compute_statistics(path)
    return unlabelled(stats)


def statistics_of_columns(columns: dict[str, Any]) -> DatasetStatistics:
    """Statistics of named columns (NumPy arrays or lists)."""
    import pyarrow as pa

    return statistics_of_table(pa.table(columns))


def unlabelled(stats: DatasetStatistics) -> DatasetStatistics:
    """Statistics without the temporary file name, so the package bytes do not depend on a temp path."""
    from dataclasses import replace

    return replace(stats, source=None)


def build_reference(
    train_file: Path, features: Any, feature_names: list[str], predictions: list[Any]
) -> dict[str, DatasetStatistics]:
    """Reference statistics from the raw training file, its transformed matrix and the model's predictions."""
    import numpy as np

    from modelyard.data.statistics import compute_statistics

    matrix = np.asarray(features, dtype=np.float64)
    return {
        "inputs": unlabelled(compute_statistics(train_file)),
        "features": statistics_of_columns({name: matrix[:, i] for i, name in enumerate(feature_names)}),
        "predictions": statistics_of_columns({PREDICTION_COLUMN: list(predictions)}),
    }


def write_reference(package_dir: Path, parts: dict[str, DatasetStatistics], schema_yaml: str | None) -> None:
    folder = Path(package_dir) / REFERENCE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for name, stats in parts.items():
        text = json.dumps(stats.to_dict(), sort_keys=True, indent=1, default=str)
        (folder / f"{name}.json").write_text(text, encoding="utf-8")
    if schema_yaml is not None:
        (folder / "schema.yaml").write_text(schema_yaml, encoding="utf-8")


def read_reference(package_dir: Path) -> ModelReference:
    """The reference of a package folder; parts an older package lacks are None."""
    folder = Path(package_dir) / REFERENCE_DIR
    found: dict[str, DatasetStatistics | None] = {}
    for name in _PARTS:
        path = folder / f"{name}.json"
        found[name] = DatasetStatistics.from_dict(json.loads(path.read_text("utf-8"))) if path.is_file() else None
    schema = None
    if (folder / "schema.yaml").is_file():
        from modelyard.data.schema_io import read_schema_yaml

        schema = read_schema_yaml(folder / "schema.yaml")
    return ModelReference(found["inputs"], found["features"], found["predictions"], schema)
