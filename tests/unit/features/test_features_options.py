"""Per-column options on the penguins data: robust scaling, clip and log, buckets, ordinal and hashed
encodings, rare-value cut-offs, crosses, and the errors a misspelt option gives."""

from __future__ import annotations

import math
import statistics
import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelyard.errors import UsageError
from modelyard.features.transform import FittedTransform, TransformSpec, fit_transform

COLUMNS = {"island": "string", "bill_length_mm": "float", "body_mass_g": "int", "sex": "string", "year": "int"}


def fitted(penguins_parquet: Path, **params) -> FittedTransform:  # type: ignore[no-untyped-def]
    spec = TransformSpec.from_params({"exclude": ["year"], **params}, columns=COLUMNS)
    return FittedTransform.from_dict(fit_transform(penguins_parquet, spec).to_dict())


def column(penguins_rows: list[dict], name: str) -> list[float]:
    return [r[name] for r in penguins_rows if r[name] is not None and not math.isnan(r[name])]


def test_robust_scaling_centres_on_the_median_and_divides_by_the_iqr(penguins_parquet, penguins_rows) -> None:
    t = fitted(penguins_parquet, features=[{"columns": ["bill_length_mm", "body_mass_g"], "scale": "robust"}])
    values = column(penguins_rows, "body_mass_g")
    q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    mass = t.numeric[1]
    assert (mass.offset, mass.divisor) == (pytest.approx(median), pytest.approx(q3 - q1))
    assert t.numeric[0].divisor != 1.0


def test_clip_then_log_shape_the_value_and_the_scaling_is_fitted_on_the_shaped_values(
    penguins_parquet, penguins_rows
) -> None:
    t = fitted(penguins_parquet, features=[{"columns": ["body_mass_g"], "clip": [3000, 5000], "log": True}])
    shaped = [math.log1p(min(max(v, 3000), 5000)) for v in column(penguins_rows, "body_mass_g")]
    mass = t.numeric[1]
    assert mass.offset == pytest.approx(statistics.fmean(shaped))
    row = t.apply_record({"island": "Dream", "bill_length_mm": 40.0, "body_mass_g": 9999, "sex": "male"})
    assert row[1] == pytest.approx((math.log1p(5000) - mass.offset) / mass.divisor)


def test_buckets_from_fixed_edges_and_from_quantiles(penguins_parquet, penguins_rows) -> None:
    t = fitted(
        penguins_parquet,
        features=[
            {"columns": ["body_mass_g"], "bucketize": {"edges": [3500, 4500]}},
            {"columns": ["bill_length_mm"], "bucketize": {"quantiles": 4}},
        ],
    )
    names = t.feature_names_out
    assert names[4:7] == ["body_mass_g[-inf,3500)", "body_mass_g[3500,4500)", "body_mass_g[4500,inf)"]
    quartiles = np.quantile(column(penguins_rows, "bill_length_mm"), [0.25, 0.5, 0.75])
    assert t.numeric[0].edges == pytest.approx(tuple(quartiles))
    matrix = t.apply_batch([{"body_mass_g": 3500}, {"body_mass_g": 3499}, {"body_mass_g": 7000}])
    assert matrix[:, 4:7].tolist() == [[0, 1, 0], [1, 0, 0], [0, 0, 1]]
    # every quartile bucket holds about a quarter of the training rows
    counts = t.apply_batch(penguins_rows)[:, 0:4].sum(axis=0)
    assert counts.min() > 0.2 * len(penguins_rows)


def test_ordinal_hash_top_k_and_min_frequency(penguins_parquet, penguins_rows) -> None:
    t = fitted(
        penguins_parquet,
        features=[
            {"columns": ["island"], "encode": "ordinal", "min_frequency": 60},  # Torgersen (52) is too rare
            {"columns": ["sex"], "encode": "hash", "buckets": 5},
        ],
    )
    island, sex = t.categorical
    assert island.vocabulary == ("Biscoe", "Dream") and island.width == 1
    rows = t.apply_batch([{"island": "Dream", "sex": "male"}, {"island": "Torgersen", "sex": None}])
    assert rows[:, 2].tolist() == [1.0, 2.0]  # Dream is 1; the rare Torgersen is the OOV index 2
    male = 3 + zlib.crc32(b"male") % 5
    assert rows[0, male] == 1.0 and rows[0, 3:8].sum() == 1.0
    # a missing sex is imputed with the most frequent value, then hashed like it
    assert rows[1, 3 + zlib.crc32(sex.fill.encode()) % 5] == 1.0
    assert t.feature_names_out[2:4] == ["island", "sex#0"]


