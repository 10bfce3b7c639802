"""train: fit an estimator named in the config (or a user function) on transformed features; write a model package."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from modelyard.errors import UsageError
from modelyard.pipeline.component import component
from modelyard.pipeline.components.transform import feature_columns
from modelyard.pipeline.context import StepContext


class TrainParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str
    task: str = Field(default="auto", pattern="^(auto|classification|regression)$")
    estimator: str = "sklearn.linear_model.LogisticRegression"
    estimator_params: dict[str, Any] = Field(default_factory=dict)
    function: str | None = Field(default=None, description="user code 'file.py:function' instead of estimator")
    seed: int = 0


@dataclass(frozen=True)
class TrainingData:
    """What a user train function receives: transformed features, the label and the feature names."""

    X: Any
    y: Any
    feature_names: list[str]


def _task(params: TrainParams, label_type: str) -> str:
    if params.task != "auto":
        return params.task
    return "regression" if label_type in ("int", "float") else "classification"


def load_xy(dataset_dir: Any, split: str, label: str, fitted: Any) -> tuple[Any, Any, Any]:
    """Raw frame, transformed features and label of one split; rows without a label are dropped."""
    import pyarrow.parquet as pq

    table = pq.read_table(dataset_dir / f"{split}.parquet")
    frame = table.to_pandas()
    if label not in frame.columns:
        raise UsageError(f"label column '{label}' is not in the {split} split")
    frame = frame[frame[label].notna()].reset_index(drop=True)
    return frame, fitted.apply_batch(frame), frame[label].to_numpy()


@component(
    inputs={"dataset": "dataset", "transform": "transform", "schema": "schema"},
    outputs={"model": "model"},
    params=TrainParams,
    code_params=("function",),
)
def train(ctx: StepContext) -> None:
    """Train and package: manifest, signature, fitted transform and estimator in one folder."""
    from modelyard.data.schema_io import read_schema_yaml
    from modelyard.features.transform import FittedTransform
    from modelyard.models.package import save_package
    from modelyard.models.trainer import build_estimator, fit_estimator

    params: TrainParams = ctx.params
    fitted = FittedTransform.from_dict(ctx.input("transform").read_json("transform.json"))
    contract = read_schema_yaml(ctx.input("schema").path / "schema.yaml")
    label_column = contract.column(params.label)
    task = _task(params, label_column.type)
    dataset = ctx.input("dataset").path
    _, X_train, y_train = load_xy(dataset, "train", params.label, fitted)
    _, X_eval, y_eval = load_xy(dataset, "eval", params.label, fitted)

    if params.function:
        from modelyard.pipeline.code_refs import load_object

        user_train = load_object(params.function, base_dir=ctx.project_dir)
        estimator = user_train(
            TrainingData(X_train, y_train, list(fitted.feature_names_out)),
            TrainingData(X_eval, y_eval, list(fitted.feature_names_out)),
            {**params.estimator_params, "seed": params.seed},
        )
        info: dict[str, Any] = {}
    else:
        estimator = build_estimator(params.estimator, params.estimator_params, seed=params.seed)
        info = fit_estimator(estimator, X_train, y_train)

    inputs = feature_columns(contract, params.label, [])
    signature = {
        "inputs": [
            {
                "name": column.name,
                "type": column.type,
                "nullable": column.nullable,
                **({"domain": list(column.domain)} if column.domain else {}),
            }
            for column in contract.columns
            if column.name in inputs and column.name in fitted.input_columns
        ],
        "outputs": [{"name": params.label, "type": label_column.type}],
    }
    save_package(
        ctx.output_dir("model"),
        estimator=estimator,
        transform=fitted,
        task=task,
        label=params.label,
        signature=signature,
        metadata={"estimator": params.function or params.estimator, "seed": params.seed},
    )
    ctx.log_params({"estimator": params.function or params.estimator, "seed": params.seed, "task": task})
    ctx.log_params({f"estimator.{k}": v for k, v in params.estimator_params.items()})
    if "training_seconds" in info:
        ctx.log_metric("train.seconds", info["training_seconds"])
    ctx.set_properties("model", task=task, label=params.label, train_rows=len(y_train))
