"""Turning the rows of the statistics passes into :class:`DatasetStatistics`, one group at a time.

A group is the whole table or one slice. Each pass fills part of a :class:`Partial` (the aggregate pass the counts
and moments, the sample the percentiles, the counting pass histograms, values and lengths); ``build``
turns a finished one into frozen statistics. Kept apart from the module that runs the passes so that
both stay readable: this one knows the layout of the rows, that one the order of the passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modelyard.core.statistics import (
    ColumnStatistics,
    DatasetStatistics,
    ListStats,
    NumericStats,
    StringStats,
)
from modelyard.data.statistics_sql import HISTOGRAM_BUCKETS, NUMERIC, WIDTH, Column, CountSet, Known, kind_of

#: Above this many (approximately) distinct values a column gets an approximate count and no top
#: values: exact counting would need memory for every value, and the top of an identifier is noise.
EXACT_DISTINCT_LIMIT = 100_000

#: The probe (see ``statistics_sql.probe_sql``) reads this many runs of this many rows, spread over the
#: table (three runs cost a Parquet file of 1,000,000 rows in 10 row groups 0.013 s, four 0.021 s: a run
#: costs the row group it reaches). A column is varied when more than ``1 / VARIED_SHARE`` of its probed
#: values are distinct: an identifier always is; a column of at most a thousand values only when fewer
#: than 8,000 of the probed rows hold one.
PROBE_WINDOWS, PROBE_ROWS, VARIED_SHARE = 3, 4_096, 8

#: Positions in a numeric column's aggregate-pass values (see ``statistics_sql._aggregates``); ``read_aggregates``
#: turns the sum and the sum of squares (positions 2 and 3) into the mean and the standard deviation.
LOW, HIGH, MEAN, STD, NAN, INF, PERCENTILES = 0, 1, 2, 3, 6, 7, 8


def _f(value: Any) -> float | None:
    return None if value is None else float(value)


def _i(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass
class _Lengths:
    low: int | None = None
    high: int | None = None
    total: int = 0


@dataclass
class Partial:
    """What the passes learn about one group (the whole table, or one slice) before it becomes statistics."""

    num_rows: int
    counts: dict[str, int] = field(default_factory=dict)
    raw: dict[str, list[Any]] = field(default_factory=dict)
    top: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    distinct: dict[str, int] = field(default_factory=dict)
    lengths: dict[str, _Lengths] = field(default_factory=dict)
    histograms: dict[str, list[int]] = field(default_factory=dict)
    #: Columns whose histogram was estimated from the percentile sample rather than counted.
    estimated: set[str] = field(default_factory=set)
    gaps: dict[str, float | None] = field(default_factory=dict)

    def approx_distinct(self, name: str) -> int | None:
        """The aggregate pass's estimate of a string column's distinct values (None: not estimated, it is counted)."""
        found = self.raw[name][0]
        return None if found is None else int(found)

    def is_exact(self, name: str) -> bool:
        """Whether this group's values of a string/bool column are few enough to count (see EXACT_DISTINCT_LIMIT)."""
        found = self.approx_distinct(name)
        return found is None or found <= EXACT_DISTINCT_LIMIT


def varied_columns(plan: list[Column], probe: tuple[Any, ...]) -> frozenset[str]:
    """The string columns mostly distinct in the probe's row (a count and a distinct count per string column).

    Only a matter of speed, never of the answer: a varied column gets an approximate distinct count in
    the aggregate pass and is still counted exactly when that shows few enough values; any other column
    is counted, and judged by the same estimate, which the counting pass takes over its values.
    """
    strings = [c for c in plan if c.type == "string"]
    found = zip(strings, probe[::2], probe[1::2], strict=True)
    return frozenset(c.name for c, count, distinct in found if count and distinct * VARIED_SHARE > count)


def read_aggregates(row: tuple[Any, ...], plan: list[Column], known: Known) -> Partial:
    values = iter(row)
    partial = Partial(int(next(values)))
    for column in plan:
        count = partial.counts[column.name] = int(next(values))
        kind = kind_of(column)
        if kind is None:
            continue
        raw = [next(values) for _ in range(WIDTH[kind])]
        if kind == "numeric":
            if known.whole and raw[LOW] is None and column.name in known.ranges and not known.guards(column):
                raw[LOW], raw[HIGH] = known.ranges[column.name]
            if known.whole:  # slices read avg and stddev_samp as they are
                raw[MEAN], raw[STD] = _moments(finite_count(count, raw), raw, known, column)
        elif kind == "bool":
            true = int(raw[0] or 0)
            raw = [_bool_values(column.name, true, count - true, partial, known.top_k)]
        elif raw[1] is not None:  # a varied string column: its lengths, measured by the aggregate pass
            partial.lengths[column.name] = _Lengths(int(raw[1]), int(raw[2]), int(raw[3]))
        partial.raw[column.name] = raw
    return partial


def _bool_values(name: str, true: int, false: int, partial: Partial, top_k: int) -> int:
    """A bool column's two counts as its top values (most frequent first, ties by value), lengths and distinct count."""
    found = (("false", false), ("true", true))  # in value order: the stable sort breaks ties by value
    pairs = sorted(((value, count) for value, count in found if count), key=lambda pair: -pair[1])
    if pairs:
        sizes = [len(value) for value, _ in pairs]
        total = sum(size * count for size, (_, count) in zip(sizes, pairs, strict=True))
        partial.lengths[name] = _Lengths(min(sizes), max(sizes), total)
        partial.top[name] = pairs[:top_k]
    partial.distinct[name] = len(pairs)
    return len(pairs)


def finite_count(count: int, raw: list[Any]) -> int:
    return count - int(raw[NAN] or 0) - int(raw[INF] or 0)


