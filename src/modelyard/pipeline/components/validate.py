"""validate: check the statistics of every split against the schema; an error-severity anomaly fails the step.

With a ``reference`` input (the statistics artifact of an earlier span, or of training data for
skew) each split is also compared with the reference's split of the same name: drift or skew per
column and the change in row count. Anomalies and the report are written before the step fails, so
the reason is always recorded next to the failed execution.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Literal

from pydantic import BaseModel, ConfigDict

from modelyard.core.anomalies import Anomalies
from modelyard.errors import StepFailed
from modelyard.pipeline.component import component
from modelyard.pipeline.components.statistics import SPLITS, load_statistics
from modelyard.pipeline.context import StepContext


class ValidateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    environment: str | None = None
    mode: Literal["drift", "skew"] = "drift"
    reference_split: str | None = None  # compare every split with this split of the reference (default: same name)


@component(
    inputs={"statistics": "statistics", "schema": "schema", "reference": "statistics?"},
    outputs={"anomalies": "anomalies"},
    params=ValidateParams,
)
def validate(ctx: StepContext) -> None:
    """Write anomalies.json (and drift.json with a reference) and report.html; raise on any error."""
    from modelyard.data.drift import compare_statistics
    from modelyard.data.report import statistics_html
    from modelyard.data.schema_io import read_schema_yaml
    from modelyard.data.validation import validate_statistics

    params: ValidateParams = ctx.params
    contract = read_schema_yaml(ctx.input("schema").path / "schema.yaml")
    stats = {split: load_statistics(ctx.input("statistics").path, split) for split in SPLITS}
    reference = {}
    if ctx.has_input("reference"):
        folder = ctx.input("reference").path
        available = json.loads((folder / "statistics.json").read_text(encoding="utf-8"))
        for split in SPLITS:
            wanted = params.reference_split or split
            if wanted in available:
                reference[split] = load_statistics(folder, wanted)
    found = {
        split: validate_statistics(
            s, contract, environment=params.environment, reference=reference.get(split), mode=params.mode
        )
        for split, s in stats.items()
    }
    ctx.write_json("anomalies", "anomalies.json", {split: a.to_dict() for split, a in found.items()})
    drift = None
    if reference:
        reports = {
            split: compare_statistics(
                reference[split], stats[split], schema=contract, mode=params.mode, environment=params.environment
            )
            for split in stats
            if split in reference
        }
        ctx.write_json("anomalies", "drift.json", {split: r.to_dict() for split, r in reports.items()})
        drift = reports.get("train")
    errors = [(split, a) for split, anomalies in found.items() for a in anomalies.errors]
    warnings = sum(len(anomalies.warnings) for anomalies in found.values())
    every = Anomalies(tuple(replace(a, message=f"{split}: {a.message}") for split in found for a in found[split]))
    shown = dict(stats)
    if "train" in reference:
        shown = {"reference train": reference["train"], **stats}
    html = statistics_html(shown, anomalies=every, title=f"Validation — {ctx.step}", drift=drift)
    (ctx.output_dir("anomalies") / "report.html").write_text(html, encoding="utf-8")
    ctx.set_properties("anomalies", errors=len(errors), warnings=warnings, valid=not errors)
    if errors:
        split, first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise StepFailed(f"{split} data breaks the schema: {first.message}{more}", hint="see the anomalies report")
