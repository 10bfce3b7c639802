"""Validation on generated data with one known defect each reports exactly that defect, and clean data nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from modelyard.core.schema import Schema
from modelyard.data.schema_infer import infer_schema
from modelyard.data.statistics import compute_statistics
from modelyard.data.validation import validate_statistics
from modelyard.errors import NotFound

COLUMNS = """
    i AS id,
    ['red', 'green', 'blue'][i % 3 + 1] AS color,
    (i % 50) * 1.5 AS size,
    i % 2 = 0 AS flag,
    ['yes', 'no'][i % 2 + 1] AS label
"""


def _table(lo: int, hi: int) -> str:
    return f"SELECT {COLUMNS} FROM range({lo}, {hi}) t(i)"


CLEAN = _table(300, 450)
DEFECTS = {
    "new category": (
        f"SELECT * REPLACE (CASE WHEN id % 10 = 0 THEN 'purple' ELSE color END AS color) FROM ({CLEAN})",
        {"value_outside_domain"},
    ),
    "dropped column": (f"SELECT * EXCLUDE (size) FROM ({CLEAN})", {"missing_column"}),
    "column turned to strings": (
        f"SELECT * REPLACE ('about ' || CAST(size AS VARCHAR) AS size) FROM ({CLEAN})",
        {"type_mismatch"},
    ),
    "extra nulls": (
        f"SELECT * REPLACE (CASE WHEN id % 5 = 0 THEN NULL ELSE color END AS color) FROM ({CLEAN})",
        {"presence_below_minimum"},
    ),
    "no rows": (f"SELECT * FROM ({CLEAN}) WHERE false", {"empty_dataset"}),
    "new column": (f"SELECT *, id * 2 AS doubled FROM ({CLEAN})", {"unexpected_column"}),
}


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> Schema:
    import duckdb

    path = tmp_path_factory.mktemp("train") / "train.parquet"
    duckdb.sql(f"COPY ({_table(0, 300)}) TO '{path}' (FORMAT parquet)")
    return infer_schema(compute_statistics(path), label="label")


def test_clean_data_has_no_anomalies(schema: Schema, write_parquet: Callable[[str, str], Path]) -> None:
    anomalies = validate_statistics(compute_statistics(write_parquet("clean.parquet", CLEAN)), schema)
    assert list(anomalies) == []


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_each_defect_is_reported_exactly(
    schema: Schema, write_parquet: Callable[[str, str], Path], defect: str
) -> None:
    query, expected = DEFECTS[defect]
    anomalies = validate_statistics(compute_statistics(write_parquet("batch.parquet", query)), schema)
    assert anomalies.codes == expected
    assert len(anomalies) == 1


def test_anomaly_details_and_words(schema: Schema, write_parquet: Callable[[str, str], Path]) -> None:
    stats = compute_statistics(write_parquet("b.parquet", DEFECTS["new category"][0]))
    (item,) = validate_statistics(stats, schema)
    assert item.column == "color" and item.severity == "error"
    assert item.details["examples"] == ["purple"]
    assert item.details["fraction"] == pytest.approx(0.1)
    assert item.details["complete"] is True
    assert "'purple'" in item.message and "10.0%" in item.message

    stats = compute_statistics(write_parquet("c.parquet", DEFECTS["column turned to strings"][0]))
    (item,) = validate_statistics(stats, schema)
    assert item.message.startswith("column 'size' should be float but holds string values; 150 of 150 are not numbers")
    assert item.details["examples"][0] == "about 0.0" and len(item.details["examples"]) == 5


def test_a_new_column_is_only_a_warning(schema: Schema, write_parquet: Callable[[str, str], Path]) -> None:
    anomalies = validate_statistics(compute_statistics(write_parquet("n.parquet", DEFECTS["new column"][0])), schema)
    assert not anomalies.has_errors
    assert [a.column for a in anomalies.warnings] == ["doubled"]


def test_ranges_set_by_hand(schema: Schema, write_parquet: Callable[[str, str], Path]) -> None:
    stats = compute_statistics(write_parquet("clean.parquet", CLEAN))
    size = dataclasses.replace(schema.column("size"), min=0.0, max=60.0)
    bounded = dataclasses.replace(schema, columns=tuple(size if c.name == "size" else c for c in schema.columns))
    (item,) = validate_statistics(stats, bounded)
    assert item.code == "out_of_range"
    assert item.details["observed_max"] == 73.5
    assert "maximum 73.5 is above 60" in item.message
    # 9 of the 50 sizes (61.5 .. 73.5), three rows each, are above 60: 27 of 150, estimated from percentiles.
    assert abs(item.details["approx_count"] - 27) <= 4 and "are outside" in item.message


def test_serving_data_without_the_label(schema: Schema, write_parquet: Callable[[str, str], Path]) -> None:
    stats = compute_statistics(write_parquet("serving.parquet", f"SELECT * EXCLUDE (label) FROM ({CLEAN})"))
    assert list(validate_statistics(stats, schema, environment="serving")) == []
    assert validate_statistics(stats, schema).codes == {"missing_column"}
    with pytest.raises(NotFound, match="did you mean 'serving'"):
        validate_statistics(stats, schema, environment="serve")


def test_integers_satisfy_a_float_column(schema: Schema, write_parquet: Callable[[str, str], Path]) -> None:
    query = f"SELECT * REPLACE (CAST(size AS BIGINT) AS size) FROM ({CLEAN})"
    assert list(validate_statistics(compute_statistics(write_parquet("i.parquet", query)), schema)) == []
