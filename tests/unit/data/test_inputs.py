"""Reading with explicit CSV options and from SQL queries on DuckDB, SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from modelyard.data.csv_source import CsvOptions
from modelyard.data.inputs import ReadOptions, database_kind
from modelyard.data.statistics import compute_statistics
from modelyard.errors import DataError, UsageError


def test_semicolon_latin1_file_without_header(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("café;1\nnaïve;2\ncafé;3\n".encode("latin-1"))
    options = ReadOptions(csv=CsvOptions(delimiter=";", encoding="latin-1", header=False))
    stats = compute_statistics(path, options=options)
    assert stats.num_rows == 3 and stats.names == ("column0", "column1")
    assert stats.column("column0").string.top == (("café", 2), ("naïve", 1))
    assert stats.column("column1").numeric.max == 3


def test_a_file_that_is_not_utf8_names_the_line_unless_the_encoding_is_given(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("name,n\nok,1\ncaf\xe9,2\n".encode("latin-1"))
    with pytest.raises(DataError) as caught:
        compute_statistics(path)
    assert caught.value.where.line == 3 and "UTF-8" in caught.value.message
    assert compute_statistics(path, options=ReadOptions(csv=CsvOptions(encoding="latin-1"))).num_rows == 2


def test_unknown_encoding_and_long_delimiter_are_refused() -> None:
    with pytest.raises(DataError, match="unsupported encoding"):
        CsvOptions(encoding="cp1252")
    with pytest.raises(DataError, match="one character"):
        CsvOptions(delimiter="::")


def test_jsonl_and_partitioned_parquet(tmp_path: Path, write_parquet: Callable[[str, str], Path]) -> None:
    lines = tmp_path / "rows.jsonl"
    lines.write_text('{"a": 1, "tags": ["x", "y"]}\n{"a": 2, "tags": []}\n{"a": null, "tags": ["z"]}\n')
    stats = compute_statistics(lines)
    assert stats.column("a").missing == 1
    tags = stats.column("tags")
    assert tags.type == "list" and tags.lists is not None
    assert (tags.lists.min_values, tags.lists.max_values, tags.lists.total_values) == (0, 2, 3)
    write_parquet("parts/day=1/p.parquet", "SELECT range AS x FROM range(10)")
    write_parquet("parts/day=2/p.parquet", "SELECT range AS x FROM range(5)")
    folder = compute_statistics(tmp_path / "parts")
    assert folder.num_rows == 15 and folder.column("day").count == 15


def test_sql_on_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE orders (id INTEGER, amount REAL, note TEXT)")
    conn.executemany("INSERT INTO orders VALUES (?, ?, ?)", [(i, i * 1.5, "NA" if i % 2 else None) for i in range(100)])
    conn.commit()
    conn.close()
    stats = compute_statistics(sql="SELECT * FROM orders WHERE id >= 10", db=f"sqlite:///{path}")
    assert stats.num_rows == 90
    assert stats.column("amount").numeric.min == 15.0
    # "NA" stored in the database is a value, not a missing marker; NULL is missing.
    note = stats.column("note")
    assert (note.count, note.missing, note.string.top) == (45, 45, (("NA", 45),))
    with pytest.raises(DataError, match="no such table"):
        compute_statistics(sql="SELECT * FROM nope", db=f"sqlite:///{path}")


def test_sql_on_duckdb(tmp_path: Path) -> None:
    path = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE t AS SELECT range AS x, range % 3 AS g FROM range(1000)")
    con.close()
    stats = compute_statistics(sql="SELECT * FROM t WHERE g = 1", db=str(path))
    assert stats.num_rows == 333 and stats.column("x").numeric.min == 1


def test_sql_on_postgresql(pg_url: str) -> None:
    import psycopg

    url = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS visits")
        conn.execute("CREATE TABLE visits (id int, city text, at timestamp, spend numeric(8,2))")
        conn.execute(
            "INSERT INTO visits SELECT g, CASE WHEN g % 3 = 0 THEN 'Oslo' ELSE 'Bergen' END, "
            "timestamp '2024-01-01' + g * interval '1 hour', g / 4.0 FROM generate_series(1, 3000) g"
        )
        conn.execute("UPDATE visits SET at = at + interval '3 days' WHERE id > 2000")
    stats = compute_statistics(sql="SELECT * FROM visits", db=pg_url)
    assert stats.num_rows == 3000
    assert stats.column("city").string.top == (("Bergen", 2000), ("Oslo", 1000))
    at = stats.column("at")
    assert at.type == "timestamp" and at.numeric.max_gap == pytest.approx(3 * 86400 + 3600)
    with pytest.raises(DataError, match="PostgreSQL"):
        compute_statistics(sql="SELECT * FROM missing_table", db=pg_url)


def test_database_urls() -> None:
    assert database_kind("postgresql+psycopg://u@h/db") == ("postgresql", "postgresql://u@h/db")
    assert database_kind("sqlite:////abs/x.db") == ("sqlite", "/abs/x.db")
    assert database_kind("warehouse.duckdb") == ("duckdb", "warehouse.duckdb")
    with pytest.raises(UsageError, match="unknown database URL scheme"):
        database_kind("mysql://x")
    with pytest.raises(UsageError, match="needs --db"):
        compute_statistics(sql="SELECT 1")
