"""Fitting and applying the transform on the penguins data, and the errors a user meets on the way."""

from __future__ import annotations

import csv
import json
import math
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelyard.errors import DataError, UsageError
from modelyard.features.transform import FittedTransform, TransformSpec, fit_transform

PENGUINS_CSV = Path(__file__).resolve().parents[3] / "src/modelyard/examples/penguins/data/penguins.csv"
COLUMNS = {
    "island": "string",
    "bill_length_mm": "float",
    "bill_depth_mm": "float",
    "flipper_length_mm": "int",
    "body_mass_g": "int",
    "sex": "string",
    "year": "int",
}


def csv_floats(column: str) -> list[float]:
    with PENGUINS_CSV.open() as f:
        return [float(row[column]) for row in csv.DictReader(f) if row[column] != "NA"]


def spec(**kwargs) -> TransformSpec:
    params = {"numeric": ["bill_length_mm", "body_mass_g"], "categorical": ["island", "sex"], **kwargs}
    return TransformSpec(**params)


# --- spec from step parameters -------------------------------------------------------------------


def test_columns_are_split_by_type_in_input_order() -> None:
    built = TransformSpec.from_params({"exclude": ["year"]}, columns=COLUMNS)
    assert built.numeric == ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    assert built.categorical == ["island", "sex"]
    assert built.scale == "zscore" and built.max_categories == 50


def test_an_explicit_list_wins_and_the_rest_is_derived_without_it() -> None:
    built = TransformSpec.from_params({"categorical": ["island", "year"], "max_categories": 3}, columns=COLUMNS)
    assert built.categorical == ["island", "year"]
    assert "year" not in built.numeric and built.numeric[0] == "bill_length_mm"
    assert built.max_categories == 3


def test_unknown_column_suggests_the_close_one() -> None:
    with pytest.raises(UsageError) as caught:
        TransformSpec.from_params({"numeric": ["bill_lenght_mm"]}, columns=COLUMNS)
    assert "bill_lenght_mm" in str(caught.value)
    assert "did you mean 'bill_length_mm'?" in str(caught.value)


def test_unknown_parameter_and_bad_choice_are_usage_errors_with_hints() -> None:
    with pytest.raises(UsageError, match="did you mean 'scale'"):
        TransformSpec.from_params({"scael": "minmax"}, columns=COLUMNS)
    with pytest.raises(UsageError, match="did you mean 'zscore'"):
        TransformSpec.from_params({"scale": "z-score"}, columns=COLUMNS)
    with pytest.raises(UsageError, match="string and cannot be a numeric feature"):
        TransformSpec.from_params({"numeric": ["island"]}, columns=COLUMNS)
    with pytest.raises(UsageError, match="both numeric and categorical"):
        TransformSpec(numeric=["year"], categorical=["year"])
    with pytest.raises(UsageError, match="at least 1"):
        TransformSpec(numeric=["year"], categorical=[], max_categories=0)


# --- fitting -----------------------------------------------------------------------------------


def test_fit_learns_the_statistics_of_the_training_file(penguins_parquet: Path) -> None:
    fitted = fit_transform(penguins_parquet, spec())
    bill = fitted.numeric[0]
    values = csv_floats("bill_length_mm")
    assert fitted.rows == 344 and bill.count == len(values) == 342
    assert bill.mean == pytest.approx(statistics.fmean(values), rel=1e-12)
    assert bill.std == pytest.approx(statistics.pstdev(values), rel=1e-12)
    assert (bill.min, bill.max, bill.median) == (min(values), max(values), statistics.median(values))
    assert (bill.fill, bill.offset, bill.divisor) == (bill.mean, bill.mean, bill.std)
    island, sex = fitted.categorical
    assert island.vocabulary == ("Biscoe", "Dream", "Torgersen") and island.counts == (168, 124, 52)
    assert sex.vocabulary == ("male", "female") and sex.missing == 11 and sex.fill == "male"
    assert fitted.input_columns == ["bill_length_mm", "body_mass_g", "island", "sex"]
    assert fitted.feature_names_out == [
        "bill_length_mm", "body_mass_g", "island=Biscoe", "island=Dream", "island=Torgersen",
        "island=__oov__", "sex=male", "sex=female", "sex=__oov__",
    ]  # fmt: skip


def test_missing_values_are_imputed_and_rare_or_unseen_categories_share_one_bucket(
    penguins_parquet: Path,
) -> None:
    fitted = fit_transform(penguins_parquet, spec(max_categories=2, impute_numeric="median"))
    bill = fitted.numeric[0]
    out = fitted.apply_batch(
        [
            {"bill_length_mm": None, "island": "Torgersen", "sex": None},  # rare island, missing sex
            {"bill_length_mm": 44.45, "island": "Atlantis", "sex": "female"},  # never seen in training
            {"bill_length_mm": math.nan, "island": "Dream"},  # NaN and an absent key are missing too
        ]
    )
    names = fitted.feature_names_out
    assert names[2:5] == ["island=Biscoe", "island=Dream", "island=__oov__"]
    median_z = (bill.median - bill.mean) / bill.std
    assert out[0, 0] == out[1, 0] == out[2, 0] == median_z
    assert out[0, names.index("island=__oov__")] == 1.0 and out[1, names.index("island=__oov__")] == 1.0
    assert out[0, names.index("sex=male")] == 1.0 and out[2, names.index("sex=male")] == 1.0  # most frequent


