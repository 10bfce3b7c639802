"""Computing dataset statistics with DuckDB in two fixed passes, however many columns there are.

Pass one is a single aggregate over every column at once (counts, ranges, moments, lengths, an
approximate distinct count); pass two counts values of the string and bool columns in one grouped
scan to get exact top values and exact distinct counts. Going column by column would scan the file
once per column, which is what makes naive profilers slow on wide tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelyard.core.statistics import ColumnStatistics, DatasetStatistics, NumericStats, StringStats
from modelyard.data.readers import (
    Source,
    connect,
    logical_type,
    open_source,
    quote_identifier,
    run_checked,
    source_columns,
)
from modelyard.errors import UsageError

#: How many most-frequent values are kept per column; also the largest domain inference can see whole.
DEFAULT_TOP_K = 50
#: Above this many (approximately) distinct values a column gets an approximate count and no top
#: values: exact counting would need memory for every value, and the top of an identifier is noise.
EXACT_DISTINCT_LIMIT = 100_000

_NUMERIC_FIELDS = ("min", "max", "mean", "std", "zeros", "negatives", "nan", "inf")
_STRING_FIELDS = ("min_len", "mean_len", "max_len", "approx_distinct")


@dataclass(frozen=True)
class _Column:
    name: str
    engine_type: str
    type: str  # logical

    @property
    def ident(self) -> str:
        return quote_identifier(self.name)

    @property
    def has_values(self) -> bool:
        """String and bool columns are summarised by their values (top, distinct) rather than numbers."""
        return self.type in ("string", "bool")


def _numeric_aggregates(column: _Column) -> list[str]:
    # Timestamps are summarised as epoch seconds so that one numeric summary (and one range check) fits all.
    value = f"epoch({column.ident})" if column.type == "timestamp" else f"CAST({column.ident} AS DOUBLE)"
    if column.type == "float":
        finite = f"FILTER (WHERE isfinite({value}))"
        return [
            f"min({value}) {finite}",
            f"max({value}) {finite}",
            f"avg({value}) {finite}",
            f"stddev_samp({value}) {finite}",
            f"count_if({value} = 0)",
            f"count_if({value} < 0)",
            f"count_if(isnan({value}))",
            f"count_if(isinf({value}))",
        ]
    return [
        f"min({value})",
        f"max({value})",
        f"avg({value})",
        f"stddev_samp({value})",
        f"count_if({value} = 0)",
        f"count_if({value} < 0)",
        "0",
        "0",
    ]


def _string_aggregates(column: _Column) -> list[str]:
    text = f"CAST({column.ident} AS VARCHAR)"
    return [
        f"min(length({text}))",
        f"avg(length({text}))",
        f"max(length({text}))",
        f"approx_count_distinct({text})",
    ]


def _aggregate_sql(columns: list[_Column], table_sql: str) -> str:
    parts = ["count(*)"]
    for column in columns:
        parts.append(f"count({column.ident})")
        if column.type in ("int", "float", "timestamp"):
            parts += _numeric_aggregates(column)
        elif column.has_values:
            parts += _string_aggregates(column)
    return f"SELECT {', '.join(parts)} FROM {table_sql}"


def _top_values_sql(columns: list[_Column], table_sql: str, top_k: int) -> str:
    casts = ", ".join(f"CAST({c.ident} AS VARCHAR) AS {c.ident}" for c in columns)
    on = ", ".join(c.ident for c in columns)
    # UNPIVOT drops nulls, so counts are of present values; ties are broken by value for a stable order.
    return f"""
        WITH long AS (UNPIVOT (SELECT {casts} FROM {table_sql}) ON {on} INTO NAME col VALUE val),
        grouped AS (SELECT col, val, count(*) AS n FROM long GROUP BY col, val),
        ranked AS (
            SELECT col, val, n,
                   row_number() OVER (PARTITION BY col ORDER BY n DESC, val) AS rank,
                   count(*) OVER (PARTITION BY col) AS distinct_values
            FROM grouped
        )
        SELECT col, val, n, distinct_values FROM ranked WHERE rank <= {int(top_k)} ORDER BY col, rank
    """


def _as_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _as_int(value: Any) -> int | None:
    return None if value is None else int(value)


def compute_statistics(
    table: Path, *, top_k: int = DEFAULT_TOP_K, na_values: list[str] | None = None
) -> DatasetStatistics:
    """Statistics of a Parquet file, a folder of Parquet files, a CSV or a JSON Lines file.

    CSV is read exactly as :func:`modelyard.data.readers.ingest` reads it (same null markers, same
    errors for broken files), so statistics of a raw file and of its ingested splits agree.
    """
    if top_k < 1:
        raise UsageError(f"top_k must be at least 1, got {top_k}", hint="the default keeps 50 values")
    con = connect()
    try:
        source = open_source(con, Path(table), na_values=na_values)
        plan: list[_Column] = []

        def aggregate(src: Source) -> str:
            plan[:] = [_Column(n, t, logical_type(t)) for n, t in source_columns(con, src)]
            return _aggregate_sql(plan, src.sql)

        source, rows = run_checked(con, source, aggregate)
        values = iter(rows[0])
        num_rows = int(next(values))
        counts: dict[str, int] = {}
        numeric: dict[str, dict[str, Any]] = {}
        strings: dict[str, dict[str, Any]] = {}
        for column in plan:
            counts[column.name] = int(next(values))
            if column.type in ("int", "float", "timestamp"):
                numeric[column.name] = {field: next(values) for field in _NUMERIC_FIELDS}
            elif column.has_values:
                strings[column.name] = {field: next(values) for field in _STRING_FIELDS}

        exact = [
            c
            for c in plan
            if c.has_values and counts[c.name] and (strings[c.name]["approx_distinct"] or 0) <= EXACT_DISTINCT_LIMIT
        ]
        top: dict[str, list[tuple[str, int]]] = {c.name: [] for c in exact}
        distinct: dict[str, int] = {}
        if exact and top_k > 0:
            for name, value, count, distinct_values in con.execute(
                _top_values_sql(exact, source.sql, top_k)
            ).fetchall():
                top[name].append((str(value), int(count)))
                distinct[name] = int(distinct_values)
    finally:
        con.close()

    columns = []
    for column in plan:
        count = counts[column.name]
        numeric_stats = string_stats = None
        if column.name in numeric:
            raw = numeric[column.name]
            numeric_stats = NumericStats(
                min=_as_float(raw["min"]),
                max=_as_float(raw["max"]),
                mean=_as_float(raw["mean"]),
                std=_as_float(raw["std"]),
                zeros=int(raw["zeros"] or 0),
                negatives=int(raw["negatives"] or 0),
                nan=int(raw["nan"] or 0),
                inf=int(raw["inf"] or 0),
            )
        elif column.name in strings:
            raw = strings[column.name]
            is_exact = column.name in top or count == 0
            string_stats = StringStats(
                distinct=distinct.get(column.name, 0) if is_exact else int(raw["approx_distinct"]),
                distinct_is_approximate=not is_exact,
                top=tuple(top.get(column.name, ())),
                min_len=_as_int(raw["min_len"]),
                mean_len=_as_float(raw["mean_len"]),
                max_len=_as_int(raw["max_len"]),
            )
        columns.append(
            ColumnStatistics(
                name=column.name,
                type=column.type,
                count=count,
                missing=num_rows - count,
                numeric=numeric_stats,
                string=string_stats,
            )
        )
    return DatasetStatistics(num_rows=num_rows, columns=tuple(columns))
