"""Drift (between two spans) and skew (between training and serving data), computed from statistics alone.

Comparing statistics instead of rows is what makes a comparison cost nothing once both sides have
statistics: a pipeline compares today's batch with last week's without reading last week's data.
It works because numeric columns carry 101 percentiles (an approximate cumulative distribution) and
categorical columns their value counts.

Measures (every one is computed and reported; one decides, see ``ColumnDistance``):

- categories: L-infinity distance (the largest change in any value's share), Jensen-Shannon
  divergence and population stability index over the value shares, the share of the current span
  taken by values the reference never had (when its value list is complete), chi-square test;
- numbers: Jensen-Shannon divergence and PSI over ten bins at the reference's deciles, the
  Kolmogorov-Smirnov statistic (largest gap between the two cumulative distributions) with its test,
  and the Wasserstein distance (the mean gap between the two quantile functions) divided by the
  reference's standard deviation, so that it reads "shifted by this many standard deviations".

The deciding measure: with at least ``SMALL_SAMPLE`` values on both sides, L-infinity for categories
and Jensen-Shannon for numbers, compared with the schema's ``drift_threshold`` / ``skew_threshold``
or the defaults below. With the defaults a second signal can decide too: a KS distance above
``KS_DISTANCE`` for numbers, new categories holding ``NEW_CATEGORY_SHARE`` of the current span. With
fewer values, distances are noisy, so a test decides instead (chi-square for categories, KS for
numbers) at significance ``ALPHA`` for the whole table, i.e. ``ALPHA`` divided by the number of columns
tested (Bonferroni), so that clean data rarely raises any alarm.
Jensen-Shannon is the divergence in bits (0 = same, 1 = no overlap).
"""

from __future__ import annotations

import bisect
import math
from pathlib import Path

from modelyard.core.anomalies import Anomaly, AnomalyCode, ColumnDistance, DriftReport, Severity
from modelyard.core.schema import Schema
from modelyard.core.statistics import ColumnStatistics, DatasetStatistics, NumericStats, StringStats
from modelyard.errors import UsageError

#: Default thresholds when the schema gives none: L-infinity for categories, JS divergence for numbers.
#: 0.02 bits flags a shift of the mean by about a third of a standard deviation (0.5 sd gives 0.04),
#: while two clean samples of 10,000 rows stay near 0.0005: a large clean window raises no false alarm.
DEFAULT_THRESHOLDS = {"categorical": 0.1, "numeric": 0.02}
#: Second signals, used with the default thresholds only (a threshold in the schema is a contract on the
#: deciding measure alone). Numbers: a Kolmogorov-Smirnov distance above this (the two cumulative
#: distributions differ by ten points somewhere) — it catches a shift of a discrete column whose
#: Jensen-Shannon divergence stays low (Poisson 3 -> 3.5: JS 0.013, KS 0.11; clean columns stay near 0.01).
KS_DISTANCE = 0.1
#: Categories: values the reference never had (its value list being complete) holding at least this
#: share of the current span — a new category at 5 % moves L-infinity by only 0.05.
NEW_CATEGORY_SHARE = 0.01
#: Below this many values on either side a statistical test decides instead of a distance.
SMALL_SAMPLE = 1000
#: Significance level of the small-sample tests.
ALPHA = 0.05
MODES = ("drift", "skew")
_EPSILON = 1e-4  # stands in for an empty bin in PSI, as is customary
_NUMERIC = ("int", "float", "timestamp")


def cdf(numeric: NumericStats, value: float) -> float:
    """Fraction of values at or below ``value``, read off the percentile grid (linear in between)."""
    grid = numeric.percentiles
    if value < grid[0]:
        return 0.0
    if value >= grid[-1]:
        return 1.0
    index = bisect.bisect_right(grid, value) - 1  # largest index with grid[index] <= value
    step = 1.0 / (len(grid) - 1)
    low, high = grid[index], grid[index + 1]
    inside = (value - low) / (high - low) if high > low else 0.0
    return min(1.0, index * step + inside * step)


def _shares(values: list[float]) -> list[float]:
    total = sum(values)
    return [value / total for value in values] if total else [0.0 for _ in values]


def jensen_shannon(p: list[float], q: list[float]) -> float:
    """Jensen-Shannon divergence in bits between two distributions over the same bins."""
    total = 0.0
    for a, b in zip(p, q, strict=True):
        m = (a + b) / 2
        if a > 0:
            total += a * math.log2(a / m) / 2
        if b > 0:
            total += b * math.log2(b / m) / 2
    return max(0.0, min(1.0, total))


def psi(reference: list[float], current: list[float]) -> float:
    """Population stability index: sum of (current - reference) * ln(current / reference) over bins."""
    return sum(
        (max(c, _EPSILON) - max(r, _EPSILON)) * math.log(max(c, _EPSILON) / max(r, _EPSILON))
        for r, c in zip(reference, current, strict=True)
    )


