"""User Python functions as transforms: the static checks a bad spec meets before any data is read, fitting
and applying row and batch functions on the penguins data, and the errors a failing function gives."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelyard.errors import DataError, StoreError, UsageError
from modelyard.features.code import bind_code, code_files, read_transform, write_code
from modelyard.features.transform import FittedTransform, TransformSpec, fit_transform

HERE = Path(__file__).parent
FUNCTIONS = "feature_functions.py"
COLUMNS = {"island": "string", "bill_length_mm": "float", "bill_depth_mm": "float", "body_mass_g": "int",
           "flipper_length_mm": "int", "sex": "string"}  # fmt: skip
MASS = {"function": f"{FUNCTIONS}:mass_per_flipper", "columns": ["body_mass_g", "flipper_length_mm"],
        "output": "mass_per_flipper"}  # fmt: skip
RATIO = {"function": f"{FUNCTIONS}:ratio", "mode": "batch", "columns": ["bill_length_mm", "bill_depth_mm"],
         "output": "bill_ratio"}  # fmt: skip


def spec(functions: list[dict], **kwargs) -> TransformSpec:
    return TransformSpec(numeric=["bill_length_mm"], categorical=["island"], functions=functions, **kwargs)


def fit(parquet: Path, functions: list[dict], **kwargs) -> FittedTransform:
    return fit_transform(parquet, spec(functions, **kwargs), base_dir=HERE)


# --- static checks ---------------------------------------------------------------------------------


def test_output_clashing_with_a_column_is_refused_with_its_field() -> None:
    with pytest.raises(UsageError) as caught:
        spec([{**MASS, "output": "bill_length_mm"}])
    assert "functions[0].output" in str(caught.value) and "clashes" in caught.value.message
    with pytest.raises(UsageError, match="clashes with the input column 'sex'"):
        TransformSpec.from_params({"functions": [{**MASS, "output": "sex"}]}, columns=COLUMNS)
    with pytest.raises(UsageError, match=r"also an output of functions\[0\]"):
        spec([MASS, {**RATIO, "output": "mass_per_flipper"}])


def test_wrong_mode_unknown_keys_and_missing_parts_name_the_field() -> None:
    with pytest.raises(UsageError) as caught:
        spec([{**MASS, "mode": "rows"}])
    assert "field 'functions[0].mode'" in str(caught.value) and "did you mean 'row'?" in str(caught.value)
    with pytest.raises(UsageError, match="'colums' is not a key") as caught:
        spec([{"function": MASS["function"], "colums": ["a"], "output": "x"}])
    assert "did you mean 'columns'?" in str(caught.value)
    with pytest.raises(UsageError, match=r"functions\[0\] needs 'output'"):
        spec([{"function": MASS["function"], "columns": ["body_mass_g"]}])
    with pytest.raises(UsageError, match=r"must be 'file\.py:function' or 'module:function'"):
        spec([{**MASS, "function": "mass_per_flipper"}])
    with pytest.raises(UsageError, match=r"reads 'mass_per_flipper', the output of functions\[0\]"):
        spec([MASS, {**RATIO, "columns": ["mass_per_flipper"]}])


def test_input_columns_must_exist_in_the_input() -> None:
    with pytest.raises(UsageError) as caught:
        TransformSpec.from_params({"functions": [{**MASS, "columns": ["body_mass"]}]}, columns=COLUMNS)
    assert "'body_mass'" in caught.value.message and "did you mean 'body_mass_g'?" in str(caught.value)


def test_unknown_file_and_function_fail_before_the_data_is_read(tmp_path: Path) -> None:
    missing_data = tmp_path / "nowhere.parquet"  # never opened: the checks come first
    with pytest.raises(UsageError) as caught:
        fit_transform(missing_data, spec([{**MASS, "function": "feature_function.py:mass_per_flipper"}]), base_dir=HERE)
    assert "file not found" in caught.value.message and "did you mean 'feature_functions.py'?" in str(caught.value)
    with pytest.raises(UsageError) as caught:
        fit_transform(missing_data, spec([{**MASS, "function": f"{FUNCTIONS}:mass_per_flippers"}]), base_dir=HERE)
    assert "did you mean 'mass_per_flipper'?" in str(caught.value)
    assert "functions[0].function" in str(caught.value)


def test_a_function_that_does_not_fit_its_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot be called as a row function") as caught:
        fit_transform(tmp_path / "x.parquet", spec([{**RATIO, "mode": "row"}]), base_dir=HERE)
    assert "mode: batch" in str(caught.value.hint)
    with pytest.raises(UsageError, match="cannot be called as a batch function") as caught:
        fit_transform(tmp_path / "x.parquet", spec([{**MASS, "mode": "batch"}]), base_dir=HERE)
    assert "mode: row" in str(caught.value.hint)


# --- fit and apply ---------------------------------------------------------------------------------


def test_outputs_are_numeric_features_after_the_numeric_columns(
    penguins_parquet: Path, penguins_rows: list[dict]
) -> None:
    fitted = fit(penguins_parquet, [MASS, RATIO], scale="none")
    names = fitted.feature_names_out
    assert names[:3] == ["bill_length_mm", "mass_per_flipper", "bill_ratio"] and names[3].startswith("island=")
    assert fitted.input_columns == ["bill_length_mm", "island", "body_mass_g", "flipper_length_mm", "bill_depth_mm"]
    matrix = fitted.apply_batch(penguins_rows)
    first = penguins_rows[0]
    assert matrix[0, 1] == first["body_mass_g"] / first["flipper_length_mm"]
    assert matrix[0, 2] == first["bill_length_mm"] / first["bill_depth_mm"]
    # a row with missing measurements gets the imputed (mean) value, like any missing number
    gap = next(i for i, row in enumerate(penguins_rows) if row["body_mass_g"] is None)
    ratios = [r["body_mass_g"] / r["flipper_length_mm"] for r in penguins_rows if r["body_mass_g"] is not None]
    assert matrix[gap, 1] == pytest.approx(sum(ratios) / len(ratios))
    assert np.isfinite(matrix).all()


def test_outputs_take_per_column_options_like_any_number(penguins_parquet: Path, penguins_rows: list[dict]) -> None:
    fitted = fit(penguins_parquet, [MASS], features=[{"columns": ["mass_per_flipper"], "bucketize": {"quantiles": 4}}])
    buckets = [n for n in fitted.feature_names_out if n.startswith("mass_per_flipper[")]
    assert len(buckets) == 4 and buckets[0].startswith("mass_per_flipper[-inf,")
    block = fitted.apply_batch(penguins_rows)[:, 1:5]
    assert (block.sum(axis=1) == 1.0).all() and (block.sum(axis=0) > 50).all()  # quartiles: about 86 rows each


def test_batch_and_record_paths_agree_for_every_input_form(penguins_parquet: Path, penguins_rows: list[dict]) -> None:
    fitted = fit(penguins_parquet, [MASS, RATIO])
    table = pa.Table.from_pylist(penguins_rows)
    batch = fitted.apply_batch(penguins_rows)
    assert batch.tobytes() == fitted.apply_batch(table).tobytes() == fitted.apply_batch(table.to_pandas()).tobytes()
    for i, row in enumerate(penguins_rows):
        assert fitted.apply_record(row).tobytes() == batch[i].tobytes(), i


def test_json_round_trip_records_reference_and_digest_and_needs_the_code(
    penguins_parquet: Path, penguins_rows: list[dict], tmp_path: Path
) -> None:
    fitted = fit(penguins_parquet, [MASS, RATIO])
    described = json.loads(json.dumps(fitted.to_dict()))
    assert described["format_version"] == 3
    digest = described["functions"][0]["digest"]
    assert described["functions"][0] == {
        "function": MASS["function"], "mode": "row", "columns": MASS["columns"], "output": ["mass_per_flipper"],
        "source": FUNCTIONS, "digest": digest,
    }  # fmt: skip
    bare = FittedTransform.from_dict(described)
    assert bare == fitted
    with pytest.raises(UsageError, match="is not loaded"):
        bare.apply_batch(penguins_rows)
    bound = bind_code(bare, code_files(fitted))
    assert bound.apply_batch(penguins_rows).tobytes() == fitted.apply_batch(penguins_rows).tobytes()
    # the artifact folder form the pipeline uses: transform.json + code/
    (tmp_path / "transform.json").write_text(json.dumps(described))
    write_code(fitted, tmp_path)
    assert read_transform(tmp_path).apply_batch(penguins_rows).tobytes() == bound.apply_batch(penguins_rows).tobytes()
    (tmp_path / "code" / FUNCTIONS).write_text("def mass_per_flipper(body_mass_g, flipper_length_mm):\n    return 1\n")
    with pytest.raises(StoreError, match="does not match the digest"):
        read_transform(tmp_path)


def test_a_transform_without_functions_keeps_format_version_2(penguins_parquet: Path) -> None:
    described = fit_transform(penguins_parquet, TransformSpec(numeric=["bill_length_mm"], categorical=[])).to_dict()
    assert described["format_version"] == 2 and "functions" not in described and "functions" not in described["spec"]


def test_two_files_with_one_name_are_kept_apart(penguins_parquet: Path, penguins_rows: list[dict], tmp_path: Path):
    for folder, factor in (("one", 1.0), ("two", 2.0)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "features.py").write_text(
            f"def f(bill_length_mm):\n    return None if bill_length_mm is None else bill_length_mm * {factor}\n"
        )
    functions = [
        {"function": "one/features.py:f", "columns": ["bill_length_mm"], "output": "once"},
        {"function": "two/features.py:f", "columns": ["bill_length_mm"], "output": "twice"},
    ]
    fitted = fit_transform(penguins_parquet, spec(functions, scale="none"), base_dir=tmp_path)
    assert sorted(code_files(fitted)) == sorted(["features.py", f"features.{fitted.functions[1].digest[:12]}.py"])
    matrix = fitted.apply_batch(penguins_rows[:3])
    assert (matrix[:, 2] == 2 * matrix[:, 1]).all()


# --- errors at fit and predict time ----------------------------------------------------------------


def test_a_raising_row_function_names_itself_the_record_and_the_message(
    penguins_parquet: Path, penguins_rows: list[dict]
) -> None:
    short = [r for r in penguins_rows if r["bill_length_mm"] is None or r["bill_length_mm"] <= 50]
    pq.write_table(pa.Table.from_pylist(short), penguins_parquet.with_name("short.parquet"))
    entry = {"function": f"{FUNCTIONS}:fragile", "columns": ["bill_length_mm"], "output": "checked"}
    fitted = fit(penguins_parquet.with_name("short.parquet"), [entry])
    rows = [penguins_rows[0], {**penguins_rows[0], "bill_length_mm": 51.5}]
    with pytest.raises(DataError) as caught:
        fitted.apply_batch(rows)
    text = str(caught.value)
    assert text.startswith("row 1: function feature_functions.py:fragile raised ValueError: too long: 51.5")
    assert caught.value.where.row == 1
    with pytest.raises(DataError, match="fragile raised ValueError: too long"):
        fitted.apply_record(rows[1])


def test_a_raising_batch_function_is_narrowed_to_the_first_bad_record(
    penguins_parquet: Path, penguins_rows: list[dict]
) -> None:
    short = [r for r in penguins_rows if r["bill_length_mm"] is None or r["bill_length_mm"] <= 50]
    path = penguins_parquet.with_name("short-batch.parquet")
    pq.write_table(pa.Table.from_pylist(short), path)
    entry = {"function": f"{FUNCTIONS}:fragile_batch", "mode": "batch", "columns": ["bill_length_mm"], "output": "b"}
    fitted = fit(path, [entry])
    rows = [short[0], short[1], {**short[0], "bill_length_mm": 60.0}]
    with pytest.raises(DataError, match="fragile_batch raised ValueError: a bill is too long") as caught:
        fitted.apply_batch(pd.DataFrame(rows))
    assert caught.value.where.row == 2


def test_training_data_that_breaks_the_function_fails_the_fit_with_the_row(
    penguins_parquet: Path, penguins_rows: list[dict]
) -> None:
    entry = {"function": f"{FUNCTIONS}:fragile", "columns": ["bill_length_mm"], "output": "checked"}
    first_long = next(i for i, r in enumerate(penguins_rows) if (r["bill_length_mm"] or 0) > 50)
    with pytest.raises(DataError, match="fragile raised ValueError") as caught:
        fit(penguins_parquet, [entry])
    assert caught.value.where.row == first_long


def test_a_result_that_is_not_a_number_is_refused(penguins_parquet: Path, penguins_rows: list[dict]) -> None:
    entry = {"function": f"{FUNCTIONS}:word", "columns": ["bill_length_mm"], "output": "w"}
    with pytest.raises(DataError, match="returned 'long' for 'w', expected a number"):
        fit(penguins_parquet, [entry])
    pair = {"function": f"{FUNCTIONS}:mass_per_flipper", "columns": MASS["columns"], "output": ["a", "b"]}
    with pytest.raises(DataError, match="returned one value for 2 outputs"):
        fit(penguins_parquet, [pair])


def test_an_infinite_output_in_training_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "train.parquet"
    pq.write_table(pa.table({"x": [1.0, 2.0, math.inf], "y": [1.0, 0.0, 1.0]}), path)
    (tmp_path / "fns.py").write_text("def div(x, y):\n    return x / y if y else float('inf')\n")
    entry = {"function": "fns.py:div", "columns": ["x", "y"], "output": "q"}
    with pytest.raises(DataError, match="returned an infinite value for 'q'") as caught:
        fit_transform(path, TransformSpec(numeric=[], categorical=[], functions=[entry]), base_dir=tmp_path)
    assert caught.value.where.row == 1
