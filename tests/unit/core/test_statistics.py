"""Statistics values survive a JSON round trip and answer questions about their columns."""

from __future__ import annotations

import json

import pytest

from modelyard.core.statistics import ColumnStatistics, DatasetStatistics, NumericStats, StringStats
from modelyard.errors import NotFound, UsageError


def _stats() -> DatasetStatistics:
    return DatasetStatistics(
        num_rows=4,
        columns=(
            ColumnStatistics("age", "int", 3, 1, numeric=NumericStats(1.0, 9.0, 4.0, 2.5, 0, 0, 0, 0)),
            ColumnStatistics(
                "color",
                "string",
                4,
                0,
                string=StringStats(2, False, (("red", 3), ("blue", 1)), 3, 3.5, 4),
            ),
        ),
    )


def test_json_round_trip_gives_equal_statistics() -> None:
    stats = _stats()
    restored = DatasetStatistics.from_dict(json.loads(json.dumps(stats.to_dict())))
    assert restored == stats
    assert restored.column("color").string.top == (("red", 3), ("blue", 1))


def test_column_lookup_suggests_the_closest_name() -> None:
    with pytest.raises(NotFound) as caught:
        _stats().column("colour")
    assert "did you mean 'color'" in str(caught.value)
    assert _stats().find_column("colour") is None


def test_presence_is_the_fraction_of_rows_with_a_value() -> None:
    assert _stats().column("age").presence == 0.75
    assert ColumnStatistics("x", "int", 0, 0).presence is None


def test_top_is_complete_only_when_it_lists_every_distinct_value() -> None:
    assert StringStats(2, False, (("a", 1), ("b", 1))).is_complete
    assert not StringStats(3, False, (("a", 1), ("b", 1))).is_complete
    assert not StringStats(2, True, (("a", 1), ("b", 1))).is_complete


def test_statistics_from_a_newer_layout_are_refused_with_a_hint() -> None:
    data = _stats().to_dict()
    data["version"] = 99
    with pytest.raises(UsageError, match="upgrade modelyard"):
        DatasetStatistics.from_dict(data)


def test_new_fields_round_trip_and_named_quantiles() -> None:
    from modelyard.core.statistics import ListStats

    grid = tuple(float(p) for p in range(101))
    numeric = NumericStats(
        0.0,
        100.0,
        50.0,
        29.0,
        percentiles=grid,
        histogram_edges=(0.0, 50.0, 100.0),
        histogram_counts=(5, 6),
        max_gap=3.0,
    )
    part = DatasetStatistics(num_rows=11, columns=(ColumnStatistics("x", "float", 11, 0, numeric=numeric),))
    stats = DatasetStatistics(
        num_rows=11,
        columns=(
            ColumnStatistics("x", "float", 11, 0, numeric=numeric),
            ColumnStatistics("tags", "list", 10, 1, lists=ListStats(0, 1.5, 4, 15)),
        ),
        slice_by=("x",),
        slices={"x=1": part},
        source="data.parquet",
    )
    data = json.loads(json.dumps(stats.to_dict()))
    assert data["columns"][0]["numeric"]["quantiles"] == {
        "1": 1.0,
        "5": 5.0,
        "25": 25.0,
        "50": 50.0,
        "75": 75.0,
        "95": 95.0,
        "99": 99.0,
    }
    assert DatasetStatistics.from_dict(data) == stats
    assert numeric.quantile(25) == 25.0 and numeric.quantile_histogram[0] == (0.0, 10.0, 0.1)
    with pytest.raises(UsageError, match="not between 0 and 100"):
        numeric.quantile(101)
