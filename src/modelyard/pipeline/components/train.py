"""train: fit an estimator named in the config (or a user function) on transformed features; write a model package.

Recorded automatically, so nobody has to remember: the parameters, the training time, the train and
eval scores, the digests of the data and transform it saw, and the feature importances (in the run and
in the package manifest). The seed reaches the estimator (``random_state``), the user function and
Python's and NumPy's global generators, so the same data, config and seed give the same package digest
for a deterministic estimator. With ``search``, Optuna tries candidates, each recorded as a child run.
"""

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
    search: dict[str, Any] | None = Field(default=None, description="Optuna search: n_trials, metric, direction, space")


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


def score(estimator: Any, X: Any, y: Any, task: str) -> dict[str, float]:
    """The evaluation metrics of a bare estimator on a transformed split (used for train/eval scores)."""
    from modelyard.evaluate.metrics import classification_metrics, regression_metrics

    predicted = estimator.predict(X)
    if task == "regression":
        return regression_metrics(y, predicted)
    proba = None
    if hasattr(estimator, "predict_proba"):
        proba, labels = estimator.predict_proba(X), list(getattr(estimator, "classes_", []))
        return classification_metrics(y, predicted, proba, labels=labels or None)
    return classification_metrics(y, predicted)


def _seed_everything(seed: int) -> None:
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)  # user code may draw from the legacy global generator


def _search(ctx: StepContext, params: TrainParams, task: str, data: tuple[Any, Any, Any, Any]) -> Any:
    """Optuna over ``params.search``; each trial is a child run; returns the best fitted estimator."""
    from modelyard.models.trainer import build_estimator, fit_estimator
    from modelyard.models.tuning import SearchSpec, run_search
    from modelyard.tracking.runs import start_run

    spec = SearchSpec.from_params(params.search or {})
    X_train, y_train, X_eval, y_eval = data
    fitted: dict[int, Any] = {}

    def objective(trial_params: dict[str, Any]) -> float:
        estimator = build_estimator(params.estimator, {**params.estimator_params, **trial_params}, seed=params.seed)
        fit_estimator(estimator, X_train, y_train)
        metrics = score(estimator, X_eval, y_eval, task)
        if spec.metric not in metrics:
            raise UsageError(f"search metric '{spec.metric}' is not computed; known: {', '.join(sorted(metrics))}")
        fitted[len(fitted)] = estimator
        return metrics[spec.metric]

    def record(number: int, trial_params: dict[str, Any], value: float) -> None:
        with start_run(f"{ctx.step} trial {number}", settings=ctx.settings, parent_run_id=ctx.run_id) as run:
            run.log_params(trial_params)
            run.log_metric(spec.metric, value)
            run.set_tag("trial", number)

    best_params, best_value, best_number = run_search(spec, objective, seed=params.seed, on_trial=record)
    ctx.log_params({"search.trials": spec.n_trials, "search.metric": spec.metric, "search.best_trial": best_number})
    ctx.log_params({f"search.best.{k}": v for k, v in best_params.items()})
    ctx.log_metric(f"search.best_{spec.metric}", best_value)
    return fitted[best_number], best_params


