"""Validating statistics against a schema: every way a new batch breaks the contract, in words.

Validation reads statistics, never the data, so checking a batch costs nothing beyond the statistics
a pipeline computes anyway, and the same check runs on a laptop file or a warehouse table. Each
column gets at most one anomaly per kind, and a column whose type changed is not also checked for
range or domain, so one cause gives one message rather than a cascade.
"""

from __future__ import annotations

from modelyard.core.anomalies import Anomalies, Anomaly, AnomalyCode, Severity
from modelyard.core.schema import ColumnSchema, Schema
from modelyard.core.statistics import ColumnStatistics, DatasetStatistics
from modelyard.data.drift import cdf, compare_statistics, drift_anomalies

#: How many out-of-domain values an anomaly quotes; the details carry the same list.
EXAMPLES = 5


def _percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "0%"


def _compatible(expected: str, found: str) -> bool:
    # An integer column is a valid float column: CSV type detection reads "3" as an int.
    return expected == found or (expected == "float" and found == "int")


def _presence(expected: ColumnSchema, found: ColumnStatistics, num_rows: int) -> Anomaly | None:
    if found.missing == 0:
        return None
    presence = found.count / num_rows
    if not expected.nullable:
        message = (
            f"column '{found.name}' has {found.missing} missing values ({_percent(found.missing, num_rows)}) "
            "but the schema says it is never null"
        )
    elif presence + 1e-12 < expected.min_presence:
        message = (
            f"column '{found.name}' has a value in {_percent(found.count, num_rows)} of rows, "
            f"below the minimum of {expected.min_presence:.0%}"
        )
    else:
        return None
    return Anomaly(
        AnomalyCode.PRESENCE_BELOW_MINIMUM,
        Severity.ERROR,
        found.name,
        message,
        {"presence": presence, "min_presence": expected.min_presence, "missing": found.missing},
    )


def _domain(expected: ColumnSchema, found: ColumnStatistics) -> Anomaly | None:
    if expected.domain is None or found.string is None or not found.count:
        return None
    allowed = set(expected.domain)
    outside = [(value, count) for value, count in found.string.top if value not in allowed]
    complete = found.string.is_complete
    if not outside:
        # With an incomplete top list, rarer values may still be outside, but nothing here proves it.
        return None
    count = sum(count for _, count in outside)
    examples = [value for value, _ in outside[:EXAMPLES]]
    quoted = ", ".join(repr(value) for value in examples)
    more = "" if len(outside) <= EXAMPLES else f" and {len(outside) - EXAMPLES} more"
    at_least = "" if complete else "at least "
    message = (
        f"column '{found.name}': {at_least}{count} of {found.count} values ({_percent(count, found.count)}) "
        f"are not in the domain: {quoted}{more}; add them to the schema's domain if they are valid"
    )
    return Anomaly(
        AnomalyCode.VALUE_OUTSIDE_DOMAIN,
        Severity.ERROR,
        found.name,
        message,
        {"fraction": count / found.count, "count": count, "examples": examples, "complete": complete},
    )


def _range(expected: ColumnSchema, found: ColumnStatistics) -> Anomaly | None:
    numeric = found.numeric
    if numeric is None or (expected.min is None and expected.max is None):
        return None
    below = expected.min is not None and numeric.min is not None and numeric.min < expected.min
    above = expected.max is not None and numeric.max is not None and numeric.max > expected.max
    if not (below or above):
        return None
    problems = []
    if below:
        problems.append(f"minimum {numeric.min:g} is below {expected.min:g}")
    if above:
        problems.append(f"maximum {numeric.max:g} is above {expected.max:g}")
    details = {"min": expected.min, "max": expected.max, "observed_min": numeric.min, "observed_max": numeric.max}
    message = f"column '{found.name}': " + " and ".join(problems)
    if numeric.percentiles:
        # Statistics hold no rows, but the percentile grid says roughly how many values are outside.
        outside = (cdf(numeric, expected.min) if below else 0.0) + (1 - cdf(numeric, expected.max) if above else 0.0)
        finite = found.count - numeric.nan - numeric.inf
        approx = max(1, round(outside * finite))
        details.update(approx_count=approx, approx_fraction=approx / finite if finite else 0.0)
        message += f"; about {approx} of {finite} values ({_percent(approx, finite)}) are outside"
    return Anomaly(AnomalyCode.OUT_OF_RANGE, Severity.ERROR, found.name, message, details)


def _not_numbers(found: ColumnStatistics) -> tuple[list[str], int, bool]:
    """Values of a text column that do not read as numbers: examples, how many, and whether that is all."""
    if found.string is None:
        return [], 0, False
    bad: list[tuple[str, int]] = []
    for value, count in found.string.top:
        try:
            float(value)
        except ValueError:
            bad.append((value, count))
    return [value for value, _ in bad[:EXAMPLES]], sum(count for _, count in bad), found.string.is_complete


def _type_mismatch(expected: ColumnSchema, found: ColumnStatistics) -> Anomaly:
    details: dict[str, object] = {"expected": expected.type, "found": found.type}
    message = f"column '{found.name}' should be {expected.type} but holds {found.type} values"
    if expected.type in ("int", "float") and found.type == "string":
        examples, count, complete = _not_numbers(found)
        if examples:
            at_least = "" if complete else "at least "
            quoted = ", ".join(repr(value) for value in examples)
            message += f"; {at_least}{count} of {found.count} are not numbers, e.g. {quoted}"
            details.update(examples=examples, count=count, complete=complete)
    return Anomaly(AnomalyCode.TYPE_MISMATCH, Severity.ERROR, found.name, message, details)