def _numeric_bins(reference: NumericStats, current: NumericStats) -> tuple[list[float], list[float]]:
    edges = sorted(set(reference.percentiles[10:100:10]))
    if not edges:
        edges = sorted(set(current.percentiles[10:100:10]))
    cuts_r = [0.0, *(cdf(reference, edge) for edge in edges), 1.0]
    cuts_c = [0.0, *(cdf(current, edge) for edge in edges), 1.0]
    bins_r = [max(0.0, cuts_r[i + 1] - cuts_r[i]) for i in range(len(cuts_r) - 1)]
    bins_c = [max(0.0, cuts_c[i + 1] - cuts_c[i]) for i in range(len(cuts_c) - 1)]
    return bins_r, bins_c


def _ks(reference: NumericStats, current: NumericStats) -> float:
    points = sorted(set(reference.percentiles) | set(current.percentiles))
    return max((abs(cdf(reference, v) - cdf(current, v)) for v in points), default=0.0)


def _wasserstein(reference: NumericStats, current: NumericStats) -> float | None:
    """Mean |q_ref(p) - q_cur(p)| over the percentile grid, in reference standard deviations."""
    pairs = list(zip(reference.percentiles, current.percentiles, strict=False))
    scale = reference.std
    if not pairs or not scale or not math.isfinite(scale):
        return None
    return sum(abs(a - b) for a, b in pairs) / len(pairs) / scale


def _ks_p_value(statistic: float, n: int, m: int) -> float:
    from scipy.stats import kstwo

    effective = max(1, round(n * m / (n + m)))
    return float(kstwo.sf(statistic, effective))


def _value_counts(stats: StringStats, count: int) -> dict[str, float]:
    counts: dict[str, float] = {value: float(n) for value, n in stats.top}
    rest = count - sum(counts.values())
    if rest > 0:
        counts["\x00other"] = float(rest)  # values beyond the top list, pooled
    return counts


def _chi2_p_value(reference: list[float], current: list[float]) -> float:
    from scipy.stats import chi2_contingency

    kept = [(r, c) for r, c in zip(reference, current, strict=True) if r + c > 0]
    if len(kept) < 2:
        return 1.0
    table = [[r for r, _ in kept], [c for _, c in kept]]
    return float(chi2_contingency(table).pvalue)


def _compare_column(
    name: str,
    reference: ColumnStatistics,
    current: ColumnStatistics,
    threshold: float | None,
    alpha: float,
    *,
    new_values: bool = True,
) -> ColumnDistance | None:
    n, m = reference.count, current.count
    if not n or not m:
        return None
    small = min(n, m) < SMALL_SAMPLE
    if reference.numeric and current.numeric and reference.numeric.percentiles and current.numeric.percentiles:
        bins_r, bins_c = _numeric_bins(reference.numeric, current.numeric)
        ks = _ks(reference.numeric, current.numeric)
        distances = {"jensen_shannon": jensen_shannon(bins_r, bins_c), "psi": psi(bins_r, bins_c), "ks": ks}
        moved = _wasserstein(reference.numeric, current.numeric)
        if moved is not None:
            distances["wasserstein"] = moved
        kind, metric = "numeric", "jensen_shannon"
        if small:
            distances["p_value"] = _ks_p_value(ks, n, m)
            metric = "ks_test"
    elif reference.string and current.string:
        counts_r = _value_counts(reference.string, n)
        counts_c = _value_counts(current.string, m)
        keys = sorted(set(counts_r) | set(counts_c))
        raw_r = [counts_r.get(key, 0.0) for key in keys]
        raw_c = [counts_c.get(key, 0.0) for key in keys]
        shares_r, shares_c = _shares(raw_r), _shares(raw_c)
        distances = {
            "linf": max((abs(a - b) for a, b in zip(shares_r, shares_c, strict=True)), default=0.0),
            "jensen_shannon": jensen_shannon(shares_r, shares_c),
            "psi": psi(shares_r, shares_c),
        }
        if new_values and reference.string.is_complete:  # absent from its list = absent from the reference
            distances["new_categories"] = sum(c for r, c in zip(raw_r, shares_c, strict=True) if r == 0)
        kind, metric = "categorical", "linf"
        if small:
            distances["p_value"] = _chi2_p_value(raw_r, raw_c)
            metric = "chi2_test"
    else:
        return None
    if metric in ("ks_test", "chi2_test"):
        value, limit = distances["p_value"], alpha
        drifted = value < limit
    else:
        value = distances[metric]
        limit = threshold if threshold is not None else DEFAULT_THRESHOLDS[kind]
        drifted = value > limit
        if not drifted and threshold is None:
            second = _second_signal(distances)
            if second is not None:
                metric, value, limit = second
                drifted = True
    return ColumnDistance(name, kind, metric, value, limit, drifted, distances, n, m)


