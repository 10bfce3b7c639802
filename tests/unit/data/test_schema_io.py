"""Schema YAML: a lossless round trip, and mistakes reported with file, line and a hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.core.schema import ColumnSchema, Environment, Schema
from modelyard.data.schema_infer import infer_schema
from modelyard.data.schema_io import read_schema_yaml, write_schema_yaml
from modelyard.data.statistics import compute_statistics
from modelyard.errors import NotFound, UsageError

GOOD = """\
version: 1
columns:
  species:
    type: string
    nullable: false
    domain: [Adelie, Gentoo]
  mass:
    type: float
    nullable: true
    min_presence: 0.9
    min: 0
    max: 10000
environments:
  serving:
    exclude: [species]
"""


def _error(tmp_path: Path, text: str) -> UsageError:
    path = tmp_path / "schema.yaml"
    path.write_text(text)
    with pytest.raises(UsageError) as caught:
        read_schema_yaml(path)
    assert caught.value.where.file == str(path)
    return caught.value


def test_infer_write_read_round_trip(penguins_csv: Path, tmp_path: Path) -> None:
    schema = infer_schema(compute_statistics(penguins_csv), label="species")
    write_schema_yaml(schema, tmp_path / "schema.yaml")
    assert read_schema_yaml(tmp_path / "schema.yaml") == schema


def test_every_field_survives_the_round_trip(tmp_path: Path) -> None:
    schema = Schema(
        columns=(
            ColumnSchema("yes", "string", domain=("no", "1", "true", "null", "a: b")),
            ColumnSchema("x", "float", 0.25, True, None, -1.5, 2.0, 0.1, 0.2),
            ColumnSchema("when", "timestamp"),
        ),
        environments={"serving": Environment("serving", ("yes",)), "training": Environment("training")},
    )
    write_schema_yaml(schema, tmp_path / "s.yaml")
    assert read_schema_yaml(tmp_path / "s.yaml") == schema


def test_the_file_reads_well(tmp_path: Path) -> None:
    schema = Schema(columns=(ColumnSchema("color", "string", domain=("blue", "red")),))
    write_schema_yaml(schema, tmp_path / "s.yaml")
    text = (tmp_path / "s.yaml").read_text()
    assert text.startswith("# modelyard schema")
    assert "  color:\n    type: string\n    nullable: false\n    domain: [blue, red]\n" in text


def test_the_hand_written_example_is_read(tmp_path: Path) -> None:
    (tmp_path / "schema.yaml").write_text(GOOD)
    schema = read_schema_yaml(tmp_path / "schema.yaml")
    assert schema.column("mass").min == 0.0 and schema.column("mass").max == 10000.0
    assert schema.environments["serving"].exclude == ("species",)


def test_misspelt_key(tmp_path: Path) -> None:
    error = _error(tmp_path, GOOD.replace("    min_presence: 0.9", "    min_presense: 0.9"))
    assert (error.where.line, error.where.column, error.where.field) == (10, "mass", "min_presense")
    assert error.hint == "did you mean 'min_presence'?"
    assert "schema.yaml:10" in str(error)


def test_unknown_type_name(tmp_path: Path) -> None:
    error = _error(tmp_path, GOOD.replace("type: float", "type: flaot"))
    assert error.where.line == 8
    assert error.hint == "did you mean 'float'?"


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("min_presence: 0.9", "min_presence: high", 10, "must be a number"),
        ("min_presence: 0.9", "min_presence: 1.5", 10, "between"),
        ("nullable: true", "nullable: maybe", 9, "true or false"),
        ("[Adelie, Gentoo]", "[Adelie, 12]", 6, "not text"),
        ("[Adelie, Gentoo]", "[Adelie, Adelie]", 6, "twice"),
        ("max: 10000", "max: -1", 11, "greater than max"),
        ("exclude: [species]", "exclude: [specis]", 15, "unknown column"),
        ("  serving:\n    exclude", "  serving:\n    excludes", 15, "unknown key"),
        ("columns:", "colums:", 2, "unknown key"),
        ("    type: float\n", "", 7, "has no type"),
        ("    nullable: true\n", "", 9, "nullable is false"),
        ("domain: [Adelie, Gentoo]", "domain: [Adelie, Gentoo", 7, "not valid YAML"),
        ("version: 1", "version: 7", 1, "newer"),
    ],
)
def test_bad_values_name_their_line(tmp_path: Path, old: str, new: str, line: int, message: str) -> None:
    assert old in GOOD
    error = _error(tmp_path, GOOD.replace(old, new, 1))
    assert message in error.message
    assert error.where.line == line


def test_domain_number_hint_says_to_quote(tmp_path: Path) -> None:
    error = _error(tmp_path, GOOD.replace("[Adelie, Gentoo]", "[Adelie, 12]"))
    assert error.hint == "quote it: '12'"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        read_schema_yaml(tmp_path / "nope.yaml")
