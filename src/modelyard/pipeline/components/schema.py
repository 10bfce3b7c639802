"""schema: infer the data contract from training statistics, or import a curated schema.yaml kept in git."""

from __future__ import annotations

import shutil
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from modelyard.pipeline.component import component
from modelyard.pipeline.components.statistics import load_statistics
from modelyard.pipeline.context import StepContext


class SchemaParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str | None = None
    max_domain_size: int = Field(default=20, ge=1)
    path: str | None = Field(default=None, description="a curated schema.yaml to use instead of inferring")
    ranges: bool = Field(default=False, description="bound numeric columns by their observed min and max")
    relax: bool = Field(default=False, description="widen the curated schema so the training data passes it")


def _curated(params: SchemaParams, base_dir: Path) -> dict[str, Path]:
    if params.path is None:
        return {}
    path = Path(params.path)
    return {"curated": path if path.is_absolute() else base_dir / path}


@component(
    inputs={"statistics": "statistics"}, outputs={"schema": "schema"}, params=SchemaParams, external_inputs=_curated
)
def schema(ctx: StepContext) -> None:
    """Write schema.yaml: the curated file when given, else inferred from the train split."""
    from modelyard.data.schema_infer import infer_schema, relax_schema
    from modelyard.data.schema_io import read_schema_yaml, write_schema_yaml

    params: SchemaParams = ctx.params
    target = ctx.output_dir("schema") / "schema.yaml"
    if ctx.has_input("curated"):
        curated = read_schema_yaml(ctx.input("curated").path)  # fail early, with file and line, on a broken edit
        if params.relax:
            stats = load_statistics(ctx.input("statistics").path, "train")
            write_schema_yaml(relax_schema(curated, stats, max_domain_size=params.max_domain_size), target)
            ctx.set_properties("schema", source="curated+relaxed")
            return
        shutil.copyfile(ctx.input("curated").path, target)
        ctx.set_properties("schema", source="curated")
        return
    stats = load_statistics(ctx.input("statistics").path, "train")
    inferred = infer_schema(stats, label=params.label, max_domain_size=params.max_domain_size, ranges=params.ranges)
    write_schema_yaml(inferred, target)
    ctx.set_properties("schema", source="inferred", columns=len(inferred.columns))
