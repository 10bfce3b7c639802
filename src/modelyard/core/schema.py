"""The schema: the data contract a pipeline checks every new batch of data against.

It is inferred once from statistics, then owned by people: they keep it in git as YAML, tighten a
range, widen a domain, and each change shows up as a readable diff. Environments say which columns a
context leaves out, so one schema covers training data (with the label) and serving requests
(without it), as in TFX.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modelyard.core.statistics import COLUMN_TYPES
from modelyard.errors import NotFound, UsageError, did_you_mean

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ColumnSchema:
    """What one column must look like.

    ``nullable`` is the yes/no contract; ``min_presence`` (the fraction of rows that must have a value)
    is the tolerance once nulls are allowed, so a column that is not nullable always has
    ``min_presence`` 1. ``domain`` lists the allowed values of a categorical string column; ``min`` and
    ``max`` bound a numeric one. The thresholds are distances above which drift (between spans) or skew
    (between training and serving) is reported.
    """

    name: str
    type: str
    min_presence: float = 1.0
    nullable: bool = False
    domain: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    drift_threshold: float | None = None
    skew_threshold: float | None = None
    allow_nan: bool = False
    allow_inf: bool = False

    def __post_init__(self) -> None:
        if self.type not in COLUMN_TYPES:
            raise UsageError(
                f"column '{self.name}' has unknown type '{self.type}'", hint=did_you_mean(self.type, COLUMN_TYPES)
            )
        if not 0.0 <= self.min_presence <= 1.0:
            raise UsageError(f"column '{self.name}': min_presence {self.min_presence} is not between 0 and 1")
        if not self.nullable and self.min_presence < 1.0:
            raise UsageError(
                f"column '{self.name}': min_presence {self.min_presence} below 1 allows nulls",
                hint="set nullable: true, or min_presence: 1",
            )
        if self.min is not None and self.max is not None and self.min > self.max:
            raise UsageError(f"column '{self.name}': min {self.min} is greater than max {self.max}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "min_presence": self.min_presence,
            "nullable": self.nullable,
            "domain": list(self.domain) if self.domain is not None else None,
            "min": self.min,
            "max": self.max,
            "drift_threshold": self.drift_threshold,
            "skew_threshold": self.skew_threshold,
            "allow_nan": self.allow_nan,
            "allow_inf": self.allow_inf,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnSchema:
        domain = data.get("domain")
        return cls(
            name=str(data["name"]),
            type=str(data["type"]),
            min_presence=float(data.get("min_presence", 1.0)),
            nullable=bool(data.get("nullable", False)),
            domain=tuple(str(value) for value in domain) if domain is not None else None,
            min=data.get("min"),
            max=data.get("max"),
            drift_threshold=data.get("drift_threshold"),
            skew_threshold=data.get("skew_threshold"),
            allow_nan=bool(data.get("allow_nan", False)),
            allow_inf=bool(data.get("allow_inf", False)),
        )


@dataclass(frozen=True)
class Environment:
    """A context (``training``, ``serving``) and the schema columns that are absent in it."""

    name: str
    exclude: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "exclude": list(self.exclude)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Environment:
        return cls(name=str(data["name"]), exclude=tuple(str(name) for name in data.get("exclude", ())))


@dataclass(frozen=True)
class Schema:
    """The whole contract: columns in order and the named environments."""

    columns: tuple[ColumnSchema, ...]
    environments: dict[str, Environment] = field(default_factory=dict, hash=False)
    version: int = SCHEMA_VERSION
    #: Bounds on the number of rows of a batch, and the largest relative change of the row count
    #: against the previous span (0.5: half as many or one and a half times as many rows at most).
    min_rows: int | None = None
    max_rows: int | None = None
    max_row_change: float | None = None

    def __post_init__(self) -> None:
        if self.min_rows is not None and self.max_rows is not None and self.min_rows > self.max_rows:
            raise UsageError(f"min_rows {self.min_rows} is greater than max_rows {self.max_rows}")
        seen: set[str] = set()
        for column in self.columns:
            if column.name in seen:
                raise UsageError(f"the schema lists column '{column.name}' twice")
            seen.add(column.name)
        for key, environment in self.environments.items():
            if key != environment.name:
                raise UsageError(f"environment stored under '{key}' is named '{environment.name}'")
            for name in environment.exclude:
                if name not in seen:
                    raise UsageError(
                        f"environment '{key}' excludes column '{name}', which the schema does not have",
                        hint=did_you_mean(name, seen),
                    )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def find_column(self, name: str) -> ColumnSchema | None:
        for column in self.columns:
            if column.name == name:
                return column
        return None

    def column(self, name: str) -> ColumnSchema:
        """The named column; NotFound with a did-you-mean hint when the schema has none."""
        found = self.find_column(name)
        if found is None:
            raise NotFound(f"the schema has no column '{name}'", hint=did_you_mean(name, self.names))
        return found

    def columns_for(self, environment: str | None) -> tuple[ColumnSchema, ...]:
        """The columns expected in ``environment`` (all of them for None); NotFound for an unknown name."""
        if environment is None:
            return self.columns
        env = self.environments.get(environment)
        if env is None:
            raise NotFound(
                f"the schema has no environment '{environment}'",
                hint=did_you_mean(environment, self.environments) or "the schema defines no environments",
            )
        excluded = set(env.exclude)
        return tuple(column for column in self.columns if column.name not in excluded)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "columns": [column.to_dict() for column in self.columns],
            "environments": [env.to_dict() for env in self.environments.values()],
            "min_rows": self.min_rows,
            "max_rows": self.max_rows,
            "max_row_change": self.max_row_change,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schema:
        version = int(data.get("version", SCHEMA_VERSION))
        if version > SCHEMA_VERSION:
            raise UsageError(
                f"schema has layout version {version}, this modelyard reads up to {SCHEMA_VERSION}",
                hint="upgrade modelyard to read schemas written by a newer version",
            )
        environments = [Environment.from_dict(env) for env in data.get("environments", ())]
        return cls(
            columns=tuple(ColumnSchema.from_dict(column) for column in data.get("columns", ())),
            environments={env.name: env for env in environments},
            min_rows=data.get("min_rows"),
            max_rows=data.get("max_rows"),
            max_row_change=data.get("max_row_change"),
        )
