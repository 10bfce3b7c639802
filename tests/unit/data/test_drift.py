"""Drift and skew distances: zero for the same data, above threshold for a real move, tests for small samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.core.anomalies import DriftReport
from modelyard.core.schema import ColumnSchema, Environment, Schema
from modelyard.data.drift import ALPHA, compare_statistics, drift_anomalies, jensen_shannon, psi
from modelyard.data.statistics import compute_statistics
from modelyard.errors import UsageError


def _stats(tmp_path: Path, name: str, rows: int, seed: float, shift: float = 0.0, purple: float = 0.0):  # type: ignore[no-untyped-def]
    """Statistics of ``rows`` draws: x ~ N(shift, 1), c red/blue evenly with a share ``purple`` of purple."""
    import duckdb

    color = f"CASE WHEN random() < {purple} THEN 'purple' ELSE (['red', 'blue'])[1 + floor(random() * 2)::INT] END"
    value = f"{shift} + sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())"
    path = tmp_path / name
    con = duckdb.connect()
    con.execute(f"SELECT setseed({seed})")
    con.execute(f"COPY (SELECT {value} AS x, {color} AS c FROM range({rows})) TO '{path}' (FORMAT parquet)")
    con.close()
    return compute_statistics(path)


def test_distance_functions() -> None:
    assert jensen_shannon([0.5, 0.5], [0.5, 0.5]) == 0
    assert jensen_shannon([1.0, 0.0], [0.0, 1.0]) == pytest.approx(1.0)
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0
    assert psi([0.5, 0.5], [0.9, 0.1]) == pytest.approx(0.4 * 0.5878 + 0.4 * 1.6094, rel=1e-3)


def test_same_distribution_does_not_drift_and_a_shift_does(tmp_path: Path) -> None:
    reference = _stats(tmp_path, "r.parquet", 50_000, seed=0.1)
    same = _stats(tmp_path, "s.parquet", 50_000, seed=0.2)
    shifted = _stats(tmp_path, "m.parquet", 50_000, seed=0.2, shift=1.0)
    quiet = compare_statistics(reference, same)
    assert quiet.drifted == () and {c.metric for c in quiet.columns} == {"jensen_shannon", "linf"}
    moved = compare_statistics(reference, shifted)
    assert [c.column for c in moved.drifted] == ["x"]
    x = moved.find("x")
    assert x.value > 0.1 and x.distances["ks"] > 0.3 and x.distances["psi"] > 0.5
    assert DriftReport.from_dict(moved.to_dict()) == moved


def test_small_samples_use_tests(tmp_path: Path) -> None:
    reference = _stats(tmp_path, "r.parquet", 300, seed=0.1)
    same = _stats(tmp_path, "s.parquet", 300, seed=0.2)
    new_colour = _stats(tmp_path, "p.parquet", 300, seed=0.2, purple=0.2)
    report = compare_statistics(reference, same)
    assert {c.metric for c in report.columns} == {"ks_test", "chi2_test"}
    assert all(c.value >= ALPHA / 2 and c.threshold == ALPHA / 2 for c in report.columns) and report.drifted == ()
    moved = compare_statistics(reference, new_colour)
    assert [c.column for c in moved.drifted] == ["c"] and moved.find("c").value < 1e-6


def test_thresholds_come_from_the_schema_and_make_drift_an_error(tmp_path: Path) -> None:
    reference = _stats(tmp_path, "r.parquet", 20_000, seed=0.1)
    current = _stats(tmp_path, "c.parquet", 20_000, seed=0.2, purple=0.05)
    loose = compare_statistics(reference, current)
    found = loose.find("c")
    assert found.distances["linf"] == pytest.approx(0.05, abs=0.02)  # below the default L-infinity 0.1, but
    assert found.drifted and found.metric == "new_categories"  # "purple" is new: the default second signal
    assert found.value == pytest.approx(0.05, abs=0.02)
    assert "categories the reference never had" in drift_anomalies(loose)[0].message
    schema = Schema(
        columns=(ColumnSchema("x", "float"), ColumnSchema("c", "string", drift_threshold=0.02, skew_threshold=0.5)),
        environments={"serving": Environment("serving", ("x",))},
    )
    strict = compare_statistics(reference, current, schema=schema)
    assert [c.column for c in strict.drifted] == ["c"]
    (item,) = drift_anomalies(strict, schema)
    assert (item.code, item.severity, item.column) == ("drift", "error", "c")
    assert "L-infinity distance" in item.message
    skew = compare_statistics(reference, current, schema=schema, mode="skew", environment="serving")
    assert [c.column for c in skew.columns] == ["c"] and skew.drifted == ()
    with pytest.raises(UsageError):
        compare_statistics(reference, current, mode="sideways")


def test_a_column_whose_type_changed_is_reported_as_not_compared(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("n,c\n1,x\n2,y\n3,x\n")
    (tmp_path / "b.csv").write_text("n,c\none,x\ntwo,y\nthree,x\n")
    report = compare_statistics(compute_statistics(tmp_path / "a.csv"), compute_statistics(tmp_path / "b.csv"))
    assert [c.column for c in report.columns] == ["c"]
    assert report.not_compared == (("n", "type changed from int to string"),)
    assert DriftReport.from_dict(report.to_dict()) == report


def test_a_shifted_count_column_is_caught_by_the_ks_distance_and_a_clean_one_is_not(tmp_path: Path) -> None:
    """Poisson(3) -> Poisson(3.5): Jensen-Shannon stays under its default, the KS distance does not."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(3)
    for name, mean in (("a", 3.0), ("b", 3.0), ("c", 3.5)):
        pq.write_table(pa.table({"visits": rng.poisson(mean, 50_000)}), tmp_path / f"{name}.parquet")
    stats = {name: compute_statistics(tmp_path / f"{name}.parquet") for name in "abc"}
    shifted = compare_statistics(stats["a"], stats["c"]).find("visits")
    assert shifted.distances["jensen_shannon"] < 0.02 < shifted.distances["ks"]
    assert shifted.drifted and shifted.metric == "ks"
    clean = compare_statistics(stats["a"], stats["b"]).find("visits")
    assert not clean.drifted and clean.distances["ks"] < 0.05
