"""Merging the statistics of partitions (daily files, shards) into the statistics of the whole.

Which fields merge exactly and which only approximately is a property of the math, not of the code:

- exact: row count, count, missing, min, max, zeros, negatives, NaN, infinity, mean (weighted by
  count), standard deviation (pooled with the between-partition term, Chan et al.), string length
  min / max / mean, list value counts, histograms whose edges are identical on every side (estimated
  when a side's was, ``histogram_estimated``), and top
  values and distinct counts when every side lists all its values (``StringStats.is_complete``);
- approximate: percentiles (re-read from the count-weighted mixture of the partitions' cumulative
  distributions), histograms with different edges (re-bucketed assuming values spread evenly inside
  a bucket), the largest timestamp gap (a lower bound: a gap across two partitions is only seen
  between their ranges), top values and distinct counts when a side was incomplete (a value rare in
  every partition may be frequent in the whole; distinct becomes the largest side's count, a lower
  bound). Approximate fields are flagged (``NumericStats.approximate``, ``distinct_is_approximate``).

Slices are merged label by label.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Sequence

from modelyard.core.statistics import (
    PERCENTILE_GRID,
    ColumnStatistics,
    DatasetStatistics,
    ListStats,
    NumericStats,
    StringStats,
)
from modelyard.data.drift import cdf
from modelyard.errors import UsageError


def _weighted(pairs: list[tuple[float | None, int]]) -> float | None:
    total = sum(weight for value, weight in pairs if value is not None)
    if not total:
        return None
    return sum(value * weight for value, weight in pairs if value is not None) / total


def _min(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return min(known) if known else None


def _max(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return max(known) if known else None


def _finite(column: ColumnStatistics) -> int:
    numeric = column.numeric
    return column.count - (numeric.nan + numeric.inf if numeric else 0)


def _merge_std(parts: list[tuple[NumericStats, int]], mean: float | None) -> float | None:
    n = sum(count for stats, count in parts if stats.mean is not None)
    if mean is None or n < 2:
        return None
    total = 0.0
    for stats, count in parts:
        if stats.mean is None or not count:
            continue
        variance = (stats.std or 0.0) ** 2 if count > 1 else 0.0
        total += (count - 1) * variance + count * (stats.mean - mean) ** 2
    return math.sqrt(total / (n - 1))


def _merge_percentiles(parts: list[tuple[NumericStats, int]]) -> tuple[float, ...]:
    usable = [(stats, count) for stats, count in parts if stats.percentiles and count]
    if not usable:
        return ()
    if len(usable) == 1:
        return usable[0][0].percentiles
    points = sorted({value for stats, _ in usable for value in stats.percentiles})
    total = sum(count for _, count in usable)
    mixture = [sum(count * cdf(stats, point) for stats, count in usable) / total for point in points]
    result = []
    for index in range(PERCENTILE_GRID):
        target = index / (PERCENTILE_GRID - 1)
        at = min(bisect.bisect_left(mixture, target - 1e-12), len(points) - 1)
        result.append(points[at])
    result[0], result[-1] = points[0], points[-1]
    return tuple(result)


def _merge_histogram(parts: list[tuple[NumericStats, int]]) -> tuple[tuple[float, ...], tuple[int, ...], bool]:
    usable = [stats for stats, _ in parts if stats.histogram_counts]
    if not usable:
        return (), (), False
    if all(stats.histogram_edges == usable[0].histogram_edges for stats in usable):
        counts = [sum(stats.histogram_counts[i] for stats in usable) for i in range(len(usable[0].histogram_counts))]
        return usable[0].histogram_edges, tuple(counts), False
    low = min(stats.histogram_edges[0] for stats in usable)
    high = max(stats.histogram_edges[-1] for stats in usable)
    buckets = max(len(stats.histogram_counts) for stats in usable)
    step = (high - low) / buckets if high > low else 0.0
    edges = (*(low + step * i for i in range(buckets)), high)
    merged = [0.0] * buckets
    for stats in usable:
        for index, count in enumerate(stats.histogram_counts):
            a, b = stats.histogram_edges[index], stats.histogram_edges[index + 1]
            if not step or b <= a:
                merged[min(int((a - low) / step) if step else 0, buckets - 1)] += count
                continue
            for target in range(buckets):
                lo, hi = edges[target], edges[target + 1]
                overlap = max(0.0, min(b, hi) - max(a, lo))
                merged[target] += count * overlap / (b - a)
    return edges, tuple(round(value) for value in merged), True


def _merge_numeric(columns: list[ColumnStatistics]) -> NumericStats | None:
    parts = [(column.numeric, _finite(column)) for column in columns if column.numeric is not None]
    if not parts:
        return None
    mean = _weighted([(stats.mean, count) for stats, count in parts])
    edges, counts, rebucketed = _merge_histogram(parts)
    percentiles = _merge_percentiles(parts)
    return NumericStats(
        min=_min([stats.min for stats, _ in parts]),
        max=_max([stats.max for stats, _ in parts]),
        mean=mean,
        std=_merge_std(parts, mean),
        zeros=sum(stats.zeros for stats, _ in parts),
        negatives=sum(stats.negatives for stats, _ in parts),
        nan=sum(stats.nan for stats, _ in parts),
        inf=sum(stats.inf for stats, _ in parts),
        percentiles=percentiles,
        histogram_edges=edges,
        histogram_counts=counts,
        histogram_estimated=any(stats.histogram_estimated for stats, _ in parts),
        max_gap=_max([stats.max_gap for stats, _ in parts]),
        approximate=rebucketed or sum(1 for stats, count in parts if stats.percentiles and count) > 1,
    )


def _merge_strings(columns: list[ColumnStatistics], top_k: int) -> StringStats | None:
    parts = [(column.string, column.count) for column in columns if column.string is not None]
    if not parts:
        return None
    counter: Counter[str] = Counter()
    for stats, _ in parts:
        counter.update(dict(stats.top))
    complete = all(stats.is_complete for stats, count in parts if count)
    distinct = len(counter) if complete else max(stats.distinct for stats, _ in parts)
    top = sorted(counter.items(), key=lambda item: (-item[1], item[0]))[: max(top_k, distinct if complete else 0)]
    return StringStats(
        distinct=distinct,
        distinct_is_approximate=not complete,
        top=tuple(top),
        min_len=_min([stats.min_len for stats, _ in parts]),  # type: ignore[arg-type]
        mean_len=_weighted([(stats.mean_len, count) for stats, count in parts]),
        max_len=_max([stats.max_len for stats, _ in parts]),  # type: ignore[arg-type]
    )


def _merge_lists(columns: list[ColumnStatistics]) -> ListStats | None:
    parts = [(column.lists, column.count) for column in columns if column.lists is not None]
    if not parts:
        return None
    return ListStats(
        min_values=_min([stats.min_values for stats, _ in parts]),  # type: ignore[arg-type]
        mean_values=_weighted([(stats.mean_values, count) for stats, count in parts]),
        max_values=_max([stats.max_values for stats, _ in parts]),  # type: ignore[arg-type]
        total_values=sum(stats.total_values for stats, _ in parts),
    )


def merge_statistics(parts: Sequence[DatasetStatistics], *, top_k: int = 50) -> DatasetStatistics:
    """The statistics of the union of the partitions' rows, exact where the math allows (module doc)."""
    if not parts:
        raise UsageError("nothing to merge: give at least one statistics artifact")
    names: list[str] = []
    for stats in parts:
        names += [name for name in stats.names if name not in names]
    columns = []
    for name in names:
        found = [column for stats in parts if (column := stats.find_column(name)) is not None]
        types = {column.type for column in found if column.count}
        if len(types) > 1 and types != {"int", "float"}:
            raise UsageError(
                f"cannot merge column '{name}': it is {' in one part and '.join(sorted(types))} in another",
                hint="the partitions disagree on the column's type; fix the data or merge like with like",
            )
        kind = "float" if types == {"int", "float"} else (types.pop() if types else found[0].type)
        absent = sum(stats.num_rows for stats in parts if stats.find_column(name) is None)
        columns.append(
            ColumnStatistics(
                name=name,
                type=kind,
                count=sum(column.count for column in found),
                missing=sum(column.missing for column in found) + absent,
                numeric=_merge_numeric(found),
                string=_merge_strings(found, top_k),
                lists=_merge_lists(found),
            )
        )
    labels: list[str] = []
    for stats in parts:
        labels += [label for label in stats.slices if label not in labels]
    slices = {
        label: merge_statistics([stats.slices[label] for stats in parts if label in stats.slices], top_k=top_k)
        for label in labels
    }
    return DatasetStatistics(
        num_rows=sum(stats.num_rows for stats in parts),
        columns=tuple(columns),
        slice_by=parts[0].slice_by,
        slices=slices,
        source=" + ".join(stats.source or "?" for stats in parts),
    )