def _moments(finite: int, raw: list[Any], known: Known, column: Column) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation from the sum and the sum of squared distances to the shift.

    With ``c`` the shift and ``m`` the mean, the squared distances to the mean sum to
    ``sum((x - c)^2) - n (m - c)^2``; the shift is the sample's mean, so the subtraction loses nothing.
    """
    total, squares = raw[MEAN], raw[STD]
    if not finite or total is None:
        return None, None
    mean = float(total) / finite
    if finite < 2:
        return mean, None
    shift = known.shifts.get(column.name, 0.0)
    spread = float(squares) - finite * (mean - shift) ** 2
    return mean, (max(spread, 0.0) / (finite - 1)) ** 0.5


def non_finite(plan: list[Column], low_high: dict[str, tuple[Any, Any]]) -> frozenset[str]:
    """Float columns whose minimum or maximum is NaN or infinite (NaN sorts above every number)."""
    found = set()
    for column in plan:
        if column.type == "float" and column.name in low_high:
            low, high = low_high[column.name]
            if low is not None and not (abs(float(low)) < float("inf") and abs(float(high)) < float("inf")):
                found.add(column.name)
    return frozenset(found)


def edges_of(plan: list[Column], partial: Partial) -> dict[str, tuple[float, float]]:
    found = {}
    for column in plan:
        if column.type in NUMERIC:
            low, high = partial.raw[column.name][LOW], partial.raw[column.name][HIGH]
            if low is not None and high is not None and high > low:
                found[column.name] = (float(low), float(high))
    return found


def count_sets(
    plan: list[Column],
    parts: list[Partial],
    edges: dict[str, tuple[float, float]],
    known: Known,
) -> list[CountSet]:
    """What the counting pass counts: buckets of the numeric columns in ``edges``, and the values of
    every string column that some group has few enough values of to count (see ``Partial.is_exact``)."""
    sets = []
    for column in plan:
        if column.name in edges:
            low, high = edges[column.name]
            width = (high - low) / HISTOGRAM_BUCKETS
            sets.append(CountSet("bucket", column, low, width, known.guards(column)))
        elif column.type == "string" and _countable(column.name, parts):
            sets.append(CountSet("value", column))
    return sets


def _countable(name: str, parts: list[Partial]) -> bool:
    return any(part.counts[name] and part.is_exact(name) for part in parts)


def read_counts(row: tuple[Any, ...], sets: list[CountSet], part: Partial) -> None:
    """One row of the counting pass (after the slice keys): a bucket, or one of the top values."""
    index, number, text, count, distinct, min_len, sum_len, max_len, approx = row
    counted = sets[int(index)]
    name = counted.column.name
    if counted.what == "bucket":
        bucket = min(max(int(number), 0), HISTOGRAM_BUCKETS - 1)  # the maximum lands one past the last edge
        part.histograms.setdefault(name, [0] * HISTOGRAM_BUCKETS)[bucket] += int(count)
    else:
        part.lengths[name] = _Lengths(int(min_len), int(max_len), int(sum_len))
        if part.approx_distinct(name) is None:  # not varied: judged by the same estimate here
            part.raw[name][0] = int(approx)
        if part.is_exact(name):
            part.top.setdefault(name, []).append((str(text), int(count)))
            part.distinct[name] = int(distinct)


def _pin(percentiles: list[Any] | None, low: Any, high: Any) -> tuple[float, ...]:
    """The estimated percentiles with the ends replaced by the exact min and max (a sample or sketch blurs its ends)."""
    if not percentiles or low is None:
        return ()
    values = [min(max(float(p), float(low)), float(high)) for p in percentiles]
    values[0], values[-1] = float(low), float(high)
    return tuple(values)


def _numeric(column: Column, partial: Partial, edges: dict[str, tuple[float, float]]) -> NumericStats:
    low, high, mean, std, zeros, negatives, nan, inf, percentiles = partial.raw[column.name]
    hist_edges: tuple[float, ...] = ()
    hist_counts: tuple[int, ...] = ()
    if column.name in edges:
        a, b = edges[column.name]
        step = (b - a) / HISTOGRAM_BUCKETS
        hist_edges = (*(a + step * i for i in range(HISTOGRAM_BUCKETS)), b)
        hist_counts = tuple(partial.histograms.get(column.name) or [0] * HISTOGRAM_BUCKETS)
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
        histogram_estimated=column.name in partial.estimated,
        max_gap=partial.gaps.get(column.name),
    )


def _string(column: Column, partial: Partial) -> StringStats:
    count = partial.counts[column.name]
    exact = column.name in partial.top or count == 0
    seen = partial.lengths.get(column.name) or _Lengths()
    return StringStats(
        distinct=partial.distinct.get(column.name, 0) if exact else partial.approx_distinct(column.name) or 0,
        distinct_is_approximate=not exact,
        top=tuple(partial.top.get(column.name, ())),
        min_len=seen.low,
        mean_len=seen.total / count if count and seen.low is not None else None,
        max_len=seen.high,
    )


def build(
    plan: list[Column], partial: Partial, edges: dict[str, tuple[float, float]], source: str | None
) -> DatasetStatistics:
    columns = []
    for column in plan:
        count = partial.counts[column.name]
        numeric = string = lists = None
        kind = kind_of(column)
        if kind == "numeric":
            numeric = _numeric(column, partial, edges)
        elif kind in ("string", "bool"):
            string = _string(column, partial)
        elif kind == "list":
            low, mean, high, total = partial.raw[column.name]
            lists = ListStats(_i(low), _f(mean), _i(high), int(total or 0))
        columns.append(
            ColumnStatistics(column.name, column.type, count, partial.num_rows - count, numeric, string, lists)
        )
    return DatasetStatistics(num_rows=partial.num_rows, columns=tuple(columns), source=source)
