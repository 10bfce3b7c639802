"""transform: fit the feature transform on the train split; it travels inside the model package.

Every option of :mod:`modelyard.features.spec` is a step parameter: defaults per kind of column, and
``features`` (per column or column group), ``crosses``, ``dates`` and ``functions`` entries. The files behind
``functions`` are the step's external inputs: checked when the pipeline is planned, hashed into the cache key
(editing a function re-runs transform and every step after it) and copied into the transform's ``code/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from modelyard.errors import UsageError, did_you_mean
from modelyard.pipeline.component import component
from modelyard.pipeline.context import StepContext


class TransformParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str
    exclude: list[str] = Field(default_factory=list)
    numeric: list[str] | None = None
    categorical: list[str] | None = None
    scale: str = "zscore"
    impute_numeric: str = "mean"
    impute_categorical: str = "most_frequent"
    max_categories: int = Field(default=50, ge=1)
    min_frequency: int = Field(default=1, ge=1)
    encode: str = "onehot"
    hash_buckets: int = Field(default=32, ge=2)
    features: list[dict[str, Any]] = Field(default_factory=list, description="per column or column group options")
    crosses: list[Any] = Field(default_factory=list, description="hashed crosses of categorical columns")
    dates: list[dict[str, Any]] = Field(default_factory=list, description="parts of timestamp columns")
    functions: list[dict[str, Any]] = Field(default_factory=list, description="user Python functions -> features")


def function_sources(params: TransformParams, base_dir: Path) -> dict[str, Path]:
    """The user files ``functions`` names, as external inputs ``function:<file>``; importing them here makes an
    unknown file or function, or a function that does not fit its mode, fail before any step runs."""
    if not params.functions:
        return {}
    from modelyard.features.functions import load_functions
    from modelyard.features.spec import check_functions

    loaded = load_functions(check_functions(params.functions, []), base_dir=base_dir)
    return {f"function:{f.ref.rpartition(':')[0]}": Path(str(f.origin)) for f in loaded}


def feature_columns(contract: object, label: str, exclude: list[str]) -> dict[str, str]:
    """Raw input columns (name -> type) the model reads: the schema minus the label and excluded columns."""
    names = [column.name for column in contract.columns]  # type: ignore[attr-defined]
    # An excluded column the data lacks is already not used: a retrain on logged traffic (which carries only
    # the model's inputs) runs the same pipeline without the columns the model never took.
    if label not in names:
        raise UsageError(f"column '{label}' is not in the schema", hint=did_you_mean(label, names))
    return {
        column.name: column.type
        for column in contract.columns  # type: ignore[attr-defined]
        if column.name != label and column.name not in exclude
    }


@component(
    inputs={"dataset": "dataset", "schema": "schema"},
    outputs={"transform": "transform"},
    params=TransformParams,
    external_inputs=function_sources,
)
def transform(ctx: StepContext) -> None:
    """Analyze the train split once and freeze the results in transform.json."""
    from modelyard.data.schema_io import read_schema_yaml
    from modelyard.features.code import write_code
    from modelyard.features.transform import TransformSpec, fit_transform

    params: TransformParams = ctx.params
    contract = read_schema_yaml(ctx.input("schema").path / "schema.yaml")
    columns = feature_columns(contract, params.label, params.exclude)
    spec = TransformSpec.from_params(
        params.model_dump(exclude={"label", "exclude"}, exclude_none=True), columns=columns
    )
    files = {
        name.removeprefix("function:"): ctx.input(name).path for name in ctx.inputs if name.startswith("function:")
    }
    fitted = fit_transform(ctx.input("dataset").path / "train.parquet", spec, base_dir=ctx.project_dir, files=files)
    ctx.write_json("transform", "transform.json", fitted.to_dict())
    write_code(fitted, ctx.output_dir("transform"))
    ctx.set_properties(
        "transform",
        features_out=len(fitted.feature_names_out),
        label=params.label,
        columns_in=len(fitted.input_columns),
        crosses=len(fitted.crosses),
        functions=len(fitted.functions),
    )
