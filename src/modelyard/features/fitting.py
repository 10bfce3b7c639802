"""From analyzer statistics and a column's options to its frozen parameters (the "fit" of one column).

Kept apart from :mod:`modelyard.features.transform` so the spec, the fitted value and its serialisation
stay readable there; this module is the only place that decides fill values, scaling and vocabularies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelyard.features.params import MISSING_CATEGORY, CategoricalParams, NumericParams


def fitted_numeric(name: str, stats: Any, options: Mapping[str, Any]) -> NumericParams:
    impute = options["impute"]
    center = {
        "mean": stats.mean, "median": stats.median, "most_frequent": stats.mode, "zero": 0.0,
        "constant": options.get("fill_value"),
    }[impute]  # fmt: skip
    fill = 0.0 if center is None else float(center)
    offset, divisor = 0.0, 1.0
    scale = options["scale"]
    if scale == "zscore" and stats.shaped_mean is not None:
        offset = stats.shaped_mean
        divisor = stats.shaped_std if stats.shaped_std else 1.0  # a constant column is centred, not blown up
    elif scale == "minmax" and stats.shaped_min is not None and stats.shaped_max is not None:
        offset = stats.shaped_min
        divisor = (stats.shaped_max - stats.shaped_min) or 1.0
    elif scale == "robust" and stats.shaped_quartiles is not None:
        q1, median, q3 = stats.shaped_quartiles
        offset = median
        divisor = (q3 - q1) or 1.0
    clip_low, clip_high = options.get("clip") or (None, None)
    bucketize = options.get("bucketize") or {}
    edges = bucketize.get("edges")
    if "quantiles" in bucketize:
        edges = stats.shaped_edges or ()
    return NumericParams(
        name=name, fill=fill, offset=float(offset), divisor=float(divisor), count=stats.count,
        mean=stats.mean, std=stats.std, min=stats.min, max=stats.max, median=stats.median,
        clip_low=clip_low, clip_high=clip_high, log=bool(options.get("log")),
        edges=None if edges is None else tuple(float(e) for e in edges),
    )  # fmt: skip


def fitted_categorical(name: str, stats: Any, options: Mapping[str, Any]) -> CategoricalParams:
    counts = dict(stats.counts)
    if options["impute"] == "constant" and stats.missing:
        counts[MISSING_CATEGORY] = counts.get(MISSING_CATEGORY, 0) + stats.missing
    frequent = [(value, count) for value, count in counts.items() if count >= options["min_frequency"]]
    ranked = sorted(frequent, key=lambda item: (-item[1], item[0]))[: options["top_k"]]
    vocabulary = tuple(value for value, _ in ranked)
    if options["impute"] == "constant":
        fill: str | None = MISSING_CATEGORY
    else:
        fill = vocabulary[0] if vocabulary else None
    return CategoricalParams(
        name=name,
        vocabulary=vocabulary,
        counts=tuple(count for _, count in ranked),
        missing=stats.missing,
        fill=fill,
        encode=options["encode"],
        buckets=options["buckets"] if options["encode"] == "hash" else 0,
    )
