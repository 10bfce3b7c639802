"""Analyzers: the full-pass statistics a transform is fitted from, computed by DuckDB in one scan.

One SQL statement computes every aggregate (moments, extremes, median and a value histogram per
categorical column) so the training file is read once however many columns the transform uses, and the
file never has to fit in memory as a DataFrame. NaN is treated as missing (like NULL) so that a float
column written by pandas and one written by a database analyse the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelyard.errors import DataError, Location, did_you_mean
from modelyard.features.values import category_key

# DuckDB type names (prefixes) whose values can be averaged; BOOLEAN counts as 0/1.
_NUMERIC_SQL_TYPES = (
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
    "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "BOOLEAN",
)  # fmt: skip
_CATEGORICAL_SQL_TYPES = (*_NUMERIC_SQL_TYPES, "VARCHAR", "ENUM")


@dataclass(frozen=True)
class NumericSummary:
    """What one pass learns about a numeric column; ``None`` where no value was present."""

    count: int
    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    median: float | None


@dataclass(frozen=True)
class CategoricalSummary:
    """Distinct values (as canonical keys) with their counts, and how many cells were missing."""

    counts: dict[str, int]
    missing: int


@dataclass(frozen=True)
class DatasetSummary:
    rows: int
    numeric: dict[str, NumericSummary]
    categorical: dict[str, CategoricalSummary]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _file_columns(con: Any, source: str, path: Path) -> dict[str, str]:
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    except Exception as exc:  # duckdb raises its own hierarchy; all of them mean "cannot read"
        raise DataError(
            f"cannot read Parquet file: {str(exc).splitlines()[0]}",
            where=Location(file=str(path)),
            hint="the transform is fitted on the Parquet training split",
        ) from exc
    return {name: str(sql_type).upper() for name, sql_type, *_ in rows}


def _check_columns(
    path: Path, file_columns: dict[str, str], wanted: Sequence[str], allowed: tuple[str, ...], kind: str
) -> None:
    for name in wanted:
        if name not in file_columns:
            raise DataError(
                f"the training data has no column '{name}'",
                where=Location(file=str(path), column=name),
                hint=did_you_mean(name, file_columns),
            )
        sql_type = file_columns[name]
        if not sql_type.startswith(allowed):
            raise DataError(
                f"column '{name}' has type {sql_type}, which cannot be a {kind} feature",
                where=Location(file=str(path), column=name),
                hint="list it under the other kind of feature, or leave it out of the transform",
            )


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def summarize(path: Path, numeric: Sequence[str], categorical: Sequence[str]) -> DatasetSummary:
    """Scan the Parquet file at ``path`` once and summarise the named columns.

    Raises DataError when the file cannot be read, a column is missing or has the wrong type, or a
    numeric column holds an infinite value (its mean and spread would be meaningless).
    """
    import duckdb

    path = Path(path)
    if not path.exists():
        raise DataError("training data file does not exist", where=Location(file=str(path)))
    con = duckdb.connect()
    try:
        source = "read_parquet('" + str(path).replace("'", "''") + "')"
        file_columns = _file_columns(con, source, path)
        _check_columns(path, file_columns, numeric, _NUMERIC_SQL_TYPES, "numeric")
        _check_columns(path, file_columns, categorical, _CATEGORICAL_SQL_TYPES, "categorical")

        # The inner query cleans: numbers become DOUBLE with NaN turned into NULL.
        inner: list[str] = []
        outer: list[str] = ["count(*)"]
        for i, name in enumerate(numeric):
            as_double = f"CAST({_quote(name)} AS DOUBLE)"
            inner.append(f"CASE WHEN isnan({as_double}) THEN NULL ELSE {as_double} END AS n{i}")
            col = f"n{i}"
            outer += [
                f"count({col})", f"avg({col})", f"stddev_pop({col})", f"min({col})", f"max({col})",
                f"quantile_cont({col}, 0.5)", f"count(*) FILTER (WHERE isinf({col}))",
            ]  # fmt: skip
        for i, name in enumerate(categorical):
            inner.append(f"{_quote(name)} AS c{i}")
            outer += [f"histogram(c{i})"]
        select_inner = ", ".join(inner) if inner else "1 AS dummy"
        sql = f"SELECT {', '.join(outer)} FROM (SELECT {select_inner} FROM {source})"
        try:
            row = con.execute(sql).fetchone()
        except Exception as exc:
            raise DataError(
                f"analysing the training data failed: {str(exc).splitlines()[0]}",
                where=Location(file=str(path)),
            ) from exc
    finally:
        con.close()
    if row is None:  # an aggregate query returns one row; anything else is a DuckDB fault
        raise DataError("analysing the training data returned no result", where=Location(file=str(path)))
    rows = int(row[0])
    pos = 1
    numeric_out: dict[str, NumericSummary] = {}
    for name in numeric:
        count, mean, std, low, high, median, infinite = row[pos : pos + 7]
        pos += 7
        if infinite:
            raise DataError(
                f"column '{name}' holds {infinite} infinite value(s); a numeric feature needs finite numbers",
                where=Location(file=str(path), column=name),
                hint="replace them with nulls upstream, or fix the data source",
            )
        numeric_out[name] = NumericSummary(
            count=int(count),
            mean=_finite(mean),
            std=_finite(std),
            min=_finite(low),
            max=_finite(high),
            median=_finite(median),
        )
    categorical_out: dict[str, CategoricalSummary] = {}
    for name in categorical:
        histogram = row[pos] or {}
        pos += 1
        counts: dict[str, int] = {}
        present = 0
        for value, count in histogram.items():
            key = category_key(value)
            if key is None:  # NaN in a float column counts as missing
                continue
            counts[key] = counts.get(key, 0) + int(count)
            present += int(count)
        categorical_out[name] = CategoricalSummary(counts=counts, missing=rows - present)
    return DatasetSummary(rows=rows, numeric=numeric_out, categorical=categorical_out)
