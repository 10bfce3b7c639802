"""Anomalies: what validating data against its schema found, as values a pipeline can record and act on.

Codes are stable strings because people and programs key on them (a policy that ignores
``unexpected_column``, a dashboard counting ``value_outside_domain``); messages are for people and may
be reworded. Errors stop a pipeline; warnings are reported and let it go on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from modelyard.errors import UsageError, ValidationFailed

ANOMALIES_VERSION = 1


class AnomalyCode(StrEnum):
    """The kinds of anomaly; each value is the stable string stored in artifacts."""

    MISSING_COLUMN = "missing_column"
    UNEXPECTED_COLUMN = "unexpected_column"
    TYPE_MISMATCH = "type_mismatch"
    PRESENCE_BELOW_MINIMUM = "presence_below_minimum"
    VALUE_OUTSIDE_DOMAIN = "value_outside_domain"
    OUT_OF_RANGE = "out_of_range"
    EMPTY_DATASET = "empty_dataset"
    NAN_NOT_ALLOWED = "nan_not_allowed"
    INF_NOT_ALLOWED = "inf_not_allowed"
    ROW_COUNT_OUT_OF_BOUNDS = "row_count_out_of_bounds"
    ROW_COUNT_CHANGED = "row_count_changed"
    DRIFT = "drift"
    SKEW = "skew"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Anomaly:
    """One finding: a code, how bad it is, the column it is about (None for the whole table), words, data."""

    code: str
    severity: str
    column: str | None
    message: str
    details: dict[str, Any] = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": str(self.code),
            "severity": str(self.severity),
            "column": self.column,
            "message": self.message,
            "details": dict(self.details),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Anomaly:
        code = str(data["code"])
        severity = str(data["severity"])
        return cls(
            # Known codes come back as enum members; an unknown one (from a newer writer) stays a string.
            code=AnomalyCode(code) if code in AnomalyCode._value2member_map_ else code,
            severity=Severity(severity) if severity in Severity._value2member_map_ else severity,
            column=data.get("column"),
            message=str(data["message"]),
            details=dict(data.get("details") or {}),
        )


@dataclass(frozen=True)
class Anomalies:
    """Every anomaly of one validation, in the order they were found."""

    items: tuple[Anomaly, ...] = ()
    version: int = ANOMALIES_VERSION

    def __iter__(self) -> Iterator[Anomaly]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def errors(self) -> tuple[Anomaly, ...]:
        return tuple(item for item in self.items if item.severity == Severity.ERROR)

    @property
    def warnings(self) -> tuple[Anomaly, ...]:
        return tuple(item for item in self.items if item.severity == Severity.WARNING)

    @property
    def has_errors(self) -> bool:
        return any(item.severity == Severity.ERROR for item in self.items)

    @property
    def codes(self) -> set[str]:
        return {str(item.code) for item in self.items}

    def for_column(self, name: str) -> tuple[Anomaly, ...]:
        return tuple(item for item in self.items if item.column == name)

    def raise_if_errors(self, what: str = "data") -> None:
        """Raise ValidationFailed listing every error, so a pipeline step can stop with all reasons at once."""
        errors = self.errors
        if errors:
            count = f"{len(errors)} error" + ("s" if len(errors) != 1 else "")
            raise ValidationFailed(
                f"{what} failed validation with {count}",
                problems=[item.message for item in errors],
                hint="fix the data, or update the schema if the change is intended",
            )

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "items": [item.to_dict() for item in self.items]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Anomalies:
        version = int(data.get("version", ANOMALIES_VERSION))
        if version > ANOMALIES_VERSION:
            raise UsageError(
                f"anomalies have layout version {version}, this modelyard reads up to {ANOMALIES_VERSION}",
                hint="upgrade modelyard to read artifacts written by a newer version",
            )
        return cls(items=tuple(Anomaly.from_dict(item) for item in data.get("items", ())))


@dataclass(frozen=True)
class ColumnDistance:
    """How far one column's distribution moved between a reference and a current dataset.

    ``metric`` names the measure the decision used (``linf``, ``jensen_shannon``, ``ks_test`` or
    ``chi2_test``) and ``value`` its value; for the two tests ``value`` is the p-value and the column
    moved when it is *below* ``threshold``, for distances when it is *above*. ``distances`` keeps every
    measure that was computed (``linf``, ``jensen_shannon``, ``psi``, ``ks``, ``p_value``) so a report
    can show them all whichever one decided.
    """

    column: str
    kind: str  # numeric | categorical
    metric: str
    value: float
    threshold: float
    drifted: bool
    distances: dict[str, float] = field(default_factory=dict, hash=False)
    reference_count: int = 0
    current_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            "metric": self.metric,
            "value": self.value,
            "threshold": self.threshold,
            "drifted": self.drifted,
            "distances": dict(self.distances),
            "reference_count": self.reference_count,
            "current_count": self.current_count,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnDistance:
        return cls(
            column=str(data["column"]),
            kind=str(data["kind"]),
            metric=str(data["metric"]),
            value=float(data["value"]),
            threshold=float(data["threshold"]),
            drifted=bool(data["drifted"]),
            distances={str(k): float(v) for k, v in (data.get("distances") or {}).items()},
            reference_count=int(data.get("reference_count", 0)),
            current_count=int(data.get("current_count", 0)),
        )


@dataclass(frozen=True)
class DriftReport:
    """Per-column distances between two datasets.

    ``mode`` is ``drift`` (two spans of the same data) or ``skew`` (training data against serving data).
    """

    mode: str
    columns: tuple[ColumnDistance, ...]
    reference_rows: int
    current_rows: int
    # Columns that could not be compared, with the reason (a changed type): said, never silently dropped.
    not_compared: tuple[tuple[str, str], ...] = ()

    @property
    def drifted(self) -> tuple[ColumnDistance, ...]:
        return tuple(column for column in self.columns if column.drifted)

    def find(self, name: str) -> ColumnDistance | None:
        for column in self.columns:
            if column.column == name:
                return column
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "columns": [column.to_dict() for column in self.columns],
            "not_compared": [{"column": name, "reason": reason} for name, reason in self.not_compared],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DriftReport:
        return cls(
            mode=str(data["mode"]),
            columns=tuple(ColumnDistance.from_dict(column) for column in data.get("columns", ())),
            reference_rows=int(data.get("reference_rows", 0)),
            current_rows=int(data.get("current_rows", 0)),
            not_compared=tuple((str(i["column"]), str(i["reason"])) for i in data.get("not_compared", ())),
        )
