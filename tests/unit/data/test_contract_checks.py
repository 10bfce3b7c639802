"""NaN/infinity, row counts, schema YAML keys added for them, and relaxing a schema without losing edits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from modelyard.core.schema import ColumnSchema, Schema
from modelyard.data.schema_infer import infer_schema, relax_schema
from modelyard.data.schema_io import read_schema_yaml, schema_yaml, write_schema_yaml
from modelyard.data.statistics import compute_statistics
from modelyard.data.validation import validate_statistics
from modelyard.errors import UsageError

Writer = Callable[[str, str], Path]


def test_nan_and_infinity_need_permission(write_parquet: Writer) -> None:
    query = (
        "SELECT CASE WHEN range = 3 THEN 'nan'::DOUBLE WHEN range = 4 THEN '-inf'::DOUBLE ELSE range END AS x "
        "FROM range(10)"
    )
    stats = compute_statistics(write_parquet("x.parquet", query))
    schema = Schema(columns=(ColumnSchema("x", "float"),))
    found = validate_statistics(stats, schema)
    assert [(a.code, a.details["count"]) for a in found] == [("nan_not_allowed", 1), ("inf_not_allowed", 1)]
    allowed = Schema(columns=(ColumnSchema("x", "float", allow_nan=True, allow_inf=True),))
    assert len(validate_statistics(stats, allowed)) == 0
    inferred = infer_schema(stats)
    assert inferred.column("x").allow_nan and inferred.column("x").allow_inf


def test_row_count_bounds_and_change_against_the_previous_span(write_parquet: Writer) -> None:
    small = compute_statistics(write_parquet("s.parquet", "SELECT range AS x FROM range(50)"))
    big = compute_statistics(write_parquet("b.parquet", "SELECT range % 50 AS x FROM range(100)"))
    schema = Schema(columns=(ColumnSchema("x", "int"),), min_rows=60, max_rows=1000, max_row_change=0.3)
    (bounds,) = validate_statistics(small, schema)
    assert bounds.code == "row_count_out_of_bounds" and "60..1,000" in bounds.message
    codes = [a.code for a in validate_statistics(small, replace(schema, min_rows=None), reference=big)]
    assert codes == ["row_count_changed"]
    assert len(validate_statistics(big, schema, reference=big)) == 0


def test_new_schema_keys_round_trip_through_yaml(tmp_path: Path) -> None:
    schema = Schema(
        columns=(ColumnSchema("x", "float", allow_nan=True, drift_threshold=0.2), ColumnSchema("c", "string")),
        min_rows=10,
        max_rows=500,
        max_row_change=0.5,
    )
    path = tmp_path / "schema.yaml"
    write_schema_yaml(schema, path)
    text = path.read_text()
    assert "rows:\n  min: 10\n  max: 500\n  max_change: 0.5\n" in text and "allow_nan: true" in text
    assert read_schema_yaml(path) == schema


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("rows:\n  minimum: 3\n", "unknown key 'minimum' in rows"),
        ("rows:\n  min: 2.5\n", "rows min must be a whole number"),
        ("rows:\n  min: 9\n  max: 3\n", "rows min 9 is greater than max 3"),
    ],
)
def test_row_section_mistakes_name_the_line(tmp_path: Path, bad: str, message: str) -> None:
    path = tmp_path / "schema.yaml"
    path.write_text("version: 1\n" + bad + "columns:\n  x: {type: int}\n")
    with pytest.raises(UsageError, match=message) as caught:
        read_schema_yaml(path)
    assert caught.value.where.line is not None and caught.value.where.line >= 2


def test_allow_nan_must_be_a_bool(tmp_path: Path) -> None:
    path = tmp_path / "schema.yaml"
    path.write_text("columns:\n  x:\n    type: float\n    allow_nan: sometimes\n")
    with pytest.raises(UsageError, match="allow_nan must be true or false") as caught:
        read_schema_yaml(path)
    assert caught.value.where.line == 4


def test_relaxing_widens_only_what_the_new_data_needs_and_keeps_edits(write_parquet: Writer) -> None:
    old = compute_statistics(
        write_parquet("o.parquet", "SELECT range AS n, (['a', 'b'])[1 + range % 2] AS c FROM range(100)")
    )
    edited = infer_schema(old)
    edited = replace(
        edited,
        columns=(
            replace(edited.column("n"), min=0.0, max=99.0, drift_threshold=0.3),
            replace(edited.column("c"), skew_threshold=0.2),
            ColumnSchema("hand_added", "string", nullable=True, min_presence=0.0),
        ),
        max_rows=100,
    )
    query = (
        "SELECT CASE WHEN range < 20 THEN NULL ELSE range * 1.5 END AS n, (['a', 'b', 'z'])[1 + range % 3] AS c, "
        "1 AS extra FROM range(300)"
    )
    new = compute_statistics(write_parquet("n.parquet", query))
    assert validate_statistics(new, edited).has_errors
    relaxed = relax_schema(edited, new)
    n, c = relaxed.column("n"), relaxed.column("c")
    assert (n.type, n.nullable, n.min, n.max, n.drift_threshold) == ("float", True, 0.0, 448.5, 0.3)
    assert n.min_presence == pytest.approx(0.88)
    assert c.domain == ("a", "b", "z") and c.skew_threshold == 0.2
    assert relaxed.find_column("hand_added") is not None and relaxed.column("extra").type == "int"
    assert relaxed.max_rows == 300
    assert not validate_statistics(new, relaxed).has_errors
    assert "hand_added" in schema_yaml(relaxed)
