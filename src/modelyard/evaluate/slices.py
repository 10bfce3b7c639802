"""Slices: every metric again on subsets of the evaluation rows, and the largest gap between them.

An overall accuracy of 0.95 can hide a slice at 0.70; a model that is fine on average but poor for one
island, one sex or one weight class is the failure a fairness review looks for. A slicing is declared
in the pipeline file as one of::

    island                                   # every value of a column (missing values are a slice too)
    [island, sex]                            # a cross: every combination present
    {column: body_mass_g, buckets: [3500, 4500]}   # numeric buckets by fixed edges
    {column: body_mass_g, quantiles: 4}      # numeric buckets at quantiles of the evaluation data

Slices with fewer than ``min_rows`` rows are reported (with their counts) but left out of the gap,
because a metric on five rows is mostly noise and would make every gap check fail.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modelyard.errors import Location, UsageError, did_you_mean
from modelyard.features.values import as_float, category_key

MISSING = "(missing)"


@dataclass(frozen=True)
class Slicing:
    """One way of cutting the rows: the columns it reads and, for numbers, the bucket edges."""

    name: str
    columns: tuple[str, ...]
    edges: tuple[float, ...] | None = None  # fixed edges; None means "by value"
    quantiles: int | None = None


def parse_slicings(specs: Sequence[Any], columns: Sequence[str]) -> list[Slicing]:
    """Slicings from the pipeline file's ``slices`` list; unknown columns get a "did you mean"."""
    out: list[Slicing] = []
    for i, spec in enumerate(specs):
        where = Location(field=f"slices[{i}]")
        if isinstance(spec, str):
            slicing = Slicing(name=spec, columns=(spec,))
        elif isinstance(spec, list | tuple) and spec and all(isinstance(c, str) for c in spec):
            slicing = Slicing(name=" x ".join(spec), columns=tuple(spec))
        elif isinstance(spec, Mapping) and isinstance(spec.get("column"), str):
            unknown = sorted(set(spec) - {"column", "buckets", "quantiles"})
            if unknown or ("buckets" in spec) == ("quantiles" in spec):
                raise UsageError(
                    f"a bucketed slice has 'column' and exactly one of 'buckets' or 'quantiles', got {dict(spec)}",
                    where=where,
                )
            column = spec["column"]
            if "buckets" in spec:
                edges = spec["buckets"]
                if (
                    not isinstance(edges, list)
                    or not edges
                    or not all(isinstance(e, int | float) and not isinstance(e, bool) for e in edges)
                ):
                    raise UsageError("'buckets' is a list of numeric edges, e.g. [3500, 4500]", where=where)
                slicing = Slicing(name=f"{column} buckets", columns=(column,), edges=tuple(sorted(map(float, edges))))
            else:
                q = spec["quantiles"]
                if isinstance(q, bool) or not isinstance(q, int) or q < 2:
                    raise UsageError("'quantiles' is a whole number of at least 2", where=where)
                slicing = Slicing(name=f"{column} quantiles", columns=(column,), quantiles=q)
        else:
            raise UsageError(
                f"cannot read slice {spec!r}",
                where=where,
                hint="write a column name, a list of columns (a cross) or {column: .., buckets: [..]}",
            )
        for column in slicing.columns:
            if column not in columns:
                raise UsageError(f"slice on unknown column '{column}'", where=where, hint=did_you_mean(column, columns))
        out.append(slicing)
    return out


def _fmt_edge(value: float) -> str:
    return str(int(value)) if value.is_integer() else f"{value:.4g}"


def _bucket_keys(values: list[Any], edges: Sequence[float], column: str) -> list[str]:
    import bisect

    labels = [f"{column} < {_fmt_edge(edges[0])}"]
    labels += [f"{_fmt_edge(lo)} <= {column} < {_fmt_edge(hi)}" for lo, hi in itertools.pairwise(edges)]
    labels.append(f"{column} >= {_fmt_edge(edges[-1])}")
    keys = []
    for value in values:
        number = as_float(value)
        if number is None or math.isnan(number):
            keys.append(f"{column}={MISSING}")
        else:
            keys.append(labels[bisect.bisect_right(edges, number)])
    return keys


def slice_keys(slicing: Slicing, column_values: Mapping[str, list[Any]]) -> list[str]:
    """The slice each row falls in, e.g. ``island=Biscoe``, ``island=Biscoe, sex=male``."""
    if slicing.edges is not None or slicing.quantiles is not None:
        column = slicing.columns[0]
        values = column_values[column]
        edges = slicing.edges
        if edges is None:
            import numpy as np

            numbers = [as_float(v) for v in values]
            present = np.array([n for n in numbers if n is not None and not math.isnan(n)], dtype=np.float64)
            if len(present) == 0:
                return [f"{column}={MISSING}"] * len(values)
            inner = np.quantile(present, [k / slicing.quantiles for k in range(1, slicing.quantiles)])  # type: ignore[operator]
            edges = tuple(sorted({float(e) for e in inner}))
        return _bucket_keys(values, edges, column)
    parts = [
        [f"{c}={MISSING if (k := category_key(v)) is None else k}" for v in column_values[c]] for c in slicing.columns
    ]
    return [", ".join(cells) for cells in zip(*parts, strict=True)]


def compute_slices(
    slicings: Sequence[Slicing],
    column_values: Mapping[str, list[Any]],
    score: Callable[[list[int]], dict[str, float]],
    *,
    min_rows: int = 10,
) -> dict[str, Any]:
    """Every metric per slice (via ``score(row_indices)``) with row counts, and the largest gaps.

    Returns ``{"slicings": [{"name", "slices": [{"slice", "rows", "metrics"}]}], "gaps": {metric:
    {"gap", "slicing", "best", "worst"}}, "min_rows": ..}``; a gap is max - min over slices with at
    least ``min_rows`` rows, whatever the metric's direction.
    """
    result: list[dict[str, Any]] = []
    gaps: dict[str, dict[str, Any]] = {}
    for slicing in slicings:
        groups: dict[str, list[int]] = {}
        for i, key in enumerate(slice_keys(slicing, column_values)):
            groups.setdefault(key, []).append(i)
        order = sorted(groups)
        if slicing.edges is not None or slicing.quantiles is not None:  # buckets low to high, missing last
            values = column_values[slicing.columns[0]]

            def lowest(
                key: str, values: list[Any] = values, groups: dict[str, list[int]] = groups
            ) -> tuple[bool, float]:
                numbers = [as_float(values[i]) for i in groups[key]]
                present = [n for n in numbers if n is not None and not math.isnan(n)]
                return (not present, min(present) if present else 0.0)

            order = sorted(groups, key=lowest)
        slices = []
        for key in order:
            rows = groups[key]
            slices.append({"slice": key, "rows": len(rows), "metrics": score(rows)})
        result.append({"name": slicing.name, "slices": slices})
        counted = [s for s in slices if s["rows"] >= min_rows]
        metric_names = sorted({m for s in counted for m in s["metrics"]})
        for metric in metric_names:
            scored = [(s["metrics"][metric], s["slice"]) for s in counted if metric in s["metrics"]]
            if len(scored) < 2:
                continue
            low, high = min(scored), max(scored)
            gap = high[0] - low[0]
            if metric not in gaps or gap > gaps[metric]["gap"]:
                gaps[metric] = {"gap": gap, "slicing": slicing.name, "highest": high[1], "lowest": low[1]}
    return {"slicings": result, "gaps": gaps, "min_rows": min_rows}
