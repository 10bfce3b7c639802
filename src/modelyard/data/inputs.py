"""One way to name the data a statistics or validation run reads: a file, a folder, or a SQL query.

Files go straight to DuckDB (see :mod:`modelyard.data.readers`). A query against a DuckDB database
runs inside DuckDB on the attached file, streamed like any scan. PostgreSQL and SQLite are read
without DuckDB's scanner extensions (they would have to be downloaded, which a locked-down CI
machine cannot do): the query's result is streamed in batches to a staging CSV in a private temp
folder (PostgreSQL's ``COPY ... TO STDOUT`` does the batching on the server), DuckDB reads that like
any CSV, and the folder is removed when the read is over, whatever happened.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from modelyard.data.csv_source import CsvOptions, sql_string
from modelyard.data.readers import Source, open_source
from modelyard.errors import DataError, Location, UsageError

if TYPE_CHECKING:
    import duckdb

#: Rows fetched per round trip when a database result is streamed to the staging file.
BATCH_ROWS = 50_000
_DB_KINDS = ("postgresql", "sqlite", "duckdb")


@dataclass(frozen=True)
class ReadOptions:
    """How to read the input; every field has a sensible "detect it" default.

    ``na_values`` are the text markers of a missing value in CSV (default ``NA`` and empty);
    ``format`` overrides the suffix (``csv``, ``parquet``, ``jsonl``).
    """

    csv: CsvOptions = field(default_factory=CsvOptions)
    na_values: tuple[str, ...] | None = None
    format: str | None = None


def database_kind(db: str) -> tuple[str, str]:
    """``(kind, target)`` for a database URL or path: postgresql (a libpq URL), sqlite or duckdb (a file)."""
    scheme, sep, rest = db.partition("://")
    if sep:
        base = scheme.split("+")[0].lower()
        if base in ("postgres", "postgresql"):
            return "postgresql", "postgresql://" + rest
        if base in ("sqlite", "duckdb"):
            # sqlite:///relative.db and sqlite:////absolute.db, as SQLAlchemy spells them.
            return base, rest[1:] if rest.startswith("/") else rest
        raise UsageError(f"unknown database URL scheme '{scheme}'", hint="use postgresql://, sqlite:/// or duckdb:///")
    suffix = Path(db).suffix.lower()
    if suffix in (".duckdb", ".ddb"):
        return "duckdb", db
    if suffix in (".sqlite", ".sqlite3", ".db"):
        return "sqlite", db
    raise UsageError(
        f"cannot tell which database '{db}' is", hint="give a URL: postgresql://..., sqlite:///file.db, duckdb:///file"
    )


def _require_file(kind: str, target: str) -> None:
    if not Path(target).is_file():
        raise DataError(f"{kind} database file not found", where=Location(file=target), hint="check the --db path")


def _stage_postgres(query: str, url: str, staging: Path) -> None:
    import psycopg

    statement = query.strip().rstrip(";")
    try:
        with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cursor, staging.open("wb") as out:
            copy_sql = f"COPY ({statement}) TO STDOUT WITH (FORMAT csv, HEADER true)"
            with cursor.copy(copy_sql) as copy:  # type: ignore[arg-type]
                for chunk in copy:
                    out.write(chunk)
    except psycopg.Error as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"PostgreSQL: {text}", where=Location(field="sql"), hint="check the query and --db URL"
        ) from None


def _stage_sqlite(query: str, path: str, staging: Path) -> None:
    import sqlite3

    _require_file("SQLite", path)
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise DataError(f"SQLite: {exc}", where=Location(file=path)) from None
    try:
        cursor = conn.execute(query)
        with staging.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow([column[0] for column in cursor.description or ()])
            while batch := cursor.fetchmany(BATCH_ROWS):
                writer.writerows(batch)
    except sqlite3.Error as exc:
        raise DataError(f"SQLite: {exc}", where=Location(file=path, field="sql"), hint="check the query") from None
    finally:
        conn.close()


@contextmanager
def open_input(
    con: duckdb.DuckDBPyConnection,
    data: Path | str | None,
    *,
    options: ReadOptions | None = None,
    sql: str | None = None,
    db: str | None = None,
) -> Iterator[Source]:
    """The :class:`Source` for a file (``data``) or a query (``sql`` against ``db``); cleans up on exit."""
    options = options or ReadOptions()
    if sql is None:
        if db is not None:
            raise UsageError("--db needs --sql: the query to run against the database")
        if data is None:
            raise UsageError("no data given", hint="name a file or folder, or give --sql and --db")
        yield open_source(con, Path(data), na_values=options.na_values, csv=options.csv, format=options.format)
        return
    if data is not None:
        raise UsageError("give either a data file or --sql, not both")
    if db is None:
        raise UsageError("--sql needs --db: the database to run it against", hint="e.g. --db sqlite:///shop.db")
    kind, target = database_kind(db)
    label = f"query on {kind} database"
    if kind == "duckdb":
        _require_file("DuckDB", target)
        try:
            con.execute(f"ATTACH {sql_string(target)} AS source_db (READ_ONLY)")
            con.execute("USE source_db")
            con.execute(f"DESCRIBE ({sql})")
        except Exception as exc:
            text = str(exc).strip().splitlines()[0]
            raise DataError(
                f"DuckDB: {text}", where=Location(file=target, field="sql"), hint="check the query"
            ) from None
        yield Source(path=Path(target), format="query", sql=f"({sql})", label=label)
        return
    folder = Path(tempfile.mkdtemp(prefix="modelyard-query-"))
    try:
        staging = folder / "result.csv"
        (_stage_postgres if kind == "postgresql" else _stage_sqlite)(sql, target, staging)
        # A database NULL arrives as an empty field; text like "NA" in the database is a value.
        source = open_source(con, staging, na_values=("",), format="csv")
        yield Source(
            path=source.path,
            format=source.format,
            sql=source.sql,
            na_values=source.na_values,
            csv=source.csv,
            label=label,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
