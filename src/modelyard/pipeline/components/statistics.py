"""statistics: per-column statistics of every split of a dataset, as JSON and as an offline HTML report."""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field

from modelyard.pipeline.component import component
from modelyard.pipeline.context import StepContext

SPLITS = ("train", "eval")


class StatisticsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slice_by: list[str] = Field(default_factory=list, description="columns whose values (crossed) define slices")
    top_k: int = Field(default=50, ge=1)


@component(inputs={"dataset": "dataset"}, outputs={"statistics": "statistics"}, params=StatisticsParams)
def statistics(ctx: StepContext) -> None:
    """Compute statistics for each split and write statistics.json plus report.html."""
    from modelyard.data.drift import compare_statistics
    from modelyard.data.report import statistics_html
    from modelyard.data.statistics import compute_statistics

    params: StatisticsParams = ctx.params
    dataset = ctx.input("dataset").path
    by_split = {
        split: compute_statistics(dataset / f"{split}.parquet", slice_by=params.slice_by, top_k=params.top_k)
        for split in SPLITS
    }
    ctx.write_json("statistics", "statistics.json", {split: s.to_dict() for split, s in by_split.items()})
    # Train against eval, column by column: a split that does not look like the other is worth a glance.
    distances = compare_statistics(by_split["train"], by_split["eval"])
    html = statistics_html(by_split, title=f"Statistics — {ctx.step}", drift=distances)
    (ctx.output_dir("statistics") / "report.html").write_text(html, encoding="utf-8")
    ctx.set_properties("statistics", rows={split: s.num_rows for split, s in by_split.items()})


def load_statistics(path_dir, split: str = "train"):  # type: ignore[no-untyped-def]
    """Read one split back from a statistics artifact folder."""
    from modelyard.core.statistics import DatasetStatistics

    data = json.loads((path_dir / "statistics.json").read_text(encoding="utf-8"))
    return DatasetStatistics.from_dict(data[split])