def _nan_inf(expected: ColumnSchema, found: ColumnStatistics) -> list[Anomaly]:
    numeric = found.numeric
    if numeric is None:
        return []
    items = []
    for code, count, allowed, word, key in (
        (AnomalyCode.NAN_NOT_ALLOWED, numeric.nan, expected.allow_nan, "NaN", "allow_nan"),
        (AnomalyCode.INF_NOT_ALLOWED, numeric.inf, expected.allow_inf, "infinite", "allow_inf"),
    ):
        if count and not allowed:
            items.append(
                Anomaly(
                    code,
                    Severity.ERROR,
                    found.name,
                    f"column '{found.name}' has {count} {word} values ({_percent(count, found.count)}); "
                    f"set {key}: true in the schema if they are expected",
                    {"count": count, "fraction": count / found.count if found.count else 0.0},
                )
            )
    return items


def _check_column(expected: ColumnSchema, found: ColumnStatistics, num_rows: int) -> list[Anomaly]:
    anomalies: list[Anomaly] = []
    # A column with no values at all has no type of its own (CSV reads it as text); presence covers it.
    type_ok = found.count == 0 or _compatible(expected.type, found.type)
    if not type_ok:
        anomalies.append(_type_mismatch(expected, found))
    if num_rows:
        presence = _presence(expected, found, num_rows)
        if presence is not None:
            anomalies.append(presence)
        if type_ok:
            for check in (_domain(expected, found), _range(expected, found)):
                if check is not None:
                    anomalies.append(check)
            anomalies.extend(_nan_inf(expected, found))
    return anomalies


def _row_count(stats: DatasetStatistics, schema: Schema, reference: DatasetStatistics | None) -> list[Anomaly]:
    items = []
    rows = stats.num_rows
    low, high = schema.min_rows, schema.max_rows
    if (low is not None and rows < low) or (high is not None and rows > high):
        bounds = f"{low if low is not None else 0:,}..{high:,}" if high is not None else f"at least {low:,}"
        items.append(
            Anomaly(
                AnomalyCode.ROW_COUNT_OUT_OF_BOUNDS,
                Severity.ERROR,
                None,
                f"the dataset has {rows:,} rows, expected {bounds}",
                {"rows": rows, "min_rows": low, "max_rows": high},
            )
        )
    limit = schema.max_row_change
    if reference is not None and limit is not None and reference.num_rows:
        change = (rows - reference.num_rows) / reference.num_rows
        if abs(change) > limit:
            items.append(
                Anomaly(
                    AnomalyCode.ROW_COUNT_CHANGED,
                    Severity.ERROR,
                    None,
                    f"the dataset has {rows:,} rows against {reference.num_rows:,} in the reference "
                    f"({change:+.0%}), more than the allowed change of {limit:.0%}",
                    {"rows": rows, "reference_rows": reference.num_rows, "change": change, "max_row_change": limit},
                )
            )
    return items


def validate_statistics(
    stats: DatasetStatistics,
    schema: Schema,
    *,
    environment: str | None = None,
    reference: DatasetStatistics | None = None,
    mode: str = "drift",
) -> Anomalies:
    """Compare ``stats`` with ``schema`` in ``environment`` (all columns when None) and list what is wrong.

    Columns the environment excludes are skipped whether or not they are present. With ``reference``
    (statistics of an earlier span, or of training data when ``mode`` is ``skew``), every column is
    also compared with it (see :mod:`modelyard.data.drift`) and the row count change is checked.
    """
    expected = schema.columns_for(environment)
    items: list[Anomaly] = []
    if stats.num_rows == 0:
        items.append(
            Anomaly(
                AnomalyCode.EMPTY_DATASET,
                Severity.ERROR,
                None,
                "the dataset has no rows",
                {"num_rows": 0},
            )
        )
    for column in expected:
        found = stats.find_column(column.name)
        if found is None:
            optional = column.nullable and column.min_presence == 0
            items.append(
                Anomaly(
                    AnomalyCode.MISSING_COLUMN,
                    Severity.WARNING if optional else Severity.ERROR,
                    column.name,
                    f"column '{column.name}' is in the schema but not in the data",
                    {"expected_type": column.type},
                )
            )
            continue
        items.extend(_check_column(column, found, stats.num_rows))
    items.extend(_row_count(stats, schema, reference))
    if reference is not None and stats.num_rows:
        report = compare_statistics(reference, stats, schema=schema, mode=mode, environment=environment)
        items.extend(drift_anomalies(report, schema))
    known = set(schema.names)
    for found in stats.columns:
        if found.name not in known:
            items.append(
                Anomaly(
                    AnomalyCode.UNEXPECTED_COLUMN,
                    Severity.WARNING,
                    found.name,
                    f"column '{found.name}' ({found.type}) is in the data but not in the schema; "
                    "add it to the schema if it is meant to be there",
                    {"type": found.type},
                )
            )
    return Anomalies(items=tuple(items))
