"""Computing dataset statistics with DuckDB in a small fixed number of passes, however many columns.

0. a CSV or JSON Lines input is parsed once into a private Parquet file (the passes below scan it);
1. one aggregate over every column at once: counts, ranges, moments, NaN/infinity, zeros, lengths,
   an approximate distinct count and a t-digest of 101 percentiles per numeric column;
2. one pass for the equal-width histograms of every numeric column (the edges need pass 1's range);
3. one grouped scan that counts the values of every string and bool column together (UNPIVOT), for
   exact top values and exact distinct counts;
4. only when the table has timestamp columns: one sorted scan for the largest gap between values.

Statistics by slice run passes 1-3 again with ``GROUP BY`` the slice columns, so slicing costs three
passes whatever the number of slices; slice histograms share the whole table's edges so that they can
be compared. Going column by column (or slice by slice) would scan the file once per column, which is
what makes naive profilers slow on wide tables. Nothing is ever loaded into pandas.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelyard.core.statistics import (
    ColumnStatistics,
    DatasetStatistics,
    ListStats,
    NumericStats,
    StringStats,
)
from modelyard.data import statistics_sql as passes
from modelyard.data.csv_source import sql_string
from modelyard.data.inputs import ReadOptions, open_input
from modelyard.data.readers import (
    Source,
    connect,
    logical_type,
    run_checked,
    source_columns,
    translate_error,
)
from modelyard.data.statistics_sql import HISTOGRAM_BUCKETS, NUMERIC, WIDTH, Column, kind_of, slice_keys
from modelyard.errors import UsageError, did_you_mean

if TYPE_CHECKING:
    import duckdb

#: How many most-frequent values are kept per column; also the largest domain inference can see whole.
DEFAULT_TOP_K = 50
#: Above this many (approximately) distinct values a column gets an approximate count and no top
#: values: exact counting would need memory for every value, and the top of an identifier is noise.
EXACT_DISTINCT_LIMIT = 100_000
#: More slices than this is almost always a mistake (slicing by an identifier), and each costs memory.
MAX_SLICES = 1_000

Progress = Callable[[str], None]


def _f(value: Any) -> float | None:
    return None if value is None else float(value)


def _i(value: Any) -> int | None:
    return None if value is None else int(value)


class _Partial:
    """What the passes learn about one group (the whole table, or one slice) before it becomes statistics."""

    def __init__(self, num_rows: int) -> None:
        self.num_rows = num_rows
        self.counts: dict[str, int] = {}
        self.raw: dict[str, list[Any]] = {}
        self.top: dict[str, list[tuple[str, int]]] = {}
        self.distinct: dict[str, int] = {}
        self.histograms: dict[str, dict[int, int]] = {}
        self.gaps: dict[str, float | None] = {}


def _read_aggregates(row: tuple[Any, ...], plan: list[Column]) -> _Partial:
    values = iter(row)
    partial = _Partial(int(next(values)))
    for column in plan:
        partial.counts[column.name] = int(next(values))
        kind = kind_of(column)
        if kind is not None:
            partial.raw[column.name] = [next(values) for _ in range(WIDTH[kind])]
    return partial


def _edges(plan: list[Column], partial: _Partial) -> dict[str, tuple[float, float]]:
    edges = {}
    for column in plan:
        if column.type in NUMERIC:
            low, high = partial.raw[column.name][0], partial.raw[column.name][1]
            if low is not None and high is not None and high > low:
                edges[column.name] = (float(low), float(high))
    return edges


def _pin(percentiles: list[Any] | None, low: Any, high: Any) -> tuple[float, ...]:
    """The sketch's percentiles with the ends replaced by the exact min and max (a t-digest blurs its ends)."""
    if not percentiles or low is None:
        return ()
    values = [min(max(float(p), float(low)), float(high)) for p in percentiles]
    values[0], values[-1] = float(low), float(high)
    return tuple(values)


