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
