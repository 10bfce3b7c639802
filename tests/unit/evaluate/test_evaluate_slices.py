"""Slicing evaluation rows: by value, by crosses and by numeric buckets, with counts and gaps."""

from __future__ import annotations

import pytest

from modelyard.errors import UsageError
from modelyard.evaluate.slices import compute_slices, parse_slicings, slice_keys

COLUMNS = {
    "island": ["Biscoe", "Biscoe", "Dream", "Dream", None, "Biscoe"],
    "sex": ["male", "female", "male", "female", "male", "male"],
    "mass": [3000, 3600, 4000, 4600, None, 5200.5],
}
CORRECT = [True, True, False, True, True, True]


def _accuracy(rows: list[int]) -> dict[str, float]:
    return {"accuracy": sum(CORRECT[i] for i in rows) / len(rows)}


def test_value_cross_and_bucket_keys() -> None:
    by_value, cross, fixed = parse_slicings(
        ["island", ["island", "sex"], {"column": "mass", "buckets": [3500, 4500]}], list(COLUMNS)
    )
    assert slice_keys(by_value, COLUMNS)[3:5] == ["island=Dream", "island=(missing)"]
    assert slice_keys(cross, COLUMNS)[0] == "island=Biscoe, sex=male"
    assert slice_keys(fixed, COLUMNS) == [
        "mass < 3500", "3500 <= mass < 4500", "3500 <= mass < 4500", "mass >= 4500", "mass=(missing)", "mass >= 4500",
    ]  # fmt: skip


def test_quantile_buckets_split_the_rows_evenly() -> None:
    (quartiles,) = parse_slicings([{"column": "mass", "quantiles": 2}], list(COLUMNS))
    keys = slice_keys(quartiles, COLUMNS)
    assert keys.count("mass < 4000") == 2 and keys.count("mass >= 4000") == 3


def test_every_slice_has_rows_and_metrics_and_the_largest_gap_is_named() -> None:
    slicings = parse_slicings(["island", "sex"], list(COLUMNS))
    result = compute_slices(slicings, COLUMNS, _accuracy, min_rows=2)
    island = result["slicings"][0]["slices"]
    assert [(s["slice"], s["rows"], s["metrics"]["accuracy"]) for s in island] == [
        ("island=(missing)", 1, 1.0),
        ("island=Biscoe", 3, 1.0),
        ("island=Dream", 2, 0.5),
    ]
    # the one-row slice is too small to count: the gap is Biscoe 1.0 vs Dream 0.5 (sex gives 0.75 vs 1.0)
    assert result["gaps"]["accuracy"] == {
        "gap": pytest.approx(0.5), "slicing": "island", "highest": "island=Biscoe", "lowest": "island=Dream",
    }  # fmt: skip


def test_bad_slices_are_usage_errors_pointing_at_the_entry() -> None:
    with pytest.raises(UsageError, match="unknown column 'islnd'") as info:
        parse_slicings(["sex", "islnd"], list(COLUMNS))
    assert "did you mean 'island'" in info.value.one_line() and "slices[1]" in info.value.one_line()
    with pytest.raises(UsageError, match="exactly one of"):
        parse_slicings([{"column": "mass"}], list(COLUMNS))
    with pytest.raises(UsageError, match="numeric edges"):
        parse_slicings([{"column": "mass", "buckets": ["a"]}], list(COLUMNS))


def test_buckets_are_listed_low_to_high_with_missing_last() -> None:
    slicings = parse_slicings([{"column": "mass", "buckets": [3500, 4500]}], list(COLUMNS))
    result = compute_slices(slicings, COLUMNS, _accuracy, min_rows=1)
    assert [s["slice"] for s in result["slicings"][0]["slices"]] == [
        "mass < 3500", "3500 <= mass < 4500", "mass >= 4500", "mass=(missing)",
    ]  # fmt: skip
