"""validate: check the statistics of every split against the schema; an error-severity anomaly fails the step."""

from __future__ import annotations

from dataclasses import replace

from pydantic import BaseModel, ConfigDict

from modelyard.core.anomalies import Anomalies
from modelyard.errors import StepFailed
from modelyard.pipeline.component import component
from modelyard.pipeline.components.statistics import SPLITS, load_statistics
from modelyard.pipeline.context import StepContext


class ValidateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    environment: str | None = None


@component(
    inputs={"statistics": "statistics", "schema": "schema"}, outputs={"anomalies": "anomalies"}, params=ValidateParams
)
def validate(ctx: StepContext) -> None:
    """Write anomalies.json and report.html; raise when any anomaly has error severity."""
    from modelyard.data.report import statistics_html
    from modelyard.data.schema_io import read_schema_yaml
    from modelyard.data.validation import validate_statistics

    params: ValidateParams = ctx.params
    contract = read_schema_yaml(ctx.input("schema").path / "schema.yaml")
    stats = {split: load_statistics(ctx.input("statistics").path, split) for split in SPLITS}
    found = {split: validate_statistics(s, contract, environment=params.environment) for split, s in stats.items()}
    ctx.write_json("anomalies", "anomalies.json", {split: a.to_dict() for split, a in found.items()})
    errors = [(split, a) for split, anomalies in found.items() for a in anomalies.errors]
    warnings = sum(len(anomalies.warnings) for anomalies in found.values())
    every = Anomalies(tuple(replace(a, message=f"{split}: {a.message}") for split in found for a in found[split]))
    html = statistics_html(stats, anomalies=every, title=f"Validation — {ctx.step}")
    (ctx.output_dir("anomalies") / "report.html").write_text(html, encoding="utf-8")
    ctx.set_properties("anomalies", errors=len(errors), warnings=warnings, valid=not errors)
    if errors:
        split, first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise StepFailed(f"{split} data breaks the schema: {first.message}{more}", hint="see the anomalies report")
