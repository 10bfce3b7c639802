"""The SQL of the statistics passes, one builder per pass, for any number of columns and slice keys.

Kept apart from :mod:`modelyard.data.statistics` (which runs the passes and turns rows into values)
because this is where performance is decided: which expressions DuckDB evaluates per row and how
many aggregates share one scan. Measured on 1,000,000 rows x 31 columns (benchmarks/data_validation.py),
the cost of a pass is close to proportional to the number of per-row expressions and aggregate updates,
so every builder here avoids the ones it can prove useless:

- moments are taken over the raw values; only a float column whose minimum or maximum (from the cheap
  ranges query run first) shows a NaN or an infinity gets the finite-only guard (``Known.guarded``);
- the variance is a sum of squared distances to a shift near the mean, not ``stddev_samp`` (see :class:`Known`);
- string lengths, exact distinct counts and top values all come from one grouped count per column;
  only the columns a probe of a few rows finds mostly distinct get an approximate distinct count and
  their lengths in the aggregate pass, and are counted only when that count is small enough;
- histograms and value counts are ``GROUPING SETS`` instead of a ``histogram()`` map per column and an
  ``UNPIVOT``, which were each about as expensive as a whole extra pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelyard.core.statistics import PERCENTILE_GRID
from modelyard.data.readers import quote_identifier

#: DuckDB's ``max(x, n)`` requires n below this.
_MAX_N = 1_000_000
#: Buckets of the equal-width histogram of every numeric column.
HISTOGRAM_BUCKETS = 20
NUMERIC = ("int", "float", "timestamp")
#: DuckDB types aggregated as they are; any other numeric type (DECIMAL, HUGEINT...) is cast to DOUBLE.
_NATIVE = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "FLOAT", "DOUBLE")


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
        """The column as a number: timestamps as epoch seconds, so one numeric summary fits all.

        Integers and doubles are read as they are: a cast per row costs as much as an aggregate.
        """
        if self.type == "timestamp":
            return f"epoch({self.ident})"
        if self.engine_type.upper() in _NATIVE:
            return self.ident
        return f"CAST({self.ident} AS DOUBLE)"

    @property
    def text(self) -> str:
        return f"CAST({self.ident} AS VARCHAR)"


def grid() -> str:
    return "[" + ", ".join(f"{p / (PERCENTILE_GRID - 1):.2f}" for p in range(PERCENTILE_GRID)) + "]"


def _projection(index: int, column: Column, guarded: bool) -> list[str]:
    """What the aggregate pass reads of one column, computed once per row in an inner SELECT.

    Aggregating plain projected columns rather than ``agg(expr) FILTER (WHERE ...)`` matters: DuckDB
    evaluates filtered aggregates separately, which made the pass several times slower on wide tables.
    The finite copy of a guarded float column is NULL for NaN and infinity, so moments skip them.
    """
    if column.type in NUMERIC:
        parts = [f"{column.value} AS __v{index}"]
        if guarded:
            parts.append(f"CASE WHEN isfinite({column.value}) THEN {column.value} END AS __f{index}")
        return parts
    if column.type == "string":
        return [f"{column.ident} AS __s{index}"]
    if column.type == "bool":
        return [f"{column.ident} AS __b{index}"]
    if column.type == "list":
        return [f"len({column.ident}) AS __l{index}"]
    return [f"CASE WHEN {column.ident} IS NULL THEN NULL ELSE 1 END AS __o{index}"]


@dataclass(frozen=True)
class Known:
    """What the aggregate pass is told about the numeric columns before it runs (from the ranges query and the sample).

    ``guarded``: float columns holding NaN or infinity (moments over finite values only).
    ``shifts``: per column a value near its mean (the sample's): the aggregate pass sums squares of the distance to
    it, which is as stable as a running variance when the shift is that close and costs a third as much
    per row as ``stddev_samp`` (measured on the benchmark data: 0.19 -> 0.15 s for 19 columns).
    ``ranges``: the finite minimum and maximum of the unguarded numeric columns, from the ranges query:
    the aggregate pass takes them as they are (for the whole table; a slice needs its own), and does not count
    zeros or negatives a range rules out (a column of ids or amounts above zero has neither).
    """

    guarded: frozenset[str] = frozenset()
    shifts: Mapping[str, float] = field(default_factory=dict)
    ranges: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    #: Whether the aggregate pass may take ``ranges`` as the minimum and maximum (not for slices).
    whole: bool = True
    #: Known before the aggregate pass, from the probe (see :func:`probe_sql`): string columns whose values were
    #: mostly distinct there. The aggregate pass estimates their distinct count and measures their lengths; those
    #: it estimates above the exact limit are not counted, the others are counted like any column.
    varied: frozenset[str] = frozenset()
    #: How many most frequent values are kept (of a bool column, whose two counts the aggregate pass takes).
    top_k: int = 50

    def guards(self, column: Column) -> bool:
        return column.name in self.guarded and column.type == "float"


def bucket_of(value: str, low: float, width: float) -> str:
    """floor((v - low) / width): the maximum lands in bucket HISTOGRAM_BUCKETS, which the reader folds back.

    DOUBLE literals: a literal like 2000.0 is a DECIMAL in DuckDB, and decimal arithmetic per row is slow.
    """
    return f"floor(({value} - {low!r}::DOUBLE) / {width!r}::DOUBLE)"


def _aggregates(index: int, column: Column, known: Known, percentiles: bool) -> list[str]:
    if column.type in NUMERIC:
        guarded = known.guards(column)
        v = f"__v{index}"
        f = f"__f{index}" if guarded else v
        nan_inf = [f"count_if(isnan({v}))", f"count_if(isinf({v}))"] if guarded else ["0", "0"]
        shift = f"({f} - {known.shifts.get(column.name, 0.0)!r}::DOUBLE)"
        low, high = known.ranges.get(column.name, (None, None)) if not guarded else (None, None)
        given = known.whole and low is not None
        return [
            f"count({v})",
            "NULL" if given else f"min({f})",  # the reader puts the ranges query's values here
            "NULL" if given else f"max({f})",
            f"sum({f})" if known.whole else f"avg({f})",
            # a slice's mean can sit far from the table's shift: slices take the running variance
            f"sum({shift} * {shift})" if known.whole else f"stddev_samp({f})",
            "0" if low is not None and (low > 0 or high < 0) else f"count_if({v} = 0)",
            "0" if low is not None and low >= 0 else f"count_if({v} < 0)",
            *nan_inf,
            f"approx_quantile({f}, {grid()})" if percentiles else "NULL",
        ]
    if column.type == "string":
        s = f"__s{index}"
        if column.name not in known.varied:  # counted exactly by the counting pass
            return [f"count({s})", "NULL", "NULL", "NULL", "NULL"]
        return [f"count({s})", f"approx_count_distinct({s})", *(f"{f}(length({s}))" for f in ("min", "max", "sum"))]
    if column.type == "bool":
        return [f"count(__b{index})", f"count_if(__b{index})"]  # two values: counted here, exactly
    if column.type == "list":
        size = f"__l{index}"
        return [f"count({size})", f"min({size})", f"avg({size})", f"max({size})", f"sum({size})"]
    return [f"count(__o{index})"]


def kind_of(column: Column) -> str | None:
    """How the aggregate pass summarises a column; ``WIDTH`` says how many values follow its count."""
    if column.type in NUMERIC:
        return "numeric"
    if column.type in ("string", "bool"):
        return column.type
    return "list" if column.type == "list" else None


#: Values per column after its count, by kind (see ``_aggregates``).
WIDTH = {"numeric": 9, "string": 4, "bool": 1, "list": 4}


def slice_keys(slice_by: list[str]) -> list[str]:
    return [f"CAST({quote_identifier(name)} AS VARCHAR)" for name in slice_by]


def ranges_sql(columns: list[Column], table_sql: str) -> str:
    """``count(*)`` and the minimum and maximum of each numeric column, before the aggregate pass.

    Cheap: DuckDB answers it from a Parquet file's footer statistics when they are complete, and an
    in-memory staged table is scanned at memory speed. NaN sorts above every number, so a float
    column holding NaN or infinity shows it here, before the aggregate pass needs to know.
    """
    parts = ["count(*)"] + [f"min({c.value}), max({c.value})" for c in columns]
    return f"SELECT {', '.join(parts)} FROM {table_sql}"


def probe_sql(columns: list[Column], table_sql: str) -> str:
    """The probe, before the aggregate pass: each string column's count and approximate distinct count in a few rows.

    Which string columns are too varied to count exactly decides what the aggregate pass computes for
    them; an approximate distinct count over every row of every string column cost that pass as much as all its
    numeric moments (measured: 0.07 s of 0.19 s on the benchmark data), while a few windows of rows
    say the same for a hundredth of it.
    """
    parts = [f"count({c.ident}), approx_count_distinct({c.ident})" for c in columns]
    return f"SELECT {', '.join(parts)} FROM {table_sql}"


def window_starts(num_rows: int, windows: int, rows: int) -> list[int]:
    """Where the probe's ``windows`` runs of ``rows`` rows start: the first and last rows, and evenly between."""
    last = max(num_rows - rows, 0)
    return sorted({last * i // max(windows - 1, 1) for i in range(windows)})


def windows_sql(row_number: str, num_rows: int, windows: int, rows: int) -> str:
    """A condition keeping the rows of the probe's runs (see :func:`window_starts`), by their position.

    Runs rather than scattered rows: DuckDB skips the Parquet row groups (and the stored table's
    row groups) that a run does not reach, so the probe reads a few row groups, not the file.
    """
    starts = window_starts(num_rows, windows, rows)
    return " OR ".join(f"{row_number} BETWEEN {a} AND {a + rows - 1}" for a in starts)


def aggregate_sql(
    plan: list[Column],
    table_sql: str,
    slice_by: list[str],
    known: Known,
    *,
    percentiles: bool = False,
) -> str:
    """The aggregate pass: ``count(*)`` then, per column, its count and ``WIDTH[kind]`` values; a row per slice.

    ``percentiles`` adds a t-digest per numeric column (used by slices, whose sizes are not known in
    advance; the whole table's percentiles come from a sample, see :mod:`.quantiles`).
    """
    keys = slice_keys(slice_by)
    inner = [f"{key} AS __k{j}" for j, key in enumerate(keys)]
    outer = [f"__k{j}" for j in range(len(keys))] + ["count(*)"]
    for index, column in enumerate(plan):
        inner += _projection(index, column, known.guards(column))
        outer += _aggregates(index, column, known, percentiles)
    group = " GROUP BY ALL ORDER BY ALL" if keys else ""
    source = f"(SELECT {', '.join(inner)} FROM {table_sql})" if inner else table_sql
    return f"SELECT {', '.join(outer)} FROM {source}{group}"


@dataclass(frozen=True)
class CountSet:
    """One grouping set of the counting pass: what is counted (``bucket`` or ``value``) of a column."""

    what: str
    column: Column
    #: Histogram only: the lowest finite value and the bucket width.
    low: float = 0.0
    width: float = 0.0
    #: Histogram only: the column holds NaN or infinity, which must not reach the bucket expression.
    guard: bool = False

    def expression(self) -> str:
        if self.what == "value":
            return self.column.text
        v = self.column.value
        bucket = bucket_of(v, self.low, self.width)
        return f"CASE WHEN isfinite({v}) THEN {bucket} END" if self.guard else bucket


def counts_sql(sets: list[CountSet], table_sql: str, keys: list[str], top_k: int) -> str:
    """The counting pass: the histogram buckets and value counts of ``sets`` in one ``GROUPING SETS`` scan.

    Each row out is ``slice keys..., set index, numeric key, text key, count, distinct, min length,
    total length, max length, approximate distinct``: all the rows of bucket sets, and for value sets
    the ``top_k`` most frequent values (ties broken by value, for a stable order) with the set's exact
    distinct count and string lengths (computed over every value, not just the top), and the same
    HyperLogLog estimate of its distinct count as the aggregate pass would give (the estimate depends
    only on which values occur), so that a column counted here and one estimated there are judged
    alike against the exact limit. Nulls are not counted: a missing value is in the column's
    ``missing``, a NaN in its ``nan``.

    Only the values counted at least as often as a set's ``top_k``-th most frequent are ranked: sorting
    every value of a column of 90,000 by count and value was a fifth of the pass (0.094 -> 0.075 s).
    """
    width = len(keys)
    k = [f"__k{j}" for j in range(width)]
    inner = [f"{key} AS {name}" for key, name in zip(keys, k, strict=True)]
    inner += [f"{s.expression()} AS __g{i}" for i, s in enumerate(sets)]
    grouping = ", ".join("(" + ", ".join([*k, f"__g{i}"]) + ")" for i in range(len(sets)))
    which = " ".join(f"WHEN grouping(__g{i}) = 0 THEN {i}" for i in range(len(sets)))
    numbers = [f"__g{i}" for i, s in enumerate(sets) if s.what != "value"]
    texts = [f"__g{i}" for i, s in enumerate(sets) if s.what == "value"]
    # Outside its own set a grouping column is NULL, so coalesce picks the key of the row's set.
    number = f"coalesce({', '.join(numbers)})" if numbers else "NULL::DOUBLE"
    text = f"coalesce({', '.join(texts)})" if texts else "NULL::VARCHAR"
    group = [*k, "__set"]
    part = ", ".join(group)
    keep = [*group, "__num", "__txt", "__n"]
    same_group = " AND ".join(f"c.{name} IS NOT DISTINCT FROM s.{name}" for name in group)
    top = int(top_k)
    # DuckDB's max(x, n) takes n below a million; a larger top_k ranks every value.
    kth = f"list_min(max(__n, {top}))" if top < _MAX_N else "0"
    return f"""
        WITH counted AS (
            SELECT {", ".join([*k, f"CASE {which} END AS __set", f"{number} AS __num", f"{text} AS __txt"])},
                   count(*) AS __n
            FROM (SELECT {", ".join(inner)} FROM {table_sql})
            GROUP BY GROUPING SETS ({grouping})
        ),
        kept AS (SELECT * FROM counted WHERE __num IS NOT NULL OR __txt IS NOT NULL),
        summary AS (
            SELECT {part}, count(*) AS __distinct, min(length(__txt)) AS __min_len,
                   sum(length(__txt) * __n) AS __sum_len, max(length(__txt)) AS __max_len,
                   approx_count_distinct(__txt) AS __approx, {kth} AS __kth
            FROM kept GROUP BY ALL
        ),
        ranked AS (
            SELECT {", ".join(f"c.{name}" for name in keep)}, __distinct, __min_len, __sum_len, __max_len, __approx,
                   row_number() OVER (PARTITION BY {", ".join(f"c.{name}" for name in group)}
                                      ORDER BY c.__n DESC, c.__txt) AS __rank
            FROM kept c JOIN summary s ON {same_group}
            WHERE c.__txt IS NULL OR c.__n >= s.__kth
        )
        SELECT {", ".join(keep)}, __distinct, __min_len, __sum_len, __max_len, __approx FROM ranked
        WHERE __txt IS NULL OR __rank <= {top}
        ORDER BY {part}, __rank
    """


def sample_sql(columns: list[Column], table_sql: str, row_number: str | None, threshold: int | None) -> str:
    """The sampled values of numeric columns: rows whose position hashes below ``threshold`` (of 2**64).

    Hashing the row's position (not its values) makes the sample the same on every run and unbiased
    whatever the data's order; ``threshold=None`` reads every row (small data stays exact).
    """
    values = ", ".join(f"CAST({c.value} AS DOUBLE) AS __q{i}" for i, c in enumerate(columns))
    where = "" if threshold is None or row_number is None else f" WHERE {_sampled(row_number, threshold)}"
    return f"SELECT {values} FROM {table_sql}{where}"


def _sampled(row_number: str, threshold: int) -> str:
    return f"hash({row_number}) < {int(threshold)}::UBIGINT"


def positions_sql(num_rows: int, threshold: int | None) -> str:
    """The positions (0-based) of the rows ``sample_sql`` keeps in a table of ``num_rows`` rows.

    For a table that has no row numbers of its own (a staged Arrow table): the same rows as
    ``hash(rowid)`` or ``hash(file_row_number)`` would keep, so CSV and Parquet of the same rows agree.
    """
    where = "" if threshold is None else f" WHERE {_sampled('range', threshold)}"
    return f"SELECT range FROM range({int(num_rows)}){where}"


def gap_sql(columns: list[Column], table_sql: str) -> str:
    parts = [
        f"(SELECT max(g) FROM (SELECT v - lag(v) OVER (ORDER BY v) AS g FROM "
        f"(SELECT {c.value} AS v FROM {table_sql} WHERE {c.ident} IS NOT NULL)))"
        for c in columns
    ]
    return "SELECT " + ", ".join(parts)
