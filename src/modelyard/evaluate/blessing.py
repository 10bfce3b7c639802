"""The blessing: whether a candidate model is good enough to push, with a reason for every check.

Thresholds come from the pipeline file, one mapping per metric::

    accuracy: {min: 0.9, tolerance: 0.01}   # at least 0.9, and at most 0.01 worse than the baseline
    rmse:     {max: 300, relative_tolerance: 0.05}   # and at most 5% worse than the baseline
    my_score: {min: 0.5, higher_is_better: true}
    gap.accuracy: {max: 0.15}                # the largest gap between slices (see evaluate.slices)

``min``/``max`` are absolute bounds. ``tolerance`` and ``relative_tolerance`` compare with a baseline
(normally the current champion's metrics): the candidate may be at most that much worse (absolute, or
as a fraction of the baseline's value), in the metric's own direction, which is known for the built-in
metrics and given by ``higher_is_better`` for others; a tolerance of 0 demands no regression at all. A
first model has no baseline; its baseline checks pass and say so, so a project can bootstrap its first
champion. ``slice_thresholds`` apply absolute bounds to every slice big enough to count.

The verdict is data, not a boolean: the blessing artifact stores every check with its reason, and that
is what ``yard`` shows when it explains why a model was or was not pushed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from modelyard.errors import Location, UsageError, did_you_mean
from modelyard.evaluate.metrics import higher_is_better

_THRESHOLD_KEYS = ("min", "max", "tolerance", "relative_tolerance", "higher_is_better")
_BASELINE_KEYS = ("tolerance", "relative_tolerance")


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _number(value: Any, metric: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise UsageError(
            f"threshold '{key}' for '{metric}' must be a finite number, got {value!r}",
            where=Location(field=f"{metric}.{key}"),
        )
    return float(value)


def _direction(metric: str, rule: Mapping[str, Any]) -> bool:
    if "higher_is_better" in rule:
        if not isinstance(rule["higher_is_better"], bool):
            raise UsageError(
                f"'higher_is_better' for '{metric}' must be true or false",
                where=Location(field=f"{metric}.higher_is_better"),
            )
        return rule["higher_is_better"]
    known = higher_is_better(metric)
    if known is not None:
        return known
    raise UsageError(
        f"modelyard does not know whether a higher '{metric}' is better",
        where=Location(field=f"{metric}.tolerance"),
        hint="add higher_is_better: true (or false) to its threshold",
    )


def _check(
    metric: str, value: float | None, bound: float | None, kind: str, passed: bool, reason: str, **extra: Any
) -> dict[str, Any]:
    out = {"metric": metric, "value": value, "bound": bound, "kind": kind, "passed": passed, "reason": reason}
    return {**out, **extra}


def _absolute_checks(metric: str, value: float, rule: Mapping[str, Any]) -> list[dict[str, Any]]:
    checks = []
    if "min" in rule:
        low = _number(rule["min"], metric, "min")
        if value >= low:
            checks.append(_check(metric, value, low, "min", True, f"{metric} {_fmt(value)} >= minimum {_fmt(low)}"))
        else:
            reason = f"{metric} {_fmt(value)} is below the minimum {_fmt(low)}"
            checks.append(_check(metric, value, low, "min", False, reason))
    if "max" in rule:
        high = _number(rule["max"], metric, "max")
        if value <= high:
            checks.append(_check(metric, value, high, "max", True, f"{metric} {_fmt(value)} <= maximum {_fmt(high)}"))
        else:
            reason = f"{metric} {_fmt(value)} is above the maximum {_fmt(high)}"
            checks.append(_check(metric, value, high, "max", False, reason))
    return checks


def _baseline_check(
    metric: str, value: float, rule: Mapping[str, Any], key: str, baseline: Mapping[str, float] | None
) -> dict[str, Any]:
    tolerance = _number(rule[key], metric, key)
    if tolerance < 0:
        raise UsageError(
            f"'{key}' for '{metric}' must be 0 or more, got {rule[key]}",
            where=Location(field=f"{metric}.{key}"),
            hint="a tolerance is how much worse than the baseline a candidate may be (0: no worse at all)",
        )
    higher = _direction(metric, rule)
    relative = key == "relative_tolerance"
    kind = "baseline_relative" if relative else "baseline"
    base = None if baseline is None else baseline.get(metric)
    if base is None or not math.isfinite(base):
        reason = f"no baseline {metric} to compare with (first model?); comparison skipped"
        return _check(metric, value, None, kind, True, reason, baseline=None, change=None)
    allowed = abs(base) * tolerance if relative else tolerance
    bound = base - allowed if higher else base + allowed
    worse = (base - value) if higher else (value - base)
    passed = value >= bound if higher else value <= bound
    limit = f"{_fmt(tolerance * 100)}% ({_fmt(allowed)})" if relative else _fmt(tolerance)
    if worse <= 0:
        change = f"{_fmt(-worse)} better than" if worse < 0 else "equal to"
        reason = f"{metric} {_fmt(value)} is {change} the baseline {_fmt(base)}"
    else:
        verdict = "within" if passed else "beyond"
        reason = (
            f"{metric} {_fmt(value)} is {_fmt(worse)} worse than the baseline {_fmt(base)}, "
            f"{verdict} the tolerance {limit}"
        )
    return _check(metric, value, bound, kind, passed, reason, baseline=base, change=value - base)


def _validate_rules(thresholds: Mapping[str, Any], known: Mapping[str, Any], *, absolute_only: bool) -> None:
    allowed = ("min", "max", "higher_is_better") if absolute_only else _THRESHOLD_KEYS
    for metric, rule in thresholds.items():
        if metric not in known:
            raise UsageError(
                f"threshold on unknown metric '{metric}'",
                where=Location(field=metric),
                hint=did_you_mean(metric, known) or "computed: " + ", ".join(sorted(known)),
            )
        if not isinstance(rule, Mapping):
            raise UsageError(
                f"threshold for '{metric}' must be a mapping like {{min: 0.9}}", where=Location(field=metric)
            )
        for key in rule:
            if key not in allowed:
                raise UsageError(
                    f"unknown threshold '{key}' for '{metric}'",
                    where=Location(field=f"{metric}.{key}"),
                    hint=did_you_mean(str(key), allowed) or "known: " + ", ".join(allowed),
                )
        if (
            "min" in rule
            and "max" in rule
            and _number(rule["min"], metric, "min") > _number(rule["max"], metric, "max")
        ):
            raise UsageError(f"threshold for '{metric}' has min {rule['min']} above max {rule['max']}")
        if not {"min", "max", *_BASELINE_KEYS} & set(rule):
            raise UsageError(
                f"threshold for '{metric}' sets no bound",
                where=Location(field=metric),
                hint="give min, max, tolerance or relative_tolerance",
            )


def _slice_checks(slices: Mapping[str, Any], rules: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = []
    min_rows = slices.get("min_rows", 0)
    for slicing in slices.get("slicings", []):
        for piece in slicing["slices"]:
            if piece["rows"] < min_rows:
                continue
            for metric, rule in rules.items():
                value = piece["metrics"].get(metric)
                if value is None:
                    continue
                for check in _absolute_checks(metric, float(value), rule):
                    check["reason"] = f"slice {piece['slice']} ({piece['rows']} rows): {check['reason']}"
                    checks.append({**check, "kind": f"slice_{check['kind']}", "slice": piece["slice"]})
    return checks


def judge(
    metrics: Mapping[str, float],
    thresholds: Mapping[str, Mapping[str, Any]] | None,
    *,
    baseline: Mapping[str, float] | None = None,
    slices: Mapping[str, Any] | None = None,
    slice_thresholds: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Decide whether ``metrics`` pass ``thresholds`` (and, where asked, are no worse than ``baseline``).

    Returns ``{"blessed", "checks": [{"metric", "value", "bound", "kind", "passed", "reason", ...}],
    "summary"}``; without thresholds the model is blessed and a ``note`` says nothing was checked.
    ``slice_thresholds`` (absolute bounds only) are checked on every slice of ``slices`` (the result
    of :func:`modelyard.evaluate.slices.compute_slices`) with enough rows. A threshold on a metric
    that was not computed is a UsageError (most likely a typo).
    """
    thresholds = thresholds or {}
    slice_thresholds = slice_thresholds or {}
    if not thresholds and not slice_thresholds:
        note = "no thresholds configured: blessed without checks"
        return {"blessed": True, "checks": [], "summary": note, "note": note}
    _validate_rules(thresholds, metrics, absolute_only=False)
    if slice_thresholds:
        slice_metrics = {
            m: 0.0 for s in (slices or {}).get("slicings", []) for piece in s["slices"] for m in piece["metrics"]
        }
        _validate_rules(slice_thresholds, slice_metrics or metrics, absolute_only=True)
    checks: list[dict[str, Any]] = []
    for metric, rule in thresholds.items():
        value = metrics[metric]
        if value is None or not isinstance(value, int | float) or math.isnan(value):
            checks.append(_check(metric, None, None, "value", False, f"{metric} is not a number ({value!r})"))
            continue
        value = float(value)
        checks += _absolute_checks(metric, value, rule)
        for key in _BASELINE_KEYS:
            if key in rule:
                checks.append(_baseline_check(metric, value, rule, key, baseline))
    if slices and slice_thresholds:
        checks += _slice_checks(slices, slice_thresholds)
    failed = [c for c in checks if not c["passed"]]
    if failed:
        summary = f"not blessed: {len(failed)} of {len(checks)} checks failed; " + "; ".join(
            c["reason"] for c in failed
        )
    else:
        summary = f"blessed: all {len(checks)} checks passed"
    return {"blessed": not failed, "checks": checks, "summary": summary}
