"""Reading raw data (CSV, Parquet, JSON Lines) and ingesting it into a dataset: train and eval Parquet files.

Everything goes through DuckDB table expressions, so files are streamed and scanned in parallel rather
than loaded into memory. Any problem with the input becomes a :class:`DataError` naming the file and,
where the engine or a diagnosing pass can tell, the line and column; the user never sees an engine
stack trace for a bad file.

The train/eval split hashes row content (or a split key) with MD5 and the seed, so it does not depend
on row order, thread count, machine or DuckDB's internal hash function: the same file and seed give the
same split anywhere, and rows sharing a split key always land on the same side.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelyard.data import csv_source
from modelyard.data.csv_source import DEFAULT_NA_VALUES, CsvOptions, sql_string
from modelyard.errors import DataError, Location, did_you_mean

if TYPE_CHECKING:
    import duckdb

FORMATS = ("csv", "parquet", "jsonl")
_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_COMPRESSION_SUFFIXES = (".gz", ".zst")
_EVAL_FLAG = "__modelyard_eval__"


def detect_format(path: Path) -> str:
    """``csv``, ``parquet`` or ``jsonl`` from the file suffix (``.csv.gz`` counts as CSV); a folder is Parquet."""
    path = Path(path)
    if path.is_dir():
        return "parquet"
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSION_SUFFIXES:
        suffixes = suffixes[:-1]
    found = _SUFFIXES.get(suffixes[-1]) if suffixes else None
    if found is None:
        raise DataError(
            f"cannot tell the format of '{path.name}' from its suffix",
            where=Location(file=str(path)),
            hint="known suffixes: " + ", ".join(sorted(_SUFFIXES)) + " (or a folder of Parquet files)",
        )
    return found


def logical_type(engine_type: str) -> str:
    """Map a DuckDB type name onto modelyard's logical types (see ``core.statistics.COLUMN_TYPES``)."""
    name = engine_type.upper()
    if name.endswith("]"):
        return "list"
    if name.startswith(("STRUCT", "MAP", "UNION")):
        return "other"
    base = name.split("(")[0].strip()
    if base in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"} or base in {
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
    }:
        return "int"
    if base in {"FLOAT", "DOUBLE", "DECIMAL", "REAL"}:
        return "float"
    if base in {"VARCHAR", "ENUM"}:
        return "string"
    if base == "BOOLEAN":
        return "bool"
    if base.startswith("TIMESTAMP") or base == "DATE":
        return "timestamp"
    return "other"


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def connect() -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB that spills to the system temp folder rather than the current directory."""
    import duckdb

    con = duckdb.connect(":memory:")
    # One folder per connection: DuckDB creates it only when it spills and removes it on close, and a
    # shared folder would let one process's cleanup remove another's spill files.
    spill = Path(tempfile.gettempdir()) / f"modelyard-duckdb-{uuid.uuid4().hex}"
    con.execute(f"SET temp_directory = {sql_string(str(spill))}")
    con.execute("SET preserve_insertion_order = true")
    return con


@dataclass(frozen=True)
class Source:
    """A readable input: where it is, its format and the DuckDB table expression that reads it."""

    path: Path
    format: str
    sql: str
    na_values: tuple[str, ...] = DEFAULT_NA_VALUES
    full_sample: bool = False
    csv: CsvOptions | None = None
    #: What to call the input in messages when ``path`` is a staging file (a SQL query's result).
    label: str | None = None


def _require_readable(path: Path) -> None:
    if not path.exists():
        parent = path.parent
        if parent.is_dir():
            neighbours = sorted(child.name for child in parent.iterdir())
            hint = did_you_mean(path.name, neighbours)
            if hint and not hint.startswith("did you mean") and len(neighbours) > 10:
                hint = f"the folder holds {len(neighbours)} other entries, none with a similar name"
        else:
            hint = f"the folder '{parent}' does not exist either"
        raise DataError("file not found", where=Location(file=str(path)), hint=hint)
    if path.is_file():
        with path.open("rb") as handle:
            head = handle.read(4096)
        if not head.strip() and path.stat().st_size <= len(head):
            raise DataError("the file is empty", where=Location(file=str(path)), hint="export the data again")


def translate_error(exc: Exception, source: Source) -> DataError:
    """Turn a DuckDB error about an input file into a DataError with the line when the engine names it."""
    utf8 = source.csv is None or source.csv.encoding in (None, "utf-8", "utf8")
    if source.format == "csv" and utf8:
        problem = csv_source.diagnose(source.path, source.csv.delimiter if source.csv else None)
        if problem is not None:
            return problem.to_error(source.path)
    text = str(exc).split("\n")[0]
    text = re.sub(r"^[A-Za-z ]+Error: ", "", text)
    line_match = re.search(r"\bline (\d+)", text)
    line = int(line_match.group(1)) if line_match else None
    hints = {
        "csv": "check that the file is CSV: a header line, then one record per line",
        "parquet": "check that the file really is Parquet and was written completely",
        "jsonl": "JSON Lines needs one complete JSON object per line",
    }
    if source.format == "parquet" and ("magic bytes" in text or "too small" in text):
        text = "not a Parquet file"
    elif source.format == "jsonl" and "Malformed JSON" in text:
        text = "malformed JSON" + (f" ({m.group(0)})" if (m := re.search(r"at byte \d+", text)) else "")
    hint = hints.get(source.format, "check the query")
    return DataError(text, where=Location(file=source.label or str(source.path), line=line), hint=hint)


def open_source(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    na_values: list[str] | tuple[str, ...] | None = None,
    csv: CsvOptions | None = None,
    format: str | None = None,
) -> Source:
    """Check ``path`` and build the table expression that reads it; bad input raises DataError here.

    Only the schema is read (DuckDB samples the start of a CSV); errors deeper in the file surface when
    it is scanned by :func:`run_checked`.
    """
    path = Path(path)
    _require_readable(path)
    if format is not None and format not in FORMATS:
        raise DataError(
            f"unknown format '{format}'", where=Location(file=str(path)), hint=did_you_mean(format, FORMATS)
        )
    fmt = format or detect_format(path)
    nulls = tuple(na_values) if na_values is not None else DEFAULT_NA_VALUES
    if fmt == "csv":
        sql = csv_source.csv_table_sql(path, nulls, options=csv)
    elif fmt == "parquet":
        if path.is_dir():
            if not any(path.rglob("*.parquet")):
                raise DataError(
                    "the folder holds no .parquet files",
                    where=Location(file=str(path)),
                    hint="point at a Parquet file, a folder of them, or a CSV / JSON Lines file",
                )
            sql = f"read_parquet({sql_string(str(path / '**' / '*.parquet'))}, hive_partitioning=true)"
        else:
            sql = f"read_parquet({sql_string(str(path))})"
    else:
        sql = f"read_json({sql_string(str(path))}, format='newline_delimited')"
    source = Source(path=path, format=fmt, sql=sql, na_values=nulls, csv=csv)
    columns = source_columns(con, source)
    sniffed = csv is None or csv.delimiter is None
    if fmt == "csv" and sniffed and csv_source.looks_misread([name for name, _ in columns], path):
        problem = csv_source.diagnose(path)
        if problem is not None:
            raise problem.to_error(path)
    return source


def source_columns(con: duckdb.DuckDBPyConnection, source: Source) -> list[tuple[str, str]]:
    """``(name, DuckDB type)`` for every column of the source, in file order."""
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {source.sql}").fetchall()
    except Exception as exc:
        raise translate_error(exc, source) from None
    return [(str(row[0]), str(row[1])) for row in rows]


def _fetch_rows(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return con.execute(sql).fetchall()


def run_checked(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    statement_for: Callable[[Source], str],
    fetch: Callable[[duckdb.DuckDBPyConnection, str], Any] = _fetch_rows,
) -> tuple[Source, Any]:
    """Run a statement that scans the whole source and raise DataError if any CSV row was rejected.

    When the first rejected row is a value that does not fit the type DuckDB guessed from the start
    of the file, the scan is repeated once with types detected from the whole file; the source used
    is returned so that callers describe the columns as they were finally read. ``fetch`` runs the
    statement and returns its result (by default every row as tuples).
    """
    while True:
        try:
            rows = fetch(con, statement_for(source))
        except Exception as exc:
            raise translate_error(exc, source) from None
        problem = csv_source.rejects_problem(con) if source.format == "csv" else None
        if problem is None:
            return source, rows
        if problem.kind == "cast" and not source.full_sample:
            csv_source.clear_rejects(con)
            sql = csv_source.csv_table_sql(source.path, source.na_values, full_sample=True, options=source.csv)
            source = replace(source, sql=sql, full_sample=True)
            continue
        raise problem.to_error(source.path)


def split_expression(keys: list[str], seed: int) -> str:
    """SQL for a number in [0, 1) computed from the seed and the key columns, stable across machines."""
    parts = [sql_string(str(seed))]
    parts += [f"coalesce(CAST({quote_identifier(key)} AS VARCHAR), '\\N')" for key in keys]
    digest = "md5(concat_ws(chr(31), " + ", ".join(parts) + "))"
    # 13 hex digits = 52 bits: exact in a double, and plenty of resolution for a fraction.
    return f"(('0x' || substr({digest}, 1, 13))::BIGINT / 4503599627370496.0)"


def ingest(
    source: Path,
    dest_dir: Path,
    *,
    eval_fraction: float = 0.2,
    seed: int = 42,
    split_key: list[str] | None = None,
    na_values: list[str] | None = None,
) -> dict:
    """Read a CSV, Parquet (file or partitioned folder) or JSON Lines file into train.parquet and eval.parquet.

    A row goes to eval when the hash of the seed and its split key (the whole row by default) falls
    below ``eval_fraction``. Rows keep their input order on each side. The input is read once into a
    staging file first, so a file that turns out to be broken deep inside leaves no half-written
    outputs. Returns ``{"format", "rows", "train_rows", "eval_rows", "columns", "source"}``.
    """
    source, dest_dir = Path(source), Path(dest_dir)
    if not 0.0 < eval_fraction < 1.0:
        raise DataError(
            f"eval_fraction must be between 0 and 1 (exclusive), got {eval_fraction}",
            where=Location(file=str(source), field="eval_fraction"),
            hint="e.g. 0.2 puts about a fifth of the rows in eval",
        )
    con = connect()
    staging = dest_dir / f".ingest-{uuid.uuid4().hex}.parquet"
    try:
        src = open_source(con, source, na_values=na_values)
        names = [name for name, _ in source_columns(con, src)]
        for key in split_key or ():
            if key not in names:
                raise DataError(
                    f"split key column '{key}' is not in the data",
                    where=Location(file=str(source), column=key),
                    hint=did_you_mean(key, names),
                )
        split = split_expression(list(split_key or names), seed)
        dest_dir.mkdir(parents=True, exist_ok=True)

        def stage(src: Source) -> str:
            return (
                f"COPY (SELECT *, {split} < {float(eval_fraction)!r} AS {_EVAL_FLAG} FROM {src.sql}) "
                f"TO {sql_string(str(staging))} (FORMAT parquet, COMPRESSION zstd)"
            )

        src, _ = run_checked(con, src, stage)
        staged = f"read_parquet({sql_string(str(staging))})"
        total, eval_rows = con.execute(f"SELECT count(*), count_if({_EVAL_FLAG}) FROM {staged}").fetchone()
        if total == 0:
            what = "has a header but no data rows" if src.format == "csv" else "has no rows"
            raise DataError(
                f"the file {what}",
                where=Location(file=str(source), line=2 if src.format == "csv" else None),
                hint="ingest needs at least one row to split into train and eval",
            )
        for side, keep in (("train", "NOT"), ("eval", "")):
            final = dest_dir / f"{side}.parquet"
            partial = dest_dir / f".{side}-{uuid.uuid4().hex}.parquet"
            try:
                con.execute(
                    f"COPY (SELECT * EXCLUDE ({_EVAL_FLAG}) FROM {staged} WHERE {keep} {_EVAL_FLAG}) "
                    f"TO {sql_string(str(partial))} (FORMAT parquet, COMPRESSION zstd)"
                )
                os.replace(partial, final)
            finally:
                partial.unlink(missing_ok=True)
        described = con.execute(f"DESCRIBE SELECT * EXCLUDE ({_EVAL_FLAG}) FROM {staged}").fetchall()
    finally:
        con.close()
        staging.unlink(missing_ok=True)
    return {
        "format": src.format,
        "rows": int(total),
        "train_rows": int(total - eval_rows),
        "eval_rows": int(eval_rows),
        "columns": [{"name": str(row[0]), "type": logical_type(str(row[1]))} for row in described],
        "source": str(source),
    }
