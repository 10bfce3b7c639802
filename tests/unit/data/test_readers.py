"""Ingest: every row lands in exactly one split, the split is reproducible, and formats read alike."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from modelyard.data.readers import detect_format, ingest
from modelyard.errors import DataError


def _rows(path: Path) -> list[dict]:
    return pq.read_table(path).to_pylist()


def test_penguins_rows_add_up_and_columns_are_typed(penguins_csv: Path, tmp_path: Path) -> None:
    result = ingest(penguins_csv, tmp_path / "out")
    assert result["format"] == "csv"
    assert result["rows"] == 344
    assert result["train_rows"] + result["eval_rows"] == 344
    assert 0.1 * 344 < result["eval_rows"] < 0.3 * 344
    assert len(_rows(tmp_path / "out" / "train.parquet")) == result["train_rows"]
    assert len(_rows(tmp_path / "out" / "eval.parquet")) == result["eval_rows"]
    types = {c["name"]: c["type"] for c in result["columns"]}
    assert types == {
        "species": "string",
        "island": "string",
        "bill_length_mm": "float",
        "bill_depth_mm": "float",
        "flipper_length_mm": "int",
        "body_mass_g": "int",
        "sex": "string",
        "year": "int",
    }


def test_na_becomes_null(penguins_csv: Path, tmp_path: Path) -> None:
    ingest(penguins_csv, tmp_path)
    rows = _rows(tmp_path / "train.parquet") + _rows(tmp_path / "eval.parquet")
    assert sum(row["sex"] is None for row in rows) == 11
    assert sum(row["bill_length_mm"] is None for row in rows) == 2
    assert "NA" not in {row["sex"] for row in rows}


def test_the_split_is_the_same_on_every_call_and_changes_with_the_seed(penguins_csv: Path, tmp_path: Path) -> None:
    ingest(penguins_csv, tmp_path / "a", seed=7)
    ingest(penguins_csv, tmp_path / "b", seed=7)
    ingest(penguins_csv, tmp_path / "c", seed=8)
    first, again, other = (_rows(tmp_path / name / "eval.parquet") for name in "abc")
    assert first == again
    assert first != other


def test_rows_keep_their_input_order_on_each_side(penguins_csv: Path, tmp_path: Path) -> None:
    import duckdb

    ingest(penguins_csv, tmp_path)
    source = duckdb.sql(f"SELECT * FROM read_csv('{penguins_csv}', nullstr=['NA', ''])").fetchall()
    train = [tuple(row.values()) for row in _rows(tmp_path / "train.parquet")]
    positions = [source.index(row) for row in train]
    assert positions == sorted(positions)


def test_a_split_key_keeps_groups_together(penguins_csv: Path, tmp_path: Path) -> None:
    result = ingest(penguins_csv, tmp_path, split_key=["island", "year"], eval_fraction=0.3)
    train = {(r["island"], r["year"]) for r in _rows(tmp_path / "train.parquet")}
    held_out = {(r["island"], r["year"]) for r in _rows(tmp_path / "eval.parquet")}
    assert train and held_out
    assert not train & held_out
    assert result["rows"] == 344


def test_an_unknown_split_key_is_named_with_a_hint(penguins_csv: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="did you mean 'island'") as caught:
        ingest(penguins_csv, tmp_path, split_key=["islnd"])
    assert caught.value.where.column == "islnd"


def test_custom_na_values(tmp_path: Path) -> None:
    source = tmp_path / "d.csv"
    source.write_text("a,b\n1,?\n2,x\n3,\n" + "".join(f"{i},y\n" for i in range(4, 40)))
    ingest(source, tmp_path / "out", na_values=["?"])
    rows = _rows(tmp_path / "out" / "train.parquet") + _rows(tmp_path / "out" / "eval.parquet")
    values = {row["a"]: row["b"] for row in rows}
    assert values[1] is None
    assert values[3] == ""  # with a custom list, an empty field is a value again


def test_parquet_file_folder_and_json_lines_are_ingested(
    tmp_path: Path, write_parquet: Callable[[str, str], Path]
) -> None:
    query = "SELECT i AS id, i % 3 AS part, 'v' || i AS label FROM range(60) t(i)"
    single = write_parquet("single.parquet", query)
    folder = tmp_path / "folder"
    write_parquet("folder/a.parquet", query + " WHERE i < 30")
    write_parquet("folder/b.parquet", query + " WHERE i >= 30")
    lines = tmp_path / "rows.jsonl"
    lines.write_text("".join(json.dumps({"id": i, "label": f"v{i}", "ok": i % 2 == 0}) + "\n" for i in range(60)))

    assert ingest(single, tmp_path / "o1")["rows"] == 60
    assert ingest(folder, tmp_path / "o2")["rows"] == 60
    result = ingest(lines, tmp_path / "o3")
    assert result["format"] == "jsonl"
    assert {c["name"]: c["type"] for c in result["columns"]} == {"id": "int", "label": "string", "ok": "bool"}
    # Same rows, same seed: the split does not depend on the format the rows came in.
    eval_single = {r["id"] for r in _rows(tmp_path / "o1" / "eval.parquet")}
    eval_folder = {r["id"] for r in _rows(tmp_path / "o2" / "eval.parquet")}
    assert eval_single == eval_folder


def test_hive_partition_columns_are_read(tmp_path: Path, write_parquet: Callable[[str, str], Path]) -> None:
    write_parquet("sales/region=north/part.parquet", "SELECT 1 AS amount UNION ALL SELECT 2")
    write_parquet("sales/region=south/part.parquet", "SELECT 3 AS amount")
    result = ingest(tmp_path / "sales", tmp_path / "out", eval_fraction=0.5)
    assert {c["name"] for c in result["columns"]} == {"amount", "region"}
    assert result["rows"] == 3


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a.csv", "csv"), ("a.CSV.gz", "csv"), ("a.tsv", "csv"), ("b.parquet", "parquet"), ("c.jsonl", "jsonl")],
)
def test_detect_format_from_the_suffix(name: str, expected: str) -> None:
    assert detect_format(Path(name)) == expected


def test_detect_format_of_a_folder_and_of_an_unknown_suffix(tmp_path: Path) -> None:
    assert detect_format(tmp_path) == "parquet"
    with pytest.raises(DataError, match="known suffixes"):
        detect_format(tmp_path / "data.xlsx")
