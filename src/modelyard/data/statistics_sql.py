"""The SQL of the statistics passes, one builder per pass, for any number of columns and slice keys.

Kept apart from :mod:`modelyard.data.statistics` (which runs the passes and turns rows into values)
because this is where performance is decided: which expressions DuckDB evaluates per row and how
many aggregates share one scan.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelyard.core.statistics import PERCENTILE_GRID
from modelyard.data.readers import quote_identifier

#: Buckets of the equal-width histogram of every numeric column.
HISTOGRAM_BUCKETS = 20
NUMERIC = ("int", "float", "timestamp")


@dataclass(frozen=True)
class Column:
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

    @property
    def value(self) -> str:
        """The column as a DOUBLE: timestamps as epoch seconds, so one numeric summary fits all."""
        return f"epoch({self.ident})" if self.type == "timestamp" else f"CAST({self.ident} AS DOUBLE)"


def _grid() -> str:
    return "[" + ", ".join(f"{p / (PERCENTILE_GRID - 1):.2f}" for p in range(PERCENTILE_GRID)) + "]"


def projection(index: int, column: Column) -> list[str]:
    """What the aggregate pass reads of one column, computed once per row in an inner SELECT.

    Aggregating plain projected columns rather than ``agg(expr) FILTER (WHERE ...)`` matters: DuckDB
    evaluates filtered aggregates separately, which made the pass several times slower on wide tables.
    The finite copy of a float column is NULL for NaN and infinity, so moments and percentiles skip them.
    """
    if column.type in NUMERIC:
        parts = [f"{column.value} AS __v{index}"]
        if column.type == "float":
            parts.append(f"CASE WHEN isfinite({column.value}) THEN {column.value} END AS __f{index}")
        return parts
    if column.has_values:
        return [f"CAST({column.ident} AS VARCHAR) AS __s{index}"]
    if column.type == "list":
        return [f"len({column.ident}) AS __l{index}"]
    return [f"CASE WHEN {column.ident} IS NULL THEN NULL ELSE 1 END AS __o{index}"]


def aggregates(index: int, column: Column) -> list[str]:
    if column.type in NUMERIC:
        v = f"__v{index}"
        f = f"__f{index}" if column.type == "float" else v
        nan_inf = [f"count_if(isnan({v}))", f"count_if(isinf({v}))"] if column.type == "float" else ["0", "0"]
        return [
            f"count({v})",
            f"min({f})",
            f"max({f})",
            f"avg({f})",
            f"stddev_samp({f})",
            f"count_if({v} = 0)",
            f"count_if({v} < 0)",
            *nan_inf,
            f"approx_quantile({f}, {_grid()})",
        ]
    if column.has_values:
        text = f"__s{index}"
        return [
            f"count({text})",
            f"min(length({text}))",
            f"avg(length({text}))",
            f"max(length({text}))",
            f"approx_count_distinct({text})",
        ]
    if column.type == "list":
        size = f"__l{index}"
        return [f"count({size})", f"min({size})", f"avg({size})", f"max({size})", f"sum({size})"]
    return [f"count(__o{index})"]


WIDTH = {"numeric": 9, "values": 4, "list": 4}


def kind_of(column: Column) -> str | None:
    if column.type in NUMERIC:
        return "numeric"
    if column.has_values:
        return "values"
    return "list" if column.type == "list" else None


def slice_keys(slice_by: list[str]) -> list[str]:
    return [f"CAST({quote_identifier(name)} AS VARCHAR)" for name in slice_by]


def aggregate_sql(plan: list[Column], table_sql: str, slice_by: list[str]) -> str:
    keys = slice_keys(slice_by)
    inner = [f"{key} AS __k{j}" for j, key in enumerate(keys)]
    outer = [f"__k{j}" for j in range(len(keys))] + ["count(*)"]
    for index, column in enumerate(plan):
        inner += projection(index, column)
        outer += aggregates(index, column)
    group = " GROUP BY ALL ORDER BY ALL" if keys else ""
    source = f"(SELECT {', '.join(inner)} FROM {table_sql})" if inner else table_sql
    return f"SELECT {', '.join(outer)} FROM {source}{group}"


def histogram_sql(edges: dict[str, tuple[float, float]], plan: list[Column], table_sql: str, keys: list[str]) -> str:
    parts = list(keys)
    for column in plan:
        if column.name not in edges:
            continue
        low, high = edges[column.name]
        v = column.value
        width = (high - low) / HISTOGRAM_BUCKETS
        bucket = f"least(greatest(CAST(floor(({v} - {low!r}) / {width!r}) AS BIGINT), 0), {HISTOGRAM_BUCKETS - 1})"
        # CASE rather than FILTER: the bucket expression must not see a NaN (it would fail to cast).
        parts.append(f"histogram(CASE WHEN isfinite({v}) THEN {bucket} END)")
    group = " GROUP BY ALL" if keys else ""
    return f"SELECT {', '.join(parts)} FROM {table_sql}{group}"


def top_values_sql(columns: list[Column], table_sql: str, top_k: int, keys: list[str]) -> str:
    slice_cols = [f"{key} AS __slice_{i}" for i, key in enumerate(keys)]
    slice_names = [f"__slice_{i}" for i in range(len(keys))]
    casts = ", ".join([*slice_cols, *(f"CAST({c.ident} AS VARCHAR) AS {c.ident}" for c in columns)])
    on = ", ".join(c.ident for c in columns)
    by = ", ".join([*slice_names, "col"])
    # UNPIVOT drops nulls, so counts are of present values; ties are broken by value for a stable order.
    return f"""
        WITH long AS (UNPIVOT (SELECT {casts} FROM {table_sql}) ON {on} INTO NAME col VALUE val),
        grouped AS (SELECT {by}, val, count(*) AS n FROM long GROUP BY {by}, val),
        ranked AS (
            SELECT {by}, val, n,
                   row_number() OVER (PARTITION BY {by} ORDER BY n DESC, val) AS rank,
                   count(*) OVER (PARTITION BY {by}) AS distinct_values
            FROM grouped
        )
        SELECT {by}, val, n, distinct_values FROM ranked WHERE rank <= {int(top_k)} ORDER BY {by}, rank
    """


def gap_sql(columns: list[Column], table_sql: str) -> str:
    parts = [
        f"(SELECT max(g) FROM (SELECT v - lag(v) OVER (ORDER BY v) AS g FROM "
        f"(SELECT {c.value} AS v FROM {table_sql} WHERE {c.ident} IS NOT NULL)))"
        for c in columns
    ]
    return "SELECT " + ", ".join(parts)