def _numeric(column: Column, partial: _Partial, edges: dict[str, tuple[float, float]]) -> NumericStats:
    low, high, mean, std, zeros, negatives, nan, inf, percentiles = partial.raw[column.name]
    hist_edges: tuple[float, ...] = ()
    hist_counts: tuple[int, ...] = ()
    if column.name in edges:
        a, b = edges[column.name]
        step = (b - a) / HISTOGRAM_BUCKETS
        hist_edges = (*(a + step * i for i in range(HISTOGRAM_BUCKETS)), b)
        found = partial.histograms.get(column.name) or {}
        hist_counts = tuple(int(found.get(i, 0)) for i in range(HISTOGRAM_BUCKETS))
    elif low is not None:
        finite = partial.counts[column.name] - int(nan or 0) - int(inf or 0)
        hist_edges, hist_counts = (float(low), float(high)), (finite,)
    return NumericStats(
        min=_f(low),
        max=_f(high),
        mean=_f(mean),
        std=_f(std),
        zeros=int(zeros or 0),
        negatives=int(negatives or 0),
        nan=int(nan or 0),
        inf=int(inf or 0),
        percentiles=_pin(percentiles, low, high),
        histogram_edges=hist_edges,
        histogram_counts=hist_counts,
        max_gap=partial.gaps.get(column.name),
    )


def _build(
    plan: list[Column], partial: _Partial, edges: dict[str, tuple[float, float]], source: str | None
) -> DatasetStatistics:
    columns = []
    for column in plan:
        count = partial.counts[column.name]
        numeric = string = lists = None
        kind = kind_of(column)
        if kind == "numeric":
            numeric = _numeric(column, partial, edges)
        elif kind == "values":
            min_len, mean_len, max_len, approx = partial.raw[column.name]
            exact = column.name in partial.top or count == 0
            string = StringStats(
                distinct=partial.distinct.get(column.name, 0) if exact else int(approx),
                distinct_is_approximate=not exact,
                top=tuple(partial.top.get(column.name, ())),
                min_len=_i(min_len),
                mean_len=_f(mean_len),
                max_len=_i(max_len),
            )
        elif kind == "list":
            low, mean, high, total = partial.raw[column.name]
            lists = ListStats(_i(low), _f(mean), _i(high), int(total or 0))
        columns.append(
            ColumnStatistics(column.name, column.type, count, partial.num_rows - count, numeric, string, lists)
        )
    return DatasetStatistics(num_rows=partial.num_rows, columns=tuple(columns), source=source)


def _run(con: duckdb.DuckDBPyConnection, source: Source, sql: str) -> list[tuple[Any, ...]]:
    try:
        return con.execute(sql).fetchall()
    except Exception as exc:
        raise translate_error(exc, source) from None


def _fill_values(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    plan: list[Column],
    parts: dict[tuple, _Partial],
    top_k: int,
    slice_by: list[str],
) -> None:
    """Pass 3: exact top values and distinct counts, for every group whose column is not too diverse."""
    exact = [
        c
        for c in plan
        if c.has_values
        and any(p.counts[c.name] and (p.raw[c.name][3] or 0) <= EXACT_DISTINCT_LIMIT for p in parts.values())
    ]
    if not exact:
        return
    width = len(slice_by)
    for row in _run(con, source, passes.top_values_sql(exact, source.sql, top_k, slice_keys(slice_by))):
        key, (name, value, count, distinct) = tuple(row[:width]), row[width:]
        part = parts.get(key)
        if part is None or (part.raw[name][3] or 0) > EXACT_DISTINCT_LIMIT:
            continue
        part.top.setdefault(name, []).append((str(value), int(count)))
        part.distinct[name] = int(distinct)


def _fill_histograms(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    plan: list[Column],
    parts: dict[tuple, _Partial],
    edges: dict[str, tuple[float, float]],
    slice_by: list[str],
) -> None:
    if not edges:
        return
    names = [c.name for c in plan if c.name in edges]
    width = len(slice_by)
    for row in _run(con, source, passes.histogram_sql(edges, plan, source.sql, slice_keys(slice_by))):
        part = parts.get(tuple(row[:width]))
        if part is not None:
            for name, found in zip(names, row[width:], strict=True):
                part.histograms[name] = dict(found or {})


def _slice_label(names: list[str], key: tuple) -> str:
    return ",".join(f"{name}={'NULL' if value is None else value}" for name, value in zip(names, key, strict=True))


