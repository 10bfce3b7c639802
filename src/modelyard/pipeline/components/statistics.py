"""statistics: per-column statistics of every split of a dataset, as JSON and as an offline HTML report."""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict

from modelyard.pipeline.component import component
from modelyard.pipeline.context import StepContext

SPLITS = ("train", "eval")


class StatisticsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


@component(inputs={"dataset": "dataset"}, outputs={"statistics": "statistics"}, params=StatisticsParams)
def statistics(ctx: StepContext) -> None:
    """Compute statistics for each split and write statistics.json plus report.html."""
    from modelyard.data.report import statistics_html
    from modelyard.data.statistics import compute_statistics

    dataset = ctx.input("dataset").path
    by_split = {split: compute_statistics(dataset / f"{split}.parquet") for split in SPLITS}
    ctx.write_json("statistics", "statistics.json", {split: s.to_dict() for split, s in by_split.items()})
    html = statistics_html(by_split, title=f"Statistics — {ctx.step}")
    (ctx.output_dir("statistics") / "report.html").write_text(html, encoding="utf-8")
    ctx.set_properties("statistics", rows={split: s.num_rows for split, s in by_split.items()})


def load_statistics(path_dir, split: str = "train"):  # type: ignore[no-untyped-def]
    """Read one split back from a statistics artifact folder."""
    from modelyard.core.statistics import DatasetStatistics

    data = json.loads((path_dir / "statistics.json").read_text(encoding="utf-8"))
    return DatasetStatistics.from_dict(data[split])
