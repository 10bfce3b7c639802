"""evaluate: score the model on the eval split, against thresholds and the current champion; write a blessing."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from modelyard.pipeline.component import component
from modelyard.pipeline.components.train import load_xy
from modelyard.pipeline.context import StepContext


class EvaluateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str
    thresholds: dict[str, dict[str, float]] = Field(default_factory=dict)
    model_name: str | None = Field(default=None, description="registered model whose champion is the baseline")


def _score(package: Any, frame: Any, y_true: Any) -> dict[str, float]:
    from modelyard.evaluate.metrics import classification_metrics, regression_metrics

    features = frame.drop(columns=[package.manifest["label"]])
    predictions = package.predict(features)
    if package.manifest["task"] == "regression":
        return regression_metrics(y_true, predictions)
    try:
        probabilities = package.predict_proba(features)
    except Exception:
        probabilities = None
    return classification_metrics(y_true, predictions, probabilities)


@component(
    inputs={"model": "model", "dataset": "dataset"},
    outputs={"evaluation": "evaluation", "blessing": "blessing"},
    params=EvaluateParams,
)
def evaluate(ctx: StepContext) -> None:
    """Compute metrics on the eval split; bless the model when every threshold holds."""
    from modelyard.evaluate.blessing import judge
    from modelyard.models.package import load_package

    params: EvaluateParams = ctx.params
    package = load_package(ctx.input("model").path)
    frame, _, y_true = load_xy(ctx.input("dataset").path, "eval", params.label, package.transform)
    metrics = _score(package, frame, y_true)

    baseline, champion = None, None
    if params.model_name:
        from modelyard.registry.loader import find_champion_package

        found = find_champion_package(ctx.settings, params.model_name)
        if found is not None and found[1].manifest.get("label") == params.label:
            champion, champion_package = found
            baseline = _score(champion_package, frame, y_true)

    verdict = judge(metrics, params.thresholds, baseline=baseline)
    ctx.write_json(
        "evaluation",
        "metrics.json",
        {"metrics": metrics, "baseline": baseline, "champion": champion, "rows": len(y_true)},
    )
    ctx.write_json("blessing", "blessing.json", {**verdict, "champion": champion})
    ctx.set_properties("evaluation", **{k: round(v, 6) for k, v in metrics.items() if isinstance(v, float)})
    ctx.set_properties("blessing", blessed=bool(verdict["blessed"]))
    ctx.log_metrics({f"eval.{k}": v for k, v in metrics.items() if isinstance(v, int | float)})
    failed = [check["reason"] for check in verdict["checks"] if not check["passed"]]
    ctx.note = "blessed" if verdict["blessed"] else "not blessed: " + "; ".join(failed)
