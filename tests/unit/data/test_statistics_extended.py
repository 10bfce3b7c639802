"""Percentiles, histograms, timestamp gaps, slices and merging, checked against numbers known in advance."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from modelyard.core.statistics import DatasetStatistics
from modelyard.data.merge import merge_statistics
from modelyard.data.quantiles import SAMPLE_ROWS
from modelyard.data.statistics import HISTOGRAM_BUCKETS, compute_statistics
from modelyard.errors import UsageError

Writer = Callable[[str, str], Path]


def test_percentiles_and_histograms_of_a_uniform_column(write_parquet: Writer) -> None:
    stats = compute_statistics(write_parquet("u.parquet", "SELECT range::DOUBLE AS x FROM range(100001)"))
    numeric = stats.column("x").numeric
    for percent in (1, 5, 25, 50, 75, 95, 99):
        assert numeric.quantile(percent) == pytest.approx(percent * 1000, rel=0.01, abs=50)
    assert len(numeric.histogram_counts) == HISTOGRAM_BUCKETS and sum(numeric.histogram_counts) == 100001
    assert numeric.histogram_edges[0] == 0 and numeric.histogram_edges[-1] == 100000
    exact = compute_statistics(write_parquet("v.parquet", "SELECT range::DOUBLE AS x FROM range(100000)"))
    assert not exact.column("x").numeric.histogram_estimated  # every row read: counted, not estimated
    assert set(exact.column("x").numeric.histogram_counts) == {5000}
    # Over SAMPLE_ROWS rows the buckets are estimated from the sample: within its stated error
    # (3 standard errors of a 5 % share of 100,000 sampled rows, in rows of the whole column).
    assert numeric.histogram_estimated
    error = 3 * (0.05 * 0.95 / SAMPLE_ROWS) ** 0.5 * 100001
    assert all(abs(count - 5000) <= error for count in numeric.histogram_counts)
    assert numeric.histogram_counts[0] >= 1 and numeric.histogram_counts[-1] >= 1
    buckets = numeric.quantile_histogram
    assert len(buckets) == 10 and buckets[0][0] == 0 and buckets[4][1] == pytest.approx(50000, rel=0.01)


def test_nan_and_infinity_stay_out_of_percentiles_and_histogram(write_parquet: Writer) -> None:
    query = (
        "SELECT CASE WHEN range % 10 = 0 THEN 'nan'::DOUBLE WHEN range = 5 THEN 'inf'::DOUBLE ELSE range END AS x "
        "FROM range(100)"
    )
    numeric = compute_statistics(write_parquet("n.parquet", query)).column("x").numeric
    assert (numeric.nan, numeric.inf) == (10, 1)
    assert sum(numeric.histogram_counts) == 89 and numeric.quantile(100) == 99


def test_largest_timestamp_gap(write_parquet: Writer) -> None:
    query = """SELECT * FROM (VALUES (TIMESTAMP '2024-01-01 00:00'), (TIMESTAMP '2024-01-01 01:00'),
               (TIMESTAMP '2024-01-03 01:00'), (NULL), (TIMESTAMP '2024-01-03 02:00')) t(ts)"""
    numeric = compute_statistics(write_parquet("t.parquet", query)).column("ts").numeric
    assert numeric.max_gap == 2 * 86400


def test_slices_by_one_column_and_a_cross(write_parquet: Writer) -> None:
    query = "SELECT range % 2 AS a, CASE WHEN range % 3 = 0 THEN 'x' ELSE 'y' END AS b, range AS v FROM range(60)"
    path = write_parquet("s.parquet", query)
    stats = compute_statistics(path, slice_by=["a"])
    assert set(stats.slices) == {"a=0", "a=1"} and stats.slices["a=0"].num_rows == 30
    assert stats.slices["a=1"].column("v").numeric.min == 1
    # Slice histograms share the whole table's edges, so slices are comparable bucket by bucket.
    assert stats.slices["a=0"].column("v").numeric.histogram_edges == stats.column("v").numeric.histogram_edges
    crossed = compute_statistics(path, slice_by=["a", "b"])
    assert len(crossed.slices) == 4
    assert crossed.slices["a=0,b=x"].num_rows == 10
    assert crossed.slices["a=0,b=x"].column("b").string.top == (("x", 10),)
    again = DatasetStatistics.from_dict(json.loads(json.dumps(crossed.to_dict())))
    assert again == crossed
    with pytest.raises(UsageError, match="did you mean 'a'"):
        compute_statistics(path, slice_by=["aa"])


def test_merging_partitions_is_exact_for_counts_moments_and_complete_top_values(write_parquet: Writer) -> None:
    whole_query = "SELECT range % 7 * 1.5 AS x, (['p', 'q', 'r'])[1 + range % 3] AS c FROM range(3000)"
    whole = compute_statistics(write_parquet("w.parquet", whole_query))
    first = compute_statistics(write_parquet("1.parquet", whole_query + " LIMIT 1000"))
    second = compute_statistics(write_parquet("2.parquet", whole_query + " OFFSET 1000"))
    merged = merge_statistics([first, second])
    assert merged.num_rows == 3000
    x, wx = merged.column("x").numeric, whole.column("x").numeric
    assert (x.min, x.max, x.zeros) == (wx.min, wx.max, wx.zeros)
    assert x.mean == pytest.approx(wx.mean) and x.std == pytest.approx(wx.std)
    assert x.histogram_counts == wx.histogram_counts  # same edges on both sides: exact
    assert x.approximate and x.quantile(50) == pytest.approx(wx.quantile(50), abs=1.5)
    c, wc = merged.column("c").string, whole.column("c").string
    assert c.top == wc.top and c.distinct == 3 and not c.distinct_is_approximate


def test_merging_refuses_conflicting_types(write_parquet: Writer) -> None:
    a = compute_statistics(write_parquet("a.parquet", "SELECT 1 AS x"))
    b = compute_statistics(write_parquet("b.parquet", "SELECT 'one' AS x"))
    with pytest.raises(UsageError, match="cannot merge column 'x'"):
        merge_statistics([a, b])


def test_old_statistics_artifacts_still_load() -> None:
    old = {
        "version": 1,
        "num_rows": 2,
        "columns": [
            {
                "name": "x",
                "type": "int",
                "count": 2,
                "missing": 0,
                "numeric": {"min": 1, "max": 2, "mean": 1.5, "std": 0.7},
            }
        ],
    }
    stats = DatasetStatistics.from_dict(old)
    assert stats.column("x").numeric.percentiles == () and stats.slices == {}