@contextmanager
def _staged(con: duckdb.DuckDBPyConnection, source: Source, tell: Progress) -> Iterator[Source]:
    """A text source (CSV, JSON Lines) parsed once into a private Parquet file that every pass then scans.

    Parsing text is most of the cost of a pass over CSV; paying it once and scanning compact columnar
    data three times is about twice as fast as parsing three times. The parse is also where a broken
    file is found, with its line and column (see ``run_checked``). The file is removed on exit.
    """
    if source.format not in ("csv", "jsonl"):
        yield source
        return
    folder = Path(tempfile.mkdtemp(prefix="modelyard-stats-"))
    staging = folder / "staged.parquet"
    try:
        tell("reading")
        run_checked(
            con,
            source,
            lambda src: f"COPY (SELECT * FROM {src.sql}) TO {sql_string(str(staging))} (FORMAT parquet)",
        )
        yield replace(source, format="parquet", sql=f"read_parquet({sql_string(str(staging))})")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def compute_statistics(
    table: Path | str | None = None,
    *,
    top_k: int = DEFAULT_TOP_K,
    na_values: list[str] | None = None,
    slice_by: list[str] | tuple[str, ...] | None = None,
    options: ReadOptions | None = None,
    sql: str | None = None,
    db: str | None = None,
    progress: Progress | None = None,
) -> DatasetStatistics:
    """Statistics of a Parquet file or folder, a CSV or JSON Lines file, or a SQL query (``sql`` on ``db``).

    CSV is read exactly as :func:`modelyard.data.readers.ingest` reads it (same null markers, same
    errors for broken files), so statistics of a raw file and of its ingested splits agree.
    ``slice_by`` adds statistics per value (or per combination of values) of those columns.
    ``progress`` is called with a short description as each pass starts.
    """
    if top_k < 1:
        raise UsageError(f"top_k must be at least 1, got {top_k}", hint="the default keeps 50 values")
    tell = progress or (lambda _text: None)
    if na_values is not None:
        options = ReadOptions(
            csv=(options or ReadOptions()).csv, na_values=tuple(na_values), format=(options or ReadOptions()).format
        )
    slices = list(slice_by or ())
    con = connect()
    try:
        with open_input(con, table, options=options, sql=sql, db=db) as raw, _staged(con, raw, tell) as source:
            label = str(table) if table is not None else (raw.label or "query")
            plan: list[Column] = [Column(n, t, logical_type(t)) for n, t in source_columns(con, source)]
            tell("pass 1/3: counts, ranges, moments, percentiles")
            rows = _run(con, source, passes.aggregate_sql(plan, source.sql, []))
            for name in slices:
                if name not in {c.name for c in plan}:
                    raise UsageError(
                        f"cannot slice by '{name}': no such column", hint=did_you_mean(name, [c.name for c in plan])
                    )
            whole = {(): _read_aggregates(rows[0], plan)}
            edges = _edges(plan, whole[()])
            tell("pass 2/3: histograms")
            _fill_histograms(con, source, plan, whole, edges, [])
            tell("pass 3/3: top values and distinct counts")
            _fill_values(con, source, plan, whole, top_k, [])
            stamps = [c for c in plan if c.type == "timestamp"]
            if stamps and whole[()].num_rows:
                tell("timestamps: largest gap")
                gaps = _run(con, source, passes.gap_sql(stamps, source.sql))[0]
                whole[()].gaps = {c.name: _f(g) for c, g in zip(stamps, gaps, strict=True)}
            result = _build(plan, whole[()], edges, label)
            if not slices:
                return result
            tell(f"slices by {', '.join(slices)}")
            grouped = _run(con, source, passes.aggregate_sql(plan, source.sql, slices))
            if len(grouped) > MAX_SLICES:
                raise UsageError(
                    f"slicing by {', '.join(slices)} gives {len(grouped)} slices, more than {MAX_SLICES}",
                    hint="slice by columns with few distinct values",
                )
            parts = {tuple(row[: len(slices)]): _read_aggregates(row[len(slices) :], plan) for row in grouped}
            _fill_histograms(con, source, plan, parts, edges, slices)
            _fill_values(con, source, plan, parts, top_k, slices)
            by_label = {_slice_label(slices, key): _build(plan, part, edges, None) for key, part in parts.items()}
            return DatasetStatistics(
                num_rows=result.num_rows,
                columns=result.columns,
                slice_by=tuple(slices),
                slices=by_label,
                source=label,
            )
    finally:
        con.close()