def test_a_cross_hashes_the_combination_into_its_buckets(penguins_parquet) -> None:
    t = fitted(penguins_parquet, crosses=[{"columns": ["island", "sex"], "buckets": 8}])
    block = t.apply_batch([{"island": "Biscoe", "sex": "male"}, {"island": "Biscoe", "sex": "female"}])[:, -8:]
    assert block.sum(axis=1).tolist() == [1.0, 1.0]
    assert t.feature_names_out[-1] == "island x sex#7"
    assert block[0, zlib.crc32(b"Biscoe\x1fmale") % 8] == 1.0


def test_nan_in_a_parquet_float_column_counts_as_missing(tmp_path: Path) -> None:
    # Parquet statistics leave NaN out; the analyzer must still see it as a missing value
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"x": pa.array([math.nan, 0.0, 2.0])}), path)
    t = fit_transform(path, TransformSpec(numeric=["x"], categorical=[], scale="robust"))
    assert t.numeric[0].count == 2 and t.numeric[0].mean == 1.0
    assert not np.isnan(t.apply_batch([{"x": None}])).any()


def test_option_mistakes_name_the_entry_and_suggest_the_fix() -> None:
    with pytest.raises(UsageError, match="did you mean 'scale'") as info:
        TransformSpec.from_params({"features": [{"columns": ["body_mass_g"], "scael": "robust"}]}, columns=COLUMNS)
    assert "features[0].scael" in info.value.one_line()
    with pytest.raises(UsageError, match="not an option for a categorical column"):
        TransformSpec.from_params({"features": [{"columns": ["island"], "log": True}]}, columns=COLUMNS)
    with pytest.raises(UsageError, match="mixes numeric and categorical"):
        TransformSpec.from_params({"features": [{"columns": ["island", "body_mass_g"], "top_k": 3}]}, columns=COLUMNS)
    with pytest.raises(UsageError, match="needs a 'fill_value'"):
        TransformSpec.from_params({"features": [{"columns": ["body_mass_g"], "impute": "constant"}]}, columns=COLUMNS)
    with pytest.raises(UsageError, match="strictly increasing"):
        TransformSpec.from_params(
            {"features": [{"columns": ["body_mass_g"], "bucketize": {"edges": [2, 1]}}]}, columns=COLUMNS
        )
    with pytest.raises(UsageError, match="not a categorical feature"):
        TransformSpec.from_params({"crosses": [["island", "body_mass_g"]]}, columns=COLUMNS)


def test_date_parts_from_datetimes_and_iso_strings(tmp_path: Path) -> None:
    import datetime as dt

    from modelyard.errors import DataError

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"x": [1.0, 2.0], "at": [dt.datetime(2024, 5, 1, 13, 30), None]}), path)
    spec = TransformSpec.from_params(
        {"dates": [{"column": "at", "parts": ["year", "month", "day_of_week", "hour"]}]},
        columns={"x": "float", "at": "timestamp"},
    )
    t = FittedTransform.from_dict(fit_transform(path, spec).to_dict())
    assert t.input_columns == ["x", "at"] and t.feature_names_out[-4:] == [
        "at.year",
        "at.month",
        "at.day_of_week",
        "at.hour",
    ]
    rows = t.apply_batch([{"x": 1.0, "at": "2024-05-01T13:30:00"}, {"x": 1.0, "at": None}])
    assert rows[:, -4:].tolist() == [[2024, 5, 2, 13], [0, 0, 0, 0]]  # 2024-05-01 is a Wednesday
    with pytest.raises(DataError, match="expected a timestamp, got 'soon'") as info:
        t.apply_batch([{"x": 1.0, "at": "2024-05-01"}, {"x": 1.0, "at": "soon"}])
    assert "row 1" in info.value.one_line() and "at" in info.value.one_line()
    with pytest.raises(UsageError, match="did you mean 'month'"):
        TransformSpec(numeric=["x"], categorical=[], dates=[{"column": "at", "parts": ["mnth"]}])
