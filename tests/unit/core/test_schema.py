"""The schema value type: lookups, environments, its own consistency rules and a JSON round trip."""

from __future__ import annotations

import json

import pytest

from modelyard.core.schema import ColumnSchema, Environment, Schema
from modelyard.errors import NotFound, UsageError


def _schema() -> Schema:
    return Schema(
        columns=(
            ColumnSchema("species", "string", domain=("Adelie", "Gentoo")),
            ColumnSchema("mass", "float", min_presence=0.9, nullable=True, min=0.0, max=10000.0),
            ColumnSchema("year", "int", drift_threshold=0.1, skew_threshold=0.2),
        ),
        environments={
            "training": Environment("training"),
            "serving": Environment("serving", ("species",)),
        },
    )


def test_columns_for_an_environment_leave_out_its_excluded_columns() -> None:
    schema = _schema()
    assert [c.name for c in schema.columns_for("serving")] == ["mass", "year"]
    assert [c.name for c in schema.columns_for("training")] == ["species", "mass", "year"]
    assert [c.name for c in schema.columns_for(None)] == ["species", "mass", "year"]


def test_unknown_environment_and_column_suggest_a_name() -> None:
    with pytest.raises(NotFound, match="did you mean 'serving'"):
        _schema().columns_for("servng")
    with pytest.raises(NotFound, match="did you mean 'species'"):
        _schema().column("specie")


def test_json_round_trip_gives_an_equal_schema() -> None:
    schema = _schema()
    assert Schema.from_dict(json.loads(json.dumps(schema.to_dict()))) == schema


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"type": "flaot"}, "did you mean 'float'"),
        ({"type": "float", "min_presence": 0.5}, "nullable"),
        ({"type": "float", "nullable": True, "min_presence": 1.5}, "between 0 and 1"),
        ({"type": "float", "min": 5.0, "max": 1.0}, "greater than max"),
    ],
)
def test_inconsistent_columns_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        ColumnSchema("x", **kwargs)


def test_a_schema_refuses_duplicate_columns_and_exclusions_of_unknown_ones() -> None:
    column = ColumnSchema("age", "int")
    with pytest.raises(UsageError, match="twice"):
        Schema(columns=(column, column))
    with pytest.raises(UsageError, match="did you mean 'age'"):
        Schema(columns=(column,), environments={"serving": Environment("serving", ("agee",))})
