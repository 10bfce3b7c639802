"""Computing dataset statistics with DuckDB in a small fixed number of passes, however many columns.

0. a CSV, JSON Lines or query input is read once into an Arrow table that the passes below scan (a
   private Parquet file above 512 MB of text); Parquet is scanned where it is. Then a ranges query
   (row count, min and max of the numeric columns: answered from a Parquet footer, or at memory speed)
   says which float columns hold NaN or infinity;
1. a fixed-size sample of rows (see :mod:`.quantiles`): the percentiles of every numeric column, its
   equal-width histogram (exact when the sample is the whole table), and its mean, the shift of pass 2's
   variance; then the probe, a few runs of rows that say which string columns are mostly distinct
   ("varied": identifiers, keys, free text);
2. one aggregate over every column at once: counts, ranges, sums and squared distances, zeros and
   negatives per numeric column, bool values, list sizes, and the approximate distinct count and
   lengths of the varied string columns;
3. ``GROUPING SETS`` counting the values of every string column but the varied ones estimated above
   ``EXACT_DISTINCT_LIMIT`` values (exact top values, distinct counts and lengths; a column estimated
   above the limit here is reported like a varied one, approximately), and the buckets of any numeric
   column the sample barely saw;
4. only when the table has timestamp columns: one sorted scan for the largest gap between values.

Statistics by slice run passes 2 and 3 again with ``GROUP BY`` the slice columns (percentiles by
t-digest there, since slice sizes are not known in advance; histograms counted exactly, with the whole
table's edges so that they can be compared), so slicing costs two passes whatever the number of
slices. Going column by column (or slice by slice) would scan the file once per column, which is what
makes naive profilers slow on wide tables. Nothing is ever loaded into pandas.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelyard.core.statistics import DatasetStatistics
from modelyard.data import statistics_sql as passes
from modelyard.data.csv_source import sql_string
from modelyard.data.inputs import ReadOptions, open_input
from modelyard.data.quantiles import (
    MIN_SAMPLED_FOR_HISTOGRAM,
    histogram_of,
    percentiles_of,
    sample_threshold,
    sample_values,
)
from modelyard.data.readers import (
    Source,
    connect,
    logical_type,
    run_checked,
    source_columns,
    translate_error,
)
from modelyard.data.statistics_parts import (
    EXACT_DISTINCT_LIMIT,
    HIGH,
    LOW,
    PERCENTILES,
    PROBE_ROWS,
    PROBE_WINDOWS,
    Partial,
    build,
    count_sets,
    edges_of,
    finite_count,
    non_finite,
    read_aggregates,
    read_counts,
    varied_columns,
)
from modelyard.data.statistics_sql import HISTOGRAM_BUCKETS, NUMERIC, Column, CountSet, Known, slice_keys
from modelyard.errors import UsageError, did_you_mean

if TYPE_CHECKING:
    import duckdb
    import numpy as np
    import pyarrow

__all__ = ["DEFAULT_TOP_K", "EXACT_DISTINCT_LIMIT", "HISTOGRAM_BUCKETS", "MAX_SLICES", "compute_statistics"]

#: How many most-frequent values are kept per column; also the largest domain inference can see whole.
DEFAULT_TOP_K = 50
#: More slices than this is almost always a mistake (slicing by an identifier), and each costs memory.
MAX_SLICES = 1_000
#: Text inputs up to this size are staged in memory (CSV as Arrow, JSON Lines in a temporary table),
#: larger ones in a private Parquet file.
STAGE_IN_MEMORY_BYTES = 512 * 1024 * 1024
#: The names under which the staged Arrow table, its percentile sample and its probe are registered.
_STAGED, _SAMPLE, _PROBE = "__modelyard_staged", "__modelyard_sample", "__modelyard_probe"
#: In the temp catalog, whatever database a query input made current (``USE``); the second one only for
#: an input with a column named ``rowid``, numbered in the column ``_POSITION``.
_TABLE, _NUMBERED = "temp.main.__modelyard_staged_table", "temp.main.__modelyard_numbered_table"
_POSITION = "__modelyard_position"

Progress = Callable[[str], None]


def _run(con: duckdb.DuckDBPyConnection, source: Source, sql: str) -> list[tuple[Any, ...]]:
    try:
        return con.execute(sql).fetchall()
    except Exception as exc:
        raise translate_error(exc, source) from None


@dataclass(frozen=True)
class _Scan:
    """What the passes read: the source, and how the percentile sample numbers its rows."""

    source: Source
    #: The table expression of the percentile sample's query, and the SQL of a row's position in it
    #: (None: the table is the sample already, every row of it is read).
    sample_table: str
    row_number: str | None
    #: The probe's rows as a table of their own (a staged Arrow table's runs, sliced without a copy);
    #: None: ``sample_table`` filtered by ``row_number``.
    probe: str | None = None
    #: Whether ``row_number`` starts again in each of several files (a folder of Parquet files).
    per_file: bool = False

    def probe_table(self, num_rows: int) -> str:
        """The rows of the probe: runs spread over the table (see :func:`.window_starts`).

        In a folder of Parquet files ``file_row_number`` starts again in every file, so the runs match
        the first rows of many files: a limit keeps the probe as small (only there: it costs a single
        file's probe 0.01 s, as DuckDB then keeps the rows in order).
        """
        if self.probe is not None:
            return self.probe
        if self.row_number is None:
            raise AssertionError("a table without row numbers needs its probe staged")
        runs = passes.windows_sql(self.row_number, num_rows, PROBE_WINDOWS, PROBE_ROWS)
        limit = f" LIMIT {PROBE_WINDOWS * PROBE_ROWS}" if self.per_file else ""
        return f"(SELECT * FROM {self.sample_table} WHERE {runs}{limit})"


def _is_folder(source: Source) -> bool:
    try:
        return source.path.is_dir()
    except OSError:
        return False


def _size(source: Source) -> int:
    try:
        return source.path.stat().st_size if source.path.is_file() else 0
    except OSError:
        return 0


def _to_arrow(con: duckdb.DuckDBPyConnection, sql: str) -> pyarrow.Table:
    return con.sql(sql).to_arrow_table()


def _fixed_width(table: pyarrow.Table) -> pyarrow.Table:
    """The columns of ``table`` that can hold numbers (and timestamps): the ones the sample query reads."""
    import pyarrow.types as kinds

    wanted = (kinds.is_integer, kinds.is_floating, kinds.is_decimal, kinds.is_temporal)
    return table.select([f.name for f in table.schema if any(kind(f.type) for kind in wanted)])


@contextmanager
def _staged(con: duckdb.DuckDBPyConnection, source: Source, tell: Progress) -> Iterator[_Scan]:
    """Text and query inputs parsed once into private columns that every pass then scans.

    Parsing text is most of the cost of a pass over CSV; paying it once and scanning columns afterwards
    is much cheaper than parsing for every pass. The parse is also where a broken file is found, with
    its line and column (see ``run_checked``); a query is run once, so every pass sees the same rows.
    CSV up to ``STAGE_IN_MEMORY_BYTES`` becomes an Arrow table that DuckDB scans in place (measured
    on the benchmark CSV: 0.81 s to read, against 1.17 s for a temporary table, which orders and
    compresses what it stores, and it scans faster); the percentile sample is then taken from it by
    position. JSON Lines and query results go to a temporary table (their types survive it), larger text
    inputs to a private Parquet file, so memory stays bounded. Each is released
    on exit. Parquet is scanned where it is: its ``file_row_number`` numbers the rows for the sample.
    """
    parquet = source.format == "parquet" and source.sql.endswith(")")
    if parquet and "file_row_number" not in {name for name, _ in source_columns(con, source)}:
        yield _Scan(source, source.sql[:-1] + ", file_row_number=true)", "file_row_number", per_file=_is_folder(source))
        return
    folder = Path(tempfile.mkdtemp(prefix="modelyard-stats-"))
    try:
        tell("reading")
        if source.format in ("csv", "jsonl") and _size(source) > STAGE_IN_MEMORY_BYTES:
            staging = sql_string(str(folder / "staged.parquet"))
            run_checked(con, source, lambda src: f"COPY (SELECT * FROM {src.sql}) TO {staging} (FORMAT parquet)")
            table = replace(source, format="table", sql=f"read_parquet({staging})")
            yield _Scan(table, f"read_parquet({staging}, file_row_number=true)", "file_row_number")
            return
        if source.format != "csv":
            # JSON Lines and query results can hold HUGEINT, UUID and other types that Arrow does not
            # carry back unchanged (a HUGEINT returns as DECIMAL): a temporary table keeps them (and spills).
            statement = f"CREATE OR REPLACE TEMP TABLE {_TABLE} AS SELECT * FROM {{}}"
            if source.format == "query":
                _run(con, source, statement.format(source.sql))
            else:
                run_checked(con, source, lambda src: statement.format(src.sql))
            table = replace(source, format="table", sql=_TABLE)
            if "rowid" not in {name for name, _ in source_columns(con, table)}:
                yield _Scan(table, _TABLE, "rowid")
                return
            # A column named rowid hides DuckDB's row id: the rows are numbered in a column of their own.
            numbered = f"SELECT *, row_number() OVER () - 1 AS {_POSITION} FROM {_TABLE}"
            _run(con, source, f"CREATE OR REPLACE TEMP TABLE {_NUMBERED} AS {numbered}")
            view = f"(SELECT * EXCLUDE ({_POSITION}) FROM {_NUMBERED})"
            yield _Scan(replace(source, format="table", sql=view), _NUMBERED, _POSITION)
            return
        import pyarrow as pa

        select = "SELECT * FROM {}"
        _, staged = run_checked(con, source, lambda src: select.format(src.sql), fetch=_to_arrow)
        con.register(_STAGED, staged)
        sql = passes.positions_sql(staged.num_rows, sample_threshold(staged.num_rows))
        positions = con.execute(sql).fetchnumpy()["range"]
        # The sample is only read for numbers: taking strings too cost 0.05-0.25 s on the benchmark CSV.
        numbers = _fixed_width(staged)
        if numbers.num_columns:  # else no sample query runs
            con.register(_SAMPLE, numbers.take(positions))
        starts = passes.window_starts(staged.num_rows, PROBE_WINDOWS, PROBE_ROWS)
        con.register(_PROBE, pa.concat_tables([staged.slice(start, PROBE_ROWS) for start in starts]))
        yield _Scan(replace(source, format="table", sql=_STAGED), _SAMPLE, None, _PROBE)
    finally:
        for table_name in (_TABLE, _NUMBERED):
            con.execute(f"DROP TABLE IF EXISTS {table_name}")
        for name in (_STAGED, _SAMPLE, _PROBE):
            with suppress(Exception):
                con.unregister(name)
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class _Ranges:
    """The ranges query's answer: the row count and each numeric column's exact minimum and maximum."""

    num_rows: int
    low_high: dict[str, tuple[Any, Any]]


def _ranges(con: duckdb.DuckDBPyConnection, scan: _Scan, plan: list[Column]) -> _Ranges:
    numeric = [c for c in plan if c.type in NUMERIC]
    row = _run(con, scan.source, passes.ranges_sql(numeric, scan.source.sql))[0]
    return _Ranges(int(row[0]), {c.name: (row[1 + 2 * i], row[2 + 2 * i]) for i, c in enumerate(numeric)})


def _varied(con: duckdb.DuckDBPyConnection, scan: _Scan, plan: list[Column], num_rows: int) -> frozenset[str]:
    """The probe: which string columns pass 2 estimates rather than leaves to the counting pass.

    A table of at most ``EXACT_DISTINCT_LIMIT`` rows cannot have more values than that in any column:
    every string column is counted, no probe needed.
    """
    strings = [c for c in plan if c.type == "string"]
    if not strings or num_rows <= EXACT_DISTINCT_LIMIT:
        return frozenset()
    return varied_columns(plan, _run(con, scan.source, passes.probe_sql(strings, scan.probe_table(num_rows)))[0])


def _aggregate(con: duckdb.DuckDBPyConnection, scan: _Scan, plan: list[Column], known: Known) -> tuple[Partial, Known]:
    """Pass 2 over the whole table, with what the ranges query and the sample told in advance.

    Should the data show NaN or infinity in a column whose minimum and maximum the aggregate pass computes itself
    (guarded or all-null at the ranges query), the pass runs again with it guarded.
    """
    source = scan.source
    while True:
        whole = read_aggregates(_run(con, source, passes.aggregate_sql(plan, source.sql, [], known))[0], plan, known)
        low_high = {c.name: (whole.raw[c.name][LOW], whole.raw[c.name][HIGH]) for c in plan if c.type in NUMERIC}
        late = non_finite(plan, low_high) - known.guarded
        if not late:
            return whole, known
        known = replace(known, guarded=known.guarded | late)


def _count(
    con: duckdb.DuckDBPyConnection,
    scan: _Scan,
    sets: list[CountSet],
    parts: dict[tuple, Partial],
    slice_by: list[str],
    top_k: int,
) -> None:
    """The counting pass: histograms, top values, distinct counts and string lengths of every group.

    Two scans, numeric buckets and string values, rather than one with every grouping set: measured on
    the benchmark data, one scan carrying all the sets cost more (1.0-1.3 s) than the two (0.85-0.9 s).
    """
    width = len(slice_by)
    for kind in (
        [s for s in sets if s.what == "bucket"],
        [s for s in sets if s.what != "bucket"],
    ):
        if not kind:
            continue
        for row in _run(con, scan.source, passes.counts_sql(kind, scan.source.sql, slice_keys(slice_by), top_k)):
            part = parts.get(tuple(row[:width]))
            if part is not None:
                read_counts(row[width:], kind, part)


def _slice_label(names: list[str], key: tuple) -> str:
    return ",".join(f"{name}={'NULL' if value is None else value}" for name, value in zip(names, key, strict=True))


def _sliced(
    con: duckdb.DuckDBPyConnection,
    scan: _Scan,
    plan: list[Column],
    slices: list[str],
    known: Known,
    edges: dict[str, tuple[float, float]],
    top_k: int,
) -> dict[str, DatasetStatistics]:
    """Passes 2 and 3 again, grouped by the slice columns; percentiles by t-digest (slice sizes are unknown).

    Slice histograms share the whole table's edges and are counted exactly.
    """
    source = scan.source
    sql = passes.aggregate_sql(plan, source.sql, slices, replace(known, whole=False), percentiles=True)
    grouped = _run(con, source, sql)
    if len(grouped) > MAX_SLICES:
        raise UsageError(
            f"slicing by {', '.join(slices)} gives {len(grouped)} slices, more than {MAX_SLICES}",
            hint="slice by columns with few distinct values",
        )
    parts = {
        tuple(row[: len(slices)]): read_aggregates(row[len(slices) :], plan, replace(known, whole=False))
        for row in grouped
    }
    _count(con, scan, count_sets(plan, list(parts.values()), edges, known), parts, slices, top_k)
    return {_slice_label(slices, key): build(plan, part, edges, None) for key, part in parts.items()}


@dataclass
class _FromSample:
    """What NumPy makes of the sample once the aggregate pass gave the histogram ranges: percentiles and histograms."""

    percentiles: dict[str, list[float] | None]
    histograms: dict[str, list[int]]
    estimated: set[str]

    def into(self, whole: Partial) -> None:
        for name, found in self.percentiles.items():
            whole.raw[name][PERCENTILES] = found
        whole.histograms.update(self.histograms)
        whole.estimated |= self.estimated


def _from_sample(
    values: dict[str, np.ndarray], edges: dict[str, tuple[float, float]], finite: dict[str, int]
) -> _FromSample:
    found = _FromSample({name: percentiles_of(sampled) for name, sampled in values.items()}, {}, set())
    for name, (low, high) in edges.items():
        found.histograms[name] = histogram_of(values[name], low, high, finite[name])
        if values[name].size < finite[name]:
            found.estimated.add(name)
    return found


def _sample_serves(sampled: np.ndarray | None, finite: int) -> bool:
    """Whether the sample buckets a column's histogram: it holds all of it, or enough of it to estimate."""
    return sampled is not None and (sampled.size == finite or sampled.size >= MIN_SAMPLED_FOR_HISTOGRAM)


def _whole_table(
    con: duckdb.DuckDBPyConnection, scan: _Scan, plan: list[Column], top_k: int, tell: Progress, pool: Executor
) -> tuple[Partial, Known, dict[str, tuple[float, float]], dict[str, tuple[float, float]], Future[_FromSample]]:
    """The ranges query, the percentile sample, the probe and pass 2: all but the counting pass.

    Returns the statistics so far, what the passes were told, every numeric column's histogram range,
    the ranges whose histograms are left to the counting pass (columns the sample barely saw), and the
    percentiles and other histograms, which NumPy computes from the sample in ``pool`` (one core) while
    DuckDB runs the counting pass (exact when the sample holds every row, see :func:`.histogram_of`),
    as the pass's merges leave a core idle.

    The order is chosen so that each step tells the next what makes it cheaper: the ranges give the
    row count (the sample's rate), the guarded columns, the minimum and maximum; the sample gives the
    shift of every variance; the probe which string columns need an approximate distinct count; pass
    2's estimates which of those have too many values to count.
    """
    ranges = _ranges(con, scan, plan)
    numeric = [c for c in plan if c.type in NUMERIC and ranges.low_high[c.name][0] is not None]
    values: dict[str, np.ndarray] = {}
    if numeric:
        tell("pass 1/3: sample")
        values = sample_values(con, numeric, scan.sample_table, scan.row_number, ranges.num_rows)
    shifts = {name: float(found.mean()) for name, found in values.items() if found.size}
    for name, (low, high) in ranges.low_high.items():  # values but none sampled: the range's middle
        if name not in shifts and low is not None and abs(float(low)) < math.inf and abs(float(high)) < math.inf:
            shifts[name] = (float(low) + float(high)) / 2
    varied = _varied(con, scan, plan, ranges.num_rows)
    tell("pass 2/3: counts, ranges, moments")
    guarded = non_finite(plan, ranges.low_high)
    finite = {name: low_high for name, low_high in ranges.low_high.items() if name not in guarded}
    whole, known = _aggregate(con, scan, plan, Known(guarded, shifts, finite, varied=varied, top_k=top_k))
    edges = edges_of(plan, whole)
    counts = {name: finite_count(whole.counts[name], whole.raw[name]) for name in edges}
    sampled = {name: edge for name, edge in edges.items() if _sample_serves(values.get(name), counts[name])}
    pending = pool.submit(_from_sample, values, sampled, counts)
    left = {name: edge for name, edge in edges.items() if name not in sampled}  # too few values sampled
    return whole, known, edges, left, pending


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
        with open_input(con, table, options=options, sql=sql, db=db) as raw, _staged(con, raw, tell) as scan:
            source = scan.source
            label = str(table) if table is not None else (raw.label or "query")
            plan: list[Column] = [Column(n, t, logical_type(t)) for n, t in source_columns(con, source)]
            for name in slices:
                if name not in {c.name for c in plan}:
                    raise UsageError(
                        f"cannot slice by '{name}': no such column", hint=did_you_mean(name, [c.name for c in plan])
                    )
            with ThreadPoolExecutor(max_workers=1) as pool:
                whole, known, edges, left, pending = _whole_table(con, scan, plan, top_k, tell, pool)
                sets = count_sets(plan, [whole], left, known)
                if sets:
                    tell("pass 3/3: values counted")
                    _count(con, scan, sets, {(): whole}, [], top_k)
                pending.result().into(whole)
            stamps = [c for c in plan if c.type == "timestamp"]
            if stamps and whole.num_rows:
                tell("timestamps: largest gap")
                gaps = _run(con, source, passes.gap_sql(stamps, source.sql))[0]
                whole.gaps = {c.name: None if g is None else float(g) for c, g in zip(stamps, gaps, strict=True)}
            result = build(plan, whole, edges, label)
            if not slices:
                return result
            tell(f"slices by {', '.join(slices)}")
            return DatasetStatistics(
                num_rows=result.num_rows,
                columns=result.columns,
                slice_by=tuple(slices),
                slices=_sliced(con, scan, plan, slices, known, edges, top_k),
                source=label,
            )
    finally:
        con.close()
