"""Statistics values checked against a small table whose numbers are worked out by hand."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest

from modelyard.core.statistics import DatasetStatistics
from modelyard.data.statistics import compute_statistics

SMALL = """
SELECT * FROM (VALUES
    (1,    1.5::DOUBLE,      'a',   true,  DATE '2020-01-01', NULL::INTEGER),
    (2,    'nan'::DOUBLE,    'b',   false, DATE '2020-01-02', NULL),
    (3,    'inf'::DOUBLE,    'a',   true,  NULL,              NULL),
    (NULL, 2.5::DOUBLE,      NULL,  NULL,  DATE '2020-01-03', NULL),
    (-4,   NULL::DOUBLE,     'ccc', true,  DATE '2020-01-01', NULL),
    (0,    0.0::DOUBLE,      'a',   false, DATE '2020-01-02', NULL)
) t(i, f, s, b, d, nothing)
"""


@pytest.fixture
def small(write_parquet: Callable[[str, str], Path]) -> DatasetStatistics:
    return compute_statistics(write_parquet("small.parquet", SMALL))


def test_integer_column(small: DatasetStatistics) -> None:
    column = small.column("i")
    assert (small.num_rows, column.type, column.count, column.missing) == (6, "int", 5, 1)
    n = column.numeric
    assert (n.min, n.max, n.zeros, n.negatives, n.nan, n.inf) == (-4, 3, 1, 1, 0, 0)
    assert n.mean == pytest.approx(0.4)  # (1 + 2 + 3 - 4 + 0) / 5
    assert n.std == pytest.approx(math.sqrt(29.2 / 4))  # squared deviations sum to 29.2, n - 1 = 4


def test_float_column_keeps_nan_and_infinity_out_of_the_moments(small: DatasetStatistics) -> None:
    column = small.column("f")
    assert (column.type, column.count, column.missing) == ("float", 5, 1)
    n = column.numeric
    assert (n.min, n.max, n.zeros, n.negatives, n.nan, n.inf) == (0.0, 2.5, 1, 0, 1, 1)
    assert n.mean == pytest.approx(4 / 3)  # finite values 1.5, 2.5, 0
    assert n.std == pytest.approx(math.sqrt((1 / 36 + 49 / 36 + 64 / 36) / 2))


def test_string_column(small: DatasetStatistics) -> None:
    column = small.column("s")
    assert (column.type, column.count, column.missing, column.numeric) == ("string", 5, 1, None)
    s = column.string
    assert (s.distinct, s.distinct_is_approximate) == (3, False)
    assert s.top == (("a", 3), ("b", 1), ("ccc", 1))  # ties in value order
    assert (s.min_len, s.max_len) == (1, 3)
    assert s.mean_len == pytest.approx(7 / 5)


def test_bool_timestamp_and_all_null_columns(small: DatasetStatistics) -> None:
    flag = small.column("b")
    assert (flag.type, flag.count) == ("bool", 5)
    assert flag.string.top == (("true", 3), ("false", 2))
    day = small.column("d")
    assert (day.type, day.count, day.missing) == ("timestamp", 5, 1)
    assert day.numeric.min == 1577836800.0  # 2020-01-01 as epoch seconds
    assert day.numeric.max == 1577836800.0 + 2 * 86400
    empty = small.column("nothing")
    assert (empty.count, empty.missing, empty.numeric.min, empty.numeric.mean) == (0, 6, None, None)


def test_top_values_are_capped(write_parquet: Callable[[str, str], Path]) -> None:
    path = write_parquet("many.parquet", "SELECT 'v' || (i % 30) AS v FROM range(300) t(i)")
    stats = compute_statistics(path, top_k=5)
    column = stats.column("v").string
    assert column.distinct == 30
    assert len(column.top) == 5
    assert not column.is_complete


def test_statistics_round_trip_through_json(small: DatasetStatistics) -> None:
    assert DatasetStatistics.from_dict(json.loads(json.dumps(small.to_dict()))) == small


def test_csv_and_its_ingested_parquet_agree(penguins_csv: Path, tmp_path: Path) -> None:
    from modelyard.data.readers import ingest

    raw = compute_statistics(penguins_csv)
    assert raw.num_rows == 344
    assert raw.column("sex").missing == 11
    assert raw.column("species").string.top == (("Adelie", 152), ("Gentoo", 124), ("Chinstrap", 68))
    assert raw.column("body_mass_g").numeric.min == 2700
    ingest(penguins_csv, tmp_path)
    train, held_out = compute_statistics(tmp_path / "train.parquet"), compute_statistics(tmp_path / "eval.parquet")
    assert train.num_rows + held_out.num_rows == 344
    assert train.column("sex").missing + held_out.column("sex").missing == 11


def test_a_folder_of_parquet_files(write_parquet: Callable[[str, str], Path], tmp_path: Path) -> None:
    write_parquet("parts/a.parquet", "SELECT range AS x FROM range(10)")
    write_parquet("parts/b.parquet", "SELECT range + 10 AS x FROM range(5)")
    stats = compute_statistics(tmp_path / "parts")
    assert stats.num_rows == 15
    assert (stats.column("x").numeric.min, stats.column("x").numeric.max) == (0, 14)
