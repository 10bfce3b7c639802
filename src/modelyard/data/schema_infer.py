"""Inferring a first schema from statistics: a starting point that people then review and keep in git.

Inference leans towards a contract that holds for the next batch of the same data rather than one
that describes this batch exactly: presence gets a margin below what was observed, numeric ranges
are left open (a new maximum is normal, not an anomaly, until someone says otherwise), and a domain
is only inferred for a string column whose complete set of values is known and small.
"""

from __future__ import annotations

import math
from dataclasses import replace

from modelyard.core.schema import ColumnSchema, Environment, Schema
from modelyard.core.statistics import ColumnStatistics, DatasetStatistics
from modelyard.errors import UsageError, did_you_mean

#: Absolute slack below the observed presence: sampling noise between batches should not fail a
#: pipeline, a column that suddenly loses a good share of its values should.
PRESENCE_MARGIN = 0.05

TRAINING = "training"
SERVING = "serving"


def _min_presence(column: ColumnStatistics) -> float:
    presence = column.presence
    if presence is None:
        return 0.0
    return max(0.0, math.floor((presence - PRESENCE_MARGIN) * 100) / 100)


def _domain(column: ColumnStatistics, max_domain_size: int) -> tuple[str, ...] | None:
    stats = column.string
    if column.type != "string" or stats is None or not stats.is_complete:
        return None
    if not 0 < stats.distinct <= max_domain_size:
        return None
    if stats.distinct >= column.count and column.count > 1:
        return None  # every value different: an identifier or free text, not a category
    return tuple(sorted(value for value, _ in stats.top))


def _range(column: ColumnStatistics) -> tuple[float | None, float | None]:
    numeric = column.numeric
    if numeric is None or column.type not in ("int", "float"):
        return None, None
    return numeric.min, numeric.max


def infer_column(column: ColumnStatistics, *, max_domain_size: int = 20, ranges: bool = False) -> ColumnSchema:
    """The schema of one column as its statistics suggest it; ``ranges`` bounds numbers by what was seen."""
    nullable = column.missing > 0 or column.count == 0
    low, high = _range(column) if ranges else (None, None)
    numeric = column.numeric
    return ColumnSchema(
        name=column.name,
        type=column.type,
        nullable=nullable,
        min_presence=_min_presence(column) if nullable else 1.0,
        domain=_domain(column, max_domain_size),
        min=low,
        max=high,
        allow_nan=bool(numeric and numeric.nan),
        allow_inf=bool(numeric and numeric.inf),
    )


def infer_schema(
    stats: DatasetStatistics, *, label: str | None = None, max_domain_size: int = 20, ranges: bool = False
) -> Schema:
    """A schema for data like ``stats``; with ``label``, a ``serving`` environment without the label.

    A ``training`` environment (every column) comes with it so that a pipeline can name both.
    ``ranges`` adds each numeric column's observed min and max as its bounds (off by default: a new
    maximum is usually news, not an error, until someone decides otherwise).
    """
    if max_domain_size < 0:
        raise UsageError(f"max_domain_size must be 0 or more, got {max_domain_size}")
    columns = tuple(infer_column(column, max_domain_size=max_domain_size, ranges=ranges) for column in stats.columns)
    environments: dict[str, Environment] = {}
    if label is not None:
        if stats.find_column(label) is None:
            raise UsageError(f"label column '{label}' is not in the data", hint=did_you_mean(label, stats.names))
        environments = {
            TRAINING: Environment(TRAINING, ()),
            SERVING: Environment(SERVING, (label,)),
        }
    return Schema(columns=columns, environments=environments)


def _relax_column(kept: ColumnSchema, found: ColumnStatistics, max_domain_size: int) -> ColumnSchema:
    changes: dict[str, object] = {}
    if kept.type == "int" and found.type == "float":
        changes["type"] = "float"  # widening; any other type change is for a person to decide
    if found.missing and found.count + found.missing:
        changes["nullable"] = True
        changes["min_presence"] = min(kept.min_presence, _min_presence(found))
    if kept.domain is not None and found.string is not None:
        new = [value for value, _ in found.string.top if value not in kept.domain]
        if new:
            changes["domain"] = kept.domain + tuple(sorted(new))
    numeric = found.numeric
    if numeric is not None and found.type in ("int", "float"):
        if kept.min is not None and numeric.min is not None and numeric.min < kept.min:
            changes["min"] = numeric.min
        if kept.max is not None and numeric.max is not None and numeric.max > kept.max:
            changes["max"] = numeric.max
        if numeric.nan and not kept.allow_nan:
            changes["allow_nan"] = True
        if numeric.inf and not kept.allow_inf:
            changes["allow_inf"] = True
    return replace(kept, **changes) if changes else kept  # type: ignore[arg-type]


def relax_schema(schema: Schema, stats: DatasetStatistics, *, max_domain_size: int = 20) -> Schema:
    """``schema`` widened just enough that data like ``stats`` passes it, keeping every hand edit.

    Re-inference starts from the existing contract rather than from scratch, so thresholds,
    environments, ranges, domains and columns people added stay. Only relaxations happen: a domain
    gains the new values, presence drops to what was seen (with the usual margin), a range widens,
    an int column that now holds fractions becomes float, NaN/infinity become allowed when seen, and
    a column the data has but the schema lacks is added as inferred. Nothing is tightened or removed;
    a column that changed type in another way stays as it was for a person to decide.
    """
    columns = []
    for kept in schema.columns:
        found = stats.find_column(kept.name)
        columns.append(
            kept
            if found is None or (not found.count and not found.missing)
            else _relax_column(kept, found, max_domain_size)
        )
    for found in stats.columns:
        if schema.find_column(found.name) is None:
            columns.append(infer_column(found, max_domain_size=max_domain_size))
    min_rows, max_rows = schema.min_rows, schema.max_rows
    if min_rows is not None and stats.num_rows < min_rows:
        min_rows = stats.num_rows
    if max_rows is not None and stats.num_rows > max_rows:
        max_rows = stats.num_rows
    return replace(schema, columns=tuple(columns), min_rows=min_rows, max_rows=max_rows)
