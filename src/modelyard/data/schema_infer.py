"""Inferring a first schema from statistics: a starting point that people then review and keep in git.

Inference leans towards a contract that holds for the next batch of the same data rather than one
that describes this batch exactly: presence gets a margin below what was observed, numeric ranges
are left open (a new maximum is normal, not an anomaly, until someone says otherwise), and a domain
is only inferred for a string column whose complete set of values is known and small.
"""

from __future__ import annotations

import math

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


def infer_column(column: ColumnStatistics, *, max_domain_size: int = 20) -> ColumnSchema:
    """The schema of one column as its statistics suggest it."""
    nullable = column.missing > 0 or column.count == 0
    return ColumnSchema(
        name=column.name,
        type=column.type,
        nullable=nullable,
        min_presence=_min_presence(column) if nullable else 1.0,
        domain=_domain(column, max_domain_size),
    )


def infer_schema(stats: DatasetStatistics, *, label: str | None = None, max_domain_size: int = 20) -> Schema:
    """A schema for data like ``stats``; with ``label``, a ``serving`` environment without the label.

    A ``training`` environment (every column) comes with it so that a pipeline can name both.
    """
    if max_domain_size < 0:
        raise UsageError(f"max_domain_size must be 0 or more, got {max_domain_size}")
    columns = tuple(infer_column(column, max_domain_size=max_domain_size) for column in stats.columns)
    environments: dict[str, Environment] = {}
    if label is not None:
        if stats.find_column(label) is None:
            raise UsageError(f"label column '{label}' is not in the data", hint=did_you_mean(label, stats.names))
        environments = {
            TRAINING: Environment(TRAINING, ()),
            SERVING: Environment(SERVING, (label,)),
        }
    return Schema(columns=columns, environments=environments)
