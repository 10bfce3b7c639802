"""evaluate: score the model on the eval split, overall and per slice, against thresholds and the current
champion; write the evaluation (metrics, slices, curves, every prediction, an HTML report) and a blessing.

The predictions are stored with their row positions in the eval split so anyone can later check that
the registered package, loaded elsewhere, predicts exactly what was evaluated (no training/serving skew).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from modelyard.pipeline.component import component
from modelyard.pipeline.context import StepContext


class EvaluateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str
    thresholds: dict[str, dict[str, Any]] = Field(default_factory=dict)
    slices: list[Any] = Field(default_factory=list, description="columns, crosses or numeric buckets to slice by")
    slice_thresholds: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="absolute bounds every slice with min_slice_rows rows must meet"
    )
    min_slice_rows: int = Field(default=10, ge=1)
    model_name: str | None = Field(default=None, description="registered model whose champion is the baseline")


class Scored:
    """One model's predictions on the eval rows, and metrics on any subset of them."""

    def __init__(self, package: Any, features: Any, y_true: list[Any]) -> None:
        self.task: str = package.manifest["task"]
        self.y_true = y_true
        self.predictions: list[Any] = package.predict(features)
        self.probabilities: list[dict[str, float]] | None = None
        if self.task == "classification" and hasattr(package.estimator, "predict_proba"):
            self.probabilities = package.predict_proba(features)

    def metrics(self, rows: list[int] | None = None) -> dict[str, float]:
        from modelyard.evaluate.metrics import classification_metrics, regression_metrics

        pick = (lambda values: values) if rows is None else (lambda values: [values[i] for i in rows])
        if self.task == "regression":
            return regression_metrics(pick(self.y_true), pick(self.predictions))
        proba = None if self.probabilities is None else pick(self.probabilities)
        return classification_metrics(pick(self.y_true), pick(self.predictions), proba)


def _with_slices(scored: Scored, params: EvaluateParams, column_values: dict[str, list[Any]]) -> tuple[dict, dict]:
    """(metrics including ``gap.*``, slices) for one model."""
    from modelyard.evaluate.slices import compute_slices, parse_slicings

    metrics = scored.metrics()
    slicings = parse_slicings(params.slices, list(column_values))
    slices = compute_slices(slicings, column_values, scored.metrics, min_rows=params.min_slice_rows)
    metrics.update({f"gap.{name}": gap["gap"] for name, gap in slices["gaps"].items()})
    return metrics, slices


def _note(verdict: dict[str, Any], champion: str | None, metrics: dict, baseline: dict | None) -> str:
    failed = [check["reason"] for check in verdict["checks"] if not check["passed"]]
    text = "blessed" if verdict["blessed"] else "not blessed: " + "; ".join(failed)
    compared = [c for c in verdict["checks"] if c["kind"].startswith("baseline") and c.get("baseline") is not None]
    if champion and baseline is not None:
        shown = compared[0]["metric"] if compared else next(iter(metrics))
        text += f" · {shown} {metrics[shown]:.4g} vs champion {champion} {baseline.get(shown, float('nan')):.4g}"
    return text


def _champion(params: EvaluateParams, store: Any, inputs: dict[str, str]) -> dict[str, str]:
    """The champion is the baseline, so a promote or rollback must invalidate a cached evaluation.

    A model that is itself the champion has no baseline, exactly as when there is no champion yet: so the
    run after the first one (whose model became champion) still reuses the evaluation.
    """
    if not params.model_name:
        return {}
    from modelyard.errors import NotFound
    from modelyard.registry.registry import Registry

    try:
        version = Registry(store).resolve(params.model_name, "champion")
    except NotFound:
        return {"champion": "none"}
    return {"champion": "none" if version.digest == inputs.get("model") else version.digest}


@component(
    inputs={"model": "model", "dataset": "dataset"},
    outputs={"evaluation": "evaluation", "blessing": "blessing"},
    params=EvaluateParams,
    cache_context=_champion,
)
def evaluate(ctx: StepContext) -> None:
    """Compute metrics on the eval split and its slices; bless the model when every threshold holds."""
    import numpy as np
    import pyarrow.parquet as pq

    from modelyard.errors import UsageError, did_you_mean
    from modelyard.evaluate.blessing import judge
    from modelyard.evaluate.curves import classification_curves
    from modelyard.evaluate.metrics import confusion
    from modelyard.evaluate.report import render_report
    from modelyard.models.package import load_package

    params: EvaluateParams = ctx.params
    package = load_package(ctx.input("model").path)
    frame = pq.read_table(ctx.input("dataset").path / "eval.parquet").to_pandas()
    if params.label not in frame.columns:
        raise UsageError(
            f"label column '{params.label}' is not in the eval split", hint=did_you_mean(params.label, frame.columns)
        )
    labelled = frame[params.label].notna().to_numpy()
    positions = np.flatnonzero(labelled).tolist()
    frame = frame[labelled].reset_index(drop=True)
    y_true = frame[params.label].tolist()
    features = frame.drop(columns=[params.label])
    column_values = {str(c): frame[c].tolist() for c in frame.columns}

    scored = Scored(package, features, y_true)
    metrics, slices = _with_slices(scored, params, column_values)

    baseline, champion = None, None
    if params.model_name:
        from modelyard.registry.loader import find_champion_package

        found = find_champion_package(ctx.settings, params.model_name)
        is_itself = found is not None and Path(found[1].path).resolve() == ctx.input("model").path.resolve()
        if found is not None and not is_itself and found[1].manifest.get("label") == params.label:
            champion, champion_package = found
            baseline, _ = _with_slices(Scored(champion_package, features, y_true), params, column_values)

    verdict = judge(
        metrics, params.thresholds, baseline=baseline, slices=slices, slice_thresholds=params.slice_thresholds
    )
    evaluation: dict[str, Any] = {
        "metrics": metrics,
        "baseline": baseline,
        "champion": champion,
        "rows": len(y_true),
        "task": scored.task,
        "slices": slices,
    }
    if scored.task == "classification":
        classes = [str(c) for c in package.classes or sorted({str(v) for v in y_true + scored.predictions})]
        evaluation["confusion"] = confusion(y_true, scored.predictions, labels=classes)
        if scored.probabilities is not None:
            evaluation["curves"] = classification_curves(y_true, scored.probabilities)
    ctx.write_json("evaluation", "metrics.json", evaluation)
    ctx.write_json(
        "evaluation",
        "predictions.json",
        {
            "dataset_digest": ctx.input("dataset").ref.digest,
            "split": "eval",
            "positions": positions,
            "label": y_true,
            "predictions": scored.predictions,
            "probabilities": scored.probabilities,
        },
    )
    blessing = {**verdict, "champion": champion}
    ctx.write_json("blessing", "blessing.json", blessing)
    html = render_report(evaluation, blessing, title=f"Evaluation of {params.model_name or 'the model'}")
    (ctx.output_dir("evaluation") / "report.html").write_text(html, encoding="utf-8")
    ctx.set_properties(
        "evaluation", **{k: round(v, 6) for k, v in metrics.items() if isinstance(v, float) and "." not in k}
    )
    ctx.set_properties("blessing", blessed=bool(verdict["blessed"]), champion=champion)
    ctx.log_metrics({f"eval.{k}": v for k, v in metrics.items() if isinstance(v, int | float)})
    ctx.note = _note(verdict, champion, metrics, baseline)
