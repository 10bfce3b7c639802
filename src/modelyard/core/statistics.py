"""Dataset statistics as plain values: what a statistics step records and what validation and reports read.

They are frozen and JSON-able (``to_dict``/``from_dict``) because a statistics artifact outlives the
process that computed it: a later run compares today's data with the statistics of last week's, and a
newer modelyard must still read them. ``version`` says which layout a dict has; fields added later get
defaults so that old artifacts keep loading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modelyard.errors import NotFound, UsageError, did_you_mean

STATISTICS_VERSION = 2

#: The logical column types modelyard reasons about; engines' many physical types map onto these.
COLUMN_TYPES: tuple[str, ...] = ("int", "float", "string", "bool", "timestamp", "list", "other")

#: Percentiles kept per numeric column: every whole percent from 0 to 100, so ``percentiles[p]`` is the
#: p-th percentile. A fine grid is what lets two statistics artifacts be compared (and merged) without
#: reading the data again: it is an approximate cumulative distribution, not just a five-number summary.
PERCENTILE_GRID = 101
#: The quantiles people ask for by name; all are on the grid.
NAMED_QUANTILES: tuple[int, ...] = (1, 5, 25, 50, 75, 95, 99)


def _check_version(data: dict[str, Any], kind: str, supported: int) -> int:
    version = int(data.get("version", 1))
    if version > supported:
        raise UsageError(
            f"{kind} has layout version {version}, this modelyard reads up to {supported}",
            hint="upgrade modelyard to read artifacts written by a newer version",
        )
    return version


@dataclass(frozen=True)
class NumericStats:
    """Summary of a numeric (or timestamp, as epoch seconds) column.

    ``mean`` and ``std`` (sample standard deviation) are over finite values only, so a single NaN or
    infinity does not hide the shape of the rest; ``nan`` and ``inf`` say how many were left out.
    """

    min: float | None
    max: float | None
    mean: float | None
    std: float | None
    zeros: int = 0
    negatives: int = 0
    nan: int = 0
    inf: int = 0
    #: ``PERCENTILE_GRID`` values (0th..100th percentile) over finite values; empty when unknown.
    percentiles: tuple[float, ...] = ()
    #: Equal-width histogram: ``len(edges) == len(counts) + 1``; the last bucket includes the maximum.
    histogram_edges: tuple[float, ...] = ()
    histogram_counts: tuple[int, ...] = ()
    #: True when the counts were estimated from the percentile sample (tables over 100,000 rows), scaled
    #: to the column's count; False when every value was counted.
    histogram_estimated: bool = False
    #: Timestamps only: the largest gap, in seconds, between two consecutive distinct values.
    max_gap: float | None = None
    #: True when percentiles or histogram were merged from partitions (approximate, see docs).
    approximate: bool = False

    def quantile(self, percent: int) -> float | None:
        """The ``percent``-th percentile (0..100), or None when the column had no finite values."""
        if not self.percentiles:
            return None
        if not 0 <= percent < len(self.percentiles):
            raise UsageError(f"percentile {percent} is not between 0 and 100")
        return self.percentiles[percent]

    @property
    def quantile_histogram(self) -> tuple[tuple[float, float, float], ...]:
        """Ten buckets ``(low, high, fraction)`` each holding a tenth of the values (deciles)."""
        if not self.percentiles:
            return ()
        deciles = self.percentiles[::10]
        return tuple((deciles[i], deciles[i + 1], 0.1) for i in range(len(deciles) - 1))

    def to_dict(self) -> dict[str, Any]:
        return {
            "min": self.min,
            "max": self.max,
            "mean": self.mean,
            "std": self.std,
            "zeros": self.zeros,
            "negatives": self.negatives,
            "nan": self.nan,
            "inf": self.inf,
            "quantiles": {str(p): self.quantile(p) for p in NAMED_QUANTILES} if self.percentiles else {},
            "percentiles": list(self.percentiles),
            "histogram": {
                "edges": list(self.histogram_edges),
                "counts": list(self.histogram_counts),
                "estimated": self.histogram_estimated,
            },
            "max_gap": self.max_gap,
            "approximate": self.approximate,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NumericStats:
        return cls(
            min=data.get("min"),
            max=data.get("max"),
            mean=data.get("mean"),
            std=data.get("std"),
            zeros=int(data.get("zeros", 0)),
            negatives=int(data.get("negatives", 0)),
            nan=int(data.get("nan", 0)),
            inf=int(data.get("inf", 0)),
            percentiles=tuple(float(value) for value in data.get("percentiles") or ()),
            histogram_edges=tuple(float(value) for value in (data.get("histogram") or {}).get("edges", ())),
            histogram_counts=tuple(int(value) for value in (data.get("histogram") or {}).get("counts", ())),
            histogram_estimated=bool((data.get("histogram") or {}).get("estimated", False)),
            max_gap=data.get("max_gap"),
            approximate=bool(data.get("approximate", False)),
        )


@dataclass(frozen=True)
class ListStats:
    """Summary of a list column: how many values each row's list holds, and how many in all."""

    min_values: int | None
    mean_values: float | None
    max_values: int | None
    total_values: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "min_values": self.min_values,
            "mean_values": self.mean_values,
            "max_values": self.max_values,
            "total_values": self.total_values,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ListStats:
        return cls(
            min_values=data.get("min_values"),
            mean_values=data.get("mean_values"),
            max_values=data.get("max_values"),
            total_values=int(data.get("total_values", 0)),
        )