@component(
    inputs={"dataset": "dataset", "transform": "transform", "schema": "schema"},
    outputs={"model": "model"},
    params=TrainParams,
    code_params=("function",),
)
def train(ctx: StepContext) -> None:
    """Train and package: manifest, signature, fitted transform and estimator in one folder."""
    import time

    from modelyard.data.schema_io import read_schema_yaml
    from modelyard.features.code import read_transform
    from modelyard.features.values import is_missing
    from modelyard.models.package import save_package
    from modelyard.models.trainer import build_estimator, feature_importances, fit_estimator

    params: TrainParams = ctx.params
    fitted = read_transform(ctx.input("transform").path)  # with the code/ of any function transforms
    contract = read_schema_yaml(ctx.input("schema").path / "schema.yaml")
    label_column = contract.column(params.label)
    task = _task(params, label_column.type)
    dataset = ctx.input("dataset").path
    _, X_train, y_train = load_xy(dataset, "train", params.label, fitted)
    eval_frame, X_eval, y_eval = load_xy(dataset, "eval", params.label, fitted)
    names = list(fitted.feature_names_out)
    _seed_everything(params.seed)

    chosen = dict(params.estimator_params)
    if params.function:
        from modelyard.pipeline.code_refs import load_object

        user_train = load_object(params.function, base_dir=ctx.project_dir)
        started = time.perf_counter()
        estimator = user_train(
            TrainingData(X_train, y_train, names), TrainingData(X_eval, y_eval, names), {**chosen, "seed": params.seed}
        )
        info: dict[str, Any] = {"training_seconds": time.perf_counter() - started}
        found = feature_importances(estimator, names)
        if found is not None:
            info["feature_importances"], info["importance_kind"] = found
    elif params.search:
        started = time.perf_counter()
        estimator, best = _search(ctx, params, task, (X_train, y_train, X_eval, y_eval))
        chosen.update(best)
        info = {"training_seconds": time.perf_counter() - started}
        found = feature_importances(estimator, names)
        if found is not None:
            info["feature_importances"], info["importance_kind"] = found
    else:
        estimator = build_estimator(params.estimator, chosen, seed=params.seed)
        info = fit_estimator(estimator, X_train, y_train, feature_names=names)

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
    scores = {f"train_{k}": v for k, v in score(estimator, X_train, y_train, task).items()}
    scores |= {f"eval_{k}": v for k, v in score(estimator, X_eval, y_eval, task).items()}
    digests = {"dataset": ctx.input("dataset").ref.digest, "transform": ctx.input("transform").ref.digest}
    metadata: dict[str, Any] = {
        "estimator": params.function or params.estimator,
        "estimator_params": chosen,
        "seed": params.seed,
        "data_digests": digests,
        "train_rows": len(y_train),
        "eval_rows": len(y_eval),
        "training_metrics": scores,
    }
    if len(eval_frame):  # one raw record a server can warm up with and show as an example request
        example = eval_frame.drop(columns=[params.label]).iloc[0].to_dict()
        metadata["input_example"] = {
            k: (None if is_missing(v) else v.item() if hasattr(v, "item") else v)
            for k, v in example.items()
            if k in fitted.input_columns
        }
    if "feature_importances" in info:
        metadata["feature_importances"] = info["feature_importances"]
        metadata["importance_kind"] = info["importance_kind"]
    save_package(
        ctx.output_dir("model"),
        estimator=estimator,
        transform=fitted,
        task=task,
        label=params.label,
        signature=signature,
        metadata=metadata,
    )
    _write_reference(ctx, dataset / "train.parquet", X_train, names, estimator.predict(X_train))
    ctx.log_params({"estimator": params.function or params.estimator, "seed": params.seed, "task": task})
    ctx.log_params({f"estimator.{k}": v for k, v in chosen.items()})
    ctx.log_params({"dataset_digest": digests["dataset"], "transform_digest": digests["transform"]})
    ctx.log_metric("train.seconds", info["training_seconds"])
    ctx.log_metrics({f"train.{k}": v for k, v in scores.items()})
    for name, value in (info.get("feature_importances") or {}).items():
        ctx.log_metric(f"importance.{name}", value)
    if info.get("warnings"):
        ctx.set_tag("training_warnings", "; ".join(info["warnings"]))
    ctx.set_properties("model", task=task, label=params.label, train_rows=len(y_train))


def _write_reference(ctx: StepContext, train_file: Any, X_train: Any, names: list[str], predicted: Any) -> None:
    """The training reference a monitor compares live traffic with travels inside the package."""
    from modelyard.models.reference import build_reference, write_reference

    schema_file = ctx.input("schema").path / "schema.yaml"
    parts = build_reference(train_file, X_train, names, [p.item() if hasattr(p, "item") else p for p in predicted])
    write_reference(ctx.output_dir("model"), parts, schema_file.read_text(encoding="utf-8"))
