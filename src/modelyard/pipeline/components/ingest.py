"""ingest: read a CSV, Parquet or JSON Lines file into a versioned dataset with a deterministic train/eval split."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from modelyard.pipeline.component import component
from modelyard.pipeline.context import StepContext


class IngestParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="data file or Parquet folder, relative to the project")
    eval_fraction: float = Field(default=0.2, gt=0.0, lt=1.0)
    seed: int = 42
    split_key: list[str] | None = None
    na_values: list[str] | None = None


def _source(params: IngestParams, base_dir: Path) -> dict[str, Path]:
    path = Path(params.path)
    return {"source": path if path.is_absolute() else base_dir / path}


@component(outputs={"dataset": "dataset"}, params=IngestParams, retryable=True, external_inputs=_source)
def ingest(ctx: StepContext) -> None:
    """Read raw data into a versioned dataset (train.parquet, eval.parquet)."""
    from modelyard.data.readers import ingest as read_into

    params: IngestParams = ctx.params
    summary = read_into(
        ctx.input("source").path,
        ctx.output_dir("dataset"),
        eval_fraction=params.eval_fraction,
        seed=params.seed,
        split_key=params.split_key,
        na_values=params.na_values,
    )
    ctx.set_properties(
        "dataset",
        rows=summary["rows"],
        train_rows=summary["train_rows"],
        eval_rows=summary["eval_rows"],
        columns=[column["name"] for column in summary["columns"]],
        format=summary["format"],
    )
    ctx.log_metrics({"ingest.rows": summary["rows"], "ingest.train_rows": summary["train_rows"]})
