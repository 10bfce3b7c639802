"""Every kind of broken input file gives a DataError naming the file, the line and column, and a hint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelyard.data.readers import ingest
from modelyard.data.statistics import compute_statistics
from modelyard.errors import DataError

#: More lines than DuckDB samples to detect the dialect, so a problem after them is found by the scan.
LONG = 25_000


def _ingest_error(tmp_path: Path, name: str, content: bytes | str) -> DataError:
    source = tmp_path / name
    source.write_bytes(content.encode() if isinstance(content, str) else content)
    with pytest.raises(DataError) as caught:
        ingest(source, tmp_path / "out")
    assert caught.value.where.file == str(source)
    assert not (tmp_path / "out" / "train.parquet").exists()
    assert caught.value.hint
    return caught.value


def _long_csv(bad_line: str) -> str:
    rows = [f"{i},name{i},{i / 2}" for i in range(LONG)]
    rows.insert(LONG - 100, bad_line)  # file line LONG - 98 (after the header, 1-based)
    return "id,name,score\n" + "\n".join(rows) + "\n"


def test_missing_file_suggests_a_neighbour(tmp_path: Path) -> None:
    (tmp_path / "penguins.csv").write_text("a\n1\n")
    with pytest.raises(DataError, match=r"did you mean 'penguins\.csv'") as caught:
        ingest(tmp_path / "penguin.csv", tmp_path / "out")
    assert "file not found" in str(caught.value)


def test_empty_file(tmp_path: Path) -> None:
    error = _ingest_error(tmp_path, "empty.csv", "")
    assert "empty" in error.message


def test_header_only(tmp_path: Path) -> None:
    error = _ingest_error(tmp_path, "header.csv", "a,b,c\n")
    assert "header but no data rows" in error.message
    assert error.where.line == 2


def test_row_with_too_few_fields(tmp_path: Path) -> None:
    error = _ingest_error(tmp_path, "ragged.csv", "a,b,c\n1,2,3\n4,5\n6,7,8\n")
    assert (error.where.line, error.where.column) == (3, "c")
    assert "2 fields, the header has 3" in error.message
    assert "ragged.csv:3" in str(error)


def test_row_with_too_many_fields(tmp_path: Path) -> None:
    error = _ingest_error(tmp_path, "wide.csv", "a,b,c\n1,2,3\n4,5,6,7\n")
    assert error.where.line == 3
    assert "4 fields, the header has 3" in error.message


def test_unterminated_quote(tmp_path: Path) -> None:
    error = _ingest_error(tmp_path, "quote.csv", 'a,b,c\n1,2,3\n4,"five,6\n7,8,9\n')
    assert (error.where.line, error.where.column) == (3, "b")
    assert "never closed" in error.message


def test_text_after_a_closing_quote(tmp_path: Path) -> None:
    error = _ingest_error(tmp_path, "quote.csv", 'a,b\n1,"x"y\n2,z\n')
    assert (error.where.line, error.where.column) == (2, "b")
    assert "quoting" in error.message


def test_bad_encoding(tmp_path: Path) -> None:
    error = _ingest_error(tmp_path, "latin1.csv", "a,b\n1,ok\n2,café\n".encode("latin-1"))
    assert error.where.line == 3
    assert "UTF-8" in error.message
    assert "iconv" in (error.hint or "")


def test_problems_beyond_the_sniffed_sample_are_found_by_the_scan(tmp_path: Path) -> None:
    ragged = _ingest_error(tmp_path, "late_ragged.csv", _long_csv("1,only-two"))
    assert (ragged.where.line, ragged.where.column) == (LONG - 98, "score")
    quoting = _ingest_error(tmp_path, "late_quote.csv", _long_csv('1,"na"me,2.0'))
    assert (quoting.where.line, quoting.where.column) == (LONG - 98, "name")


def test_a_late_value_of_another_type_widens_the_column_instead_of_failing(tmp_path: Path) -> None:
    source = tmp_path / "late_text.csv"
    source.write_text(_long_csv("not-a-number,x,1.0"))
    result = ingest(source, tmp_path / "out")
    assert result["rows"] == LONG + 1
    assert {c["name"]: c["type"] for c in result["columns"]}["id"] == "string"


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.5, 1.5])
def test_eval_fraction_outside_zero_one(penguins_csv: Path, tmp_path: Path, fraction: float) -> None:
    with pytest.raises(DataError, match="between 0 and 1") as caught:
        ingest(penguins_csv, tmp_path, eval_fraction=fraction)
    assert caught.value.where.field == "eval_fraction"


def test_malformed_json_lines(tmp_path: Path) -> None:
    good = json.dumps({"a": 1})
    error = _ingest_error(tmp_path, "rows.jsonl", f'{good}\n{good}\n{{"a": 3,\n')
    assert "malformed JSON" in error.message
    assert error.where.line is not None


def test_a_file_that_is_not_parquet(tmp_path: Path) -> None:
    error = _ingest_error(tmp_path, "data.parquet", "id,name\n1,x\n")
    assert "not a Parquet file" in error.message


def test_statistics_report_the_same_errors(tmp_path: Path) -> None:
    source = tmp_path / "ragged.csv"
    source.write_text("a,b,c\n1,2,3\n4,5\n")
    with pytest.raises(DataError) as caught:
        compute_statistics(source)
    assert caught.value.where.line == 3
