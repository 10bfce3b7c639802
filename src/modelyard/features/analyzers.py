"""Analyzers: the full-pass statistics a transform is fitted from, computed by DuckDB in one scan.

One SQL statement computes every aggregate (moments, extremes, median and a value histogram per
categorical column) so the training file is read once however many columns the transform uses, and the
file never has to fit in memory as a DataFrame. NaN is treated as missing (like NULL) so that a float
column written by pandas and one written by a database analyse the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
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
    """What one pass learns about a numeric column; ``None`` where no value was present.

    The raw statistics feed imputation; the ``shaped`` ones are of the values after clipping and the
    log, which is what scaling and quantile buckets must be fitted on.
    """

    count: int
    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    median: float | None
    mode: float | None = None
    shaped_mean: float | None = None
    shaped_std: float | None = None
    shaped_min: float | None = None
    shaped_max: float | None = None
    shaped_quartiles: tuple[float, float, float] | None = None
    shaped_edges: tuple[float, ...] | None = None


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


def _shaped_sql(col: str, options: Mapping[str, Any]) -> str:
    """The SQL for a value after the spec's clip and log: the same shape apply() gives it."""
    expr = col
    low, high = options.get("clip") or (None, None)
    # CASE rather than greatest()/least(): those skip NULL and would turn a missing value into a bound
    if low is not None:
        expr = f"(CASE WHEN {expr} < {float(low)!r} THEN {float(low)!r} ELSE {expr} END)"
    if high is not None:
        expr = f"(CASE WHEN {expr} > {float(high)!r} THEN {float(high)!r} ELSE {expr} END)"
    if options.get("log"):
        expr = f"(sign({expr}) * ln(1 + abs({expr})))"
    return expr


def summarize(
    path: Path,
    numeric: Sequence[str],
    categorical: Sequence[str],
    numeric_options: Mapping[str, Mapping[str, Any]] | None = None,
) -> DatasetSummary:
    """Scan the Parquet file at ``path`` once and summarise the named columns.

    ``numeric_options`` (per column: ``clip``, ``log``, ``bucketize``) say how to shape each value
    before the scaling statistics and quantile edges are taken; everything is one SQL statement.

    Raises DataError when the file cannot be read, a column is missing or has the wrong type, or a
    numeric column holds an infinite value (its mean and spread would be meaningless).
    """
    import duckdb

    path = Path(path)
    if not path.exists():
        raise DataError("training data file does not exist", where=Location(file=str(path)))
    con = duckdb.connect()
    # Parquet min/max statistics leave NaN out, and DuckDB's statistics propagation then folds
    # isnan(x) to false for the whole file; turn that one optimizer off so NaN counts as missing.
    con.execute("SET disabled_optimizers = 'statistics_propagation'")
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
            options = (numeric_options or {}).get(name, {})
            shaped = _shaped_sql(col, options)
            quantiles = (options.get("bucketize") or {}).get("quantiles")
            probs = [k / quantiles for k in range(1, quantiles)] if quantiles else [0.5]
            # mode and quantiles need a hash table or a sort per column: only when the spec uses them
            mode = f"mode({col})" if options.get("impute") == "most_frequent" else "NULL"
            quartiles = f"quantile_cont({shaped}, [0.25, 0.5, 0.75])" if options.get("scale") == "robust" else "NULL"
            edges = f"quantile_cont({shaped}, {probs!r})" if quantiles else "NULL"
            outer += [
                f"count({col})", f"avg({col})", f"stddev_pop({col})", f"min({col})", f"max({col})",
                f"quantile_cont({col}, 0.5)", f"count(*) FILTER (WHERE isinf({col}))", mode,
                f"avg({shaped})", f"stddev_pop({shaped})", f"min({shaped})", f"max({shaped})", quartiles, edges,
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
        count, mean, std, low, high, median, infinite, mode = row[pos : pos + 8]
        s_mean, s_std, s_low, s_high, quartiles, edges = row[pos + 8 : pos + 14]
        pos += 14
        quantiles = ((numeric_options or {}).get(name, {}).get("bucketize") or {}).get("quantiles")
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
            mode=_finite(mode),
            shaped_mean=_finite(s_mean),
            shaped_std=_finite(s_std),
            shaped_min=_finite(s_low),
            shaped_max=_finite(s_high),
            shaped_quartiles=None if not quartiles or None in quartiles else tuple(float(q) for q in quartiles),
            shaped_edges=None if not quantiles or not edges or None in edges else tuple(sorted(set(map(float, edges)))),
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