def test_constant_imputation_gives_missing_its_own_category(penguins_parquet: Path) -> None:
    fitted = fit_transform(penguins_parquet, spec(impute_categorical="constant"))
    sex = fitted.categorical[1]
    assert sex.vocabulary == ("male", "female", "__missing__") and sex.counts == (168, 165, 11)
    row = fitted.apply_record({"bill_length_mm": 40.0, "island": "Dream", "sex": None})
    assert row[fitted.feature_names_out.index("sex=__missing__")] == 1.0


def test_minmax_maps_the_training_range_onto_zero_to_one(penguins_parquet: Path) -> None:
    fitted = fit_transform(penguins_parquet, spec(scale="minmax"))
    low, high = min(csv_floats("body_mass_g")), max(csv_floats("body_mass_g"))
    out = fitted.apply_batch([{"body_mass_g": low}, {"body_mass_g": high}, {"body_mass_g": (low + high) / 2}])
    assert out[:, 1].tolist() == [0.0, 1.0, 0.5]


def test_all_input_forms_give_the_same_matrix(penguins_parquet: Path, penguins_rows: list[dict]) -> None:
    fitted = fit_transform(penguins_parquet, spec())
    table = pq.read_table(penguins_parquet)
    from_records = fitted.apply_batch(penguins_rows)
    assert from_records.shape == (344, 9) and from_records.dtype == np.float64
    assert np.array_equal(fitted.apply_batch(table), from_records)
    assert np.array_equal(fitted.apply_batch(table.to_pandas()), from_records)
    assert np.array_equal(fitted.apply_batch(pd.read_csv(PENGUINS_CSV)), from_records)
    assert fitted.apply_batch([]).shape == (0, 9)


def test_round_trip_through_json_is_exact(penguins_parquet: Path, penguins_rows: list[dict]) -> None:
    fitted = fit_transform(penguins_parquet, spec(impute_categorical="constant", max_categories=2))
    again = FittedTransform.from_dict(json.loads(json.dumps(fitted.to_dict())))
    assert again == fitted
    assert again.apply_batch(penguins_rows).tobytes() == fitted.apply_batch(penguins_rows).tobytes()


def test_newer_or_foreign_descriptions_are_refused(penguins_parquet: Path) -> None:
    described = fit_transform(penguins_parquet, spec()).to_dict()
    with pytest.raises(UsageError, match="format_version 4 is not supported"):
        FittedTransform.from_dict({**described, "format_version": 4})
    with pytest.raises(DataError, match="not a modelyard transform"):
        FittedTransform.from_dict({"numeric": []})
    broken = {**described, "numeric": [{"name": "bill_length_mm"}]}
    with pytest.raises(DataError, match="malformed"):
        FittedTransform.from_dict(broken)


# --- errors while fitting or applying ----------------------------------------------------------


def test_fit_names_the_missing_column_and_the_wrong_type(penguins_parquet: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError) as caught:
        fit_transform(penguins_parquet, TransformSpec(numeric=["bill_lenght_mm"], categorical=[]))
    assert "no column 'bill_lenght_mm'" in str(caught.value) and "bill_length_mm" in str(caught.value)
    with pytest.raises(DataError, match="'species' has type VARCHAR"):
        fit_transform(penguins_parquet, TransformSpec(numeric=["species"], categorical=[]))
    with pytest.raises(DataError, match="does not exist"):
        fit_transform(tmp_path / "nope.parquet", spec())
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(DataError, match="cannot read Parquet"):
        fit_transform(tmp_path / "bad.parquet", spec())


def test_infinite_training_values_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "inf.parquet"
    pq.write_table(pa.table({"x": [1.0, math.inf, 2.0]}), path)
    with pytest.raises(DataError, match="'x' holds 1 infinite"):
        fit_transform(path, TransformSpec(numeric=["x"], categorical=[]))


def test_a_string_in_a_numeric_field_is_a_data_error_naming_the_place(penguins_parquet: Path) -> None:
    fitted = fit_transform(penguins_parquet, spec())
    with pytest.raises(DataError) as caught:
        fitted.apply_batch([{"bill_length_mm": 40.1}, {"bill_length_mm": "abc"}])
    assert "row 1, field 'bill_length_mm': expected a number, got 'abc'" in str(caught.value)
    with pytest.raises(DataError, match="field 'bill_length_mm'"):
        fitted.apply_record({"bill_length_mm": "39.1"})
    with pytest.raises(DataError, match="no column 'sex'"):
        fitted.apply_batch(pd.DataFrame({"bill_length_mm": [1.0], "body_mass_g": [1], "island": ["Dream"]}))
    with pytest.raises(UsageError, match="cannot transform a dict"):
        fitted.apply_batch({"bill_length_mm": 1.0})
