"""Dataset statistics as plain values: what a statistics step records and what validation and reports read.

They are frozen and JSON-able (``to_dict``/``from_dict``) because a statistics artifact outlives the
process that computed it: a later run compares today's data with the statistics of last week's, and a
newer modelyard must still read them. ``version`` says which layout a dict has; fields added later get
defaults so that old artifacts keep loading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modelyard.errors import NotFound, UsageError, did_you_mean

STATISTICS_VERSION = 1

#: The logical column types modelyard reasons about; engines' many physical types map onto these.
COLUMN_TYPES: tuple[str, ...] = ("int", "float", "string", "bool", "timestamp", "other")


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
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnStatistics:
        numeric = data.get("numeric")
        string = data.get("string")
        return cls(
            name=str(data["name"]),
            type=str(data["type"]),
            count=int(data["count"]),
            missing=int(data["missing"]),
            numeric=NumericStats.from_dict(numeric) if numeric else None,
            string=StringStats.from_dict(string) if string else None,
        )


@dataclass(frozen=True)
class DatasetStatistics:
    """Statistics of one table (one split of a dataset), columns in table order."""

    num_rows: int
    columns: tuple[ColumnStatistics, ...]
    version: int = STATISTICS_VERSION

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
            "columns": [column.to_dict() for column in self.columns],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetStatistics:
        _check_version(data, "statistics", STATISTICS_VERSION)
        return cls(
            num_rows=int(data["num_rows"]),
            columns=tuple(ColumnStatistics.from_dict(column) for column in data.get("columns", ())),
        )