def _second_signal(distances: dict[str, float]) -> tuple[str, float, float] | None:
    """The default second signal that fired, as (measure, value, limit), if one did (see KS_DISTANCE)."""
    if distances.get("ks", 0.0) > KS_DISTANCE:
        return "ks", distances["ks"], KS_DISTANCE
    if distances.get("new_categories", 0.0) >= NEW_CATEGORY_SHARE:
        return "new_categories", distances["new_categories"], NEW_CATEGORY_SHARE
    return None


def compare_statistics(
    reference: DatasetStatistics,
    current: DatasetStatistics,
    *,
    schema: Schema | None = None,
    mode: str = "drift",
    environment: str | None = None,
) -> DriftReport:
    """Per-column distances from ``reference`` to ``current``; thresholds from ``schema`` when given.

    ``mode`` picks the schema's ``drift_threshold`` (two spans of the same data) or ``skew_threshold``
    (training data as reference, serving data as current). With a schema, only its columns (those
    of ``environment``) are compared; without one, every column both sides have. A column whose type
    differs between the sides cannot be compared: it is listed in ``not_compared`` with the two types
    (validation also reports it as a type mismatch).
    """
    if mode not in MODES:
        raise UsageError(f"unknown comparison mode '{mode}'", hint="use 'drift' or 'skew'")
    # a column whose values the schema lists: new values are its contract's anomaly (value_outside_domain),
    # so the new-category drift signal would report the same defect twice
    listed: set[str] = set()
    if schema is not None:
        wanted = [
            (c.name, c.drift_threshold if mode == "drift" else c.skew_threshold)
            for c in schema.columns_for(environment)
        ]
        listed = {c.name for c in schema.columns_for(environment) if c.domain is not None}
    else:
        wanted = [(c.name, None) for c in current.columns]
    pairs = []
    not_compared: list[tuple[str, str]] = []
    for name, threshold in wanted:
        ref, cur = reference.find_column(name), current.find_column(name)
        if ref is None or cur is None:
            continue
        if (ref.type in _NUMERIC and cur.type in _NUMERIC) or ref.type == cur.type:
            pairs.append((name, ref, cur, threshold))
        else:
            not_compared.append((name, f"type changed from {ref.type} to {cur.type}"))
    # Many columns tested at 0.05 each would flag one of twenty clean columns by chance: the
    # Bonferroni correction keeps the chance of any false alarm in the table at about ALPHA.
    tested = sum(1 for _, ref, cur, _ in pairs if 0 < min(ref.count, cur.count) < SMALL_SAMPLE)
    alpha = ALPHA / max(1, tested)
    results = []
    for name, ref, cur, threshold in pairs:
        found = _compare_column(name, ref, cur, threshold, alpha, new_values=name not in listed)
        if found is not None:
            results.append(found)
    return DriftReport(mode, tuple(results), reference.num_rows, current.num_rows, tuple(not_compared))


def compare_data(reference: Path | str, current: Path | str, **kwargs: object) -> DriftReport:
    """Statistics of two files, then :func:`compare_statistics` (``kwargs`` go to the comparison)."""
    from modelyard.data.statistics import compute_statistics

    return compare_statistics(compute_statistics(reference), compute_statistics(current), **kwargs)  # type: ignore[arg-type]


_LABELS = {"linf": "L-infinity distance", "jensen_shannon": "Jensen-Shannon divergence",
           "ks": "Kolmogorov-Smirnov distance"}  # fmt: skip


def drift_anomalies(report: DriftReport, schema: Schema | None = None) -> list[Anomaly]:
    """One anomaly per drifted column: an error when the schema set the threshold, else a warning.

    A threshold someone wrote into the schema is a contract; the built-in default is a hint that
    something moved, which should be seen but not stop a pipeline on its own.
    """
    code = AnomalyCode.DRIFT if report.mode == "drift" else AnomalyCode.SKEW
    what = "drifted since the reference" if report.mode == "drift" else "differs between training and serving"
    items = []
    for found in report.drifted:
        column = schema.find_column(found.column) if schema is not None else None
        configured = column is not None and (
            (column.drift_threshold if report.mode == "drift" else column.skew_threshold) is not None
        )
        if found.metric in ("ks_test", "chi2_test"):
            test = "Kolmogorov-Smirnov" if found.metric == "ks_test" else "chi-square"
            measure = f"{test} test p-value {found.value:.3g} < {found.threshold:g}"
        elif found.metric == "new_categories":
            measure = (
                f"{found.value:.1%} of the values are categories the reference never had (>= {found.threshold:.0%})"
            )
        else:
            label = _LABELS.get(found.metric, found.metric)
            measure = f"{label} {found.value:.3f} > threshold {found.threshold:g}"
        items.append(
            Anomaly(
                code,
                Severity.ERROR if configured else Severity.WARNING,
                found.column,
                f"column '{found.column}' {what}: {measure}",
                {"metric": found.metric, "value": found.value, "threshold": found.threshold, **found.distances},
            )
        )
    return items