@dataclass(frozen=True)
class StringStats:
    """Summary of a string (or bool) column: cardinality, the most frequent values, value lengths.

    ``top`` holds ``(value, count)`` pairs, most frequent first. When ``distinct`` is at most
    ``len(top)`` and exact, ``top`` is the complete list of values, which is what lets schema
    inference build a domain and validation count every out-of-domain value exactly.
    """

    distinct: int
    distinct_is_approximate: bool = False
    top: tuple[tuple[str, int], ...] = ()
    min_len: int | None = None
    mean_len: float | None = None
    max_len: int | None = None

    @property
    def is_complete(self) -> bool:
        """True when ``top`` lists every distinct value (so absence from it means absence from the data)."""
        return not self.distinct_is_approximate and self.distinct <= len(self.top)

    def to_dict(self) -> dict[str, Any]:
        return {
            "distinct": self.distinct,
            "distinct_is_approximate": self.distinct_is_approximate,
            "top": [[value, count] for value, count in self.top],
            "min_len": self.min_len,
            "mean_len": self.mean_len,
            "max_len": self.max_len,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StringStats:
        return cls(
            distinct=int(data["distinct"]),
            distinct_is_approximate=bool(data.get("distinct_is_approximate", False)),
            top=tuple((str(value), int(count)) for value, count in data.get("top", ())),
            min_len=data.get("min_len"),
            mean_len=data.get("mean_len"),
            max_len=data.get("max_len"),
        )


@dataclass(frozen=True)
class ColumnStatistics:
    """One column: its logical type, how many values are present (``count``) and missing, and a summary."""

    name: str
    type: str
    count: int
    missing: int
    numeric: NumericStats | None = None
    string: StringStats | None = None
    lists: ListStats | None = None

    @property
    def presence(self) -> float | None:
        """Fraction of rows with a value; None for a table without rows, where it means nothing."""
        total = self.count + self.missing
        return self.count / total if total else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "count": self.count,
            "missing": self.missing,
            "numeric": self.numeric.to_dict() if self.numeric else None,
            "string": self.string.to_dict() if self.string else None,
            "lists": self.lists.to_dict() if self.lists else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnStatistics:
        numeric = data.get("numeric")
        string = data.get("string")
        lists = data.get("lists")
        return cls(
            name=str(data["name"]),
            type=str(data["type"]),
            count=int(data["count"]),
            missing=int(data["missing"]),
            numeric=NumericStats.from_dict(numeric) if numeric else None,
            string=StringStats.from_dict(string) if string else None,
            lists=ListStats.from_dict(lists) if lists else None,
        )


@dataclass(frozen=True)
class DatasetStatistics:
    """Statistics of one table (one split of a dataset), columns in table order.

    ``slices`` holds the statistics of each slice (rows sharing the values of ``slice_by`` columns),
    keyed by a label like ``island=Biscoe`` or ``island=Biscoe,sex=male``; slices have no slices.
    ``source`` says what was read (a path or a query) so a report can name it.
    """

    num_rows: int
    columns: tuple[ColumnStatistics, ...]
    version: int = STATISTICS_VERSION
    slice_by: tuple[str, ...] = ()
    slices: dict[str, DatasetStatistics] = field(default_factory=dict, hash=False, compare=True)
    source: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def find_column(self, name: str) -> ColumnStatistics | None:
        for column in self.columns:
            if column.name == name:
                return column
        return None

    def column(self, name: str) -> ColumnStatistics:
        """The named column; NotFound (with a did-you-mean hint) when the table has no such column."""
        found = self.find_column(name)
        if found is None:
            raise NotFound(f"no column '{name}' in these statistics", hint=did_you_mean(name, self.names))
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "num_rows": self.num_rows,
            "source": self.source,
            "columns": [column.to_dict() for column in self.columns],
            "slice_by": list(self.slice_by),
            "slices": {label: stats.to_dict() for label, stats in self.slices.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetStatistics:
        _check_version(data, "statistics", STATISTICS_VERSION)
        return cls(
            num_rows=int(data["num_rows"]),
            columns=tuple(ColumnStatistics.from_dict(column) for column in data.get("columns", ())),
            slice_by=tuple(str(name) for name in data.get("slice_by") or ()),
            slices={str(k): DatasetStatistics.from_dict(v) for k, v in (data.get("slices") or {}).items()},
            source=data.get("source"),
        )
