"""The blessing: whether a candidate model is good enough to push, with a reason for every check.

Thresholds come from the pipeline file, one mapping per metric::

    accuracy: {min: 0.9, tolerance: 0.01}   # at least 0.9, and at most 0.01 worse than the baseline
    rmse:     {max: 300}
    my_score: {min: 0.5, higher_is_better: true}

``min``/``max`` are absolute bounds. ``tolerance`` compares with a baseline (normally the current
champion's metrics): the candidate may be at most that much worse, in the metric's own direction, which
is known for the built-in metrics and given by ``higher_is_better`` for others. A first model has no
baseline; its baseline checks pass and say so, so a project can bootstrap its first champion.

The verdict is data, not a boolean: the blessing artifact stores every check with its reason, and that
is what ``yard`` shows when it explains why a model was or was not pushed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from modelyard.errors import Location, UsageError, did_you_mean
from modelyard.evaluate.metrics import HIGHER_IS_BETTER, LOWER_IS_BETTER

_THRESHOLD_KEYS = ("min", "max", "tolerance", "higher_is_better")


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
    if metric in HIGHER_IS_BETTER:
        return True
    if metric in LOWER_IS_BETTER:
        return False
    raise UsageError(
        f"modelyard does not know whether a higher '{metric}' is better",
        where=Location(field=f"{metric}.tolerance"),
        hint="add higher_is_better: true (or false) to its threshold",
    )


def _check(metric: str, value: float | None, bound: float | None, kind: str, passed: bool, reason: str) -> dict:
    return {"metric": metric, "value": value, "bound": bound, "kind": kind, "passed": passed, "reason": reason}


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
    metric: str, value: float, rule: Mapping[str, Any], baseline: Mapping[str, float] | None
) -> dict[str, Any]:
    tolerance = _number(rule["tolerance"], metric, "tolerance")
    if tolerance < 0:
        raise UsageError(
            f"'tolerance' for '{metric}' must be 0 or more, got {rule['tolerance']}",
            where=Location(field=f"{metric}.tolerance"),
            hint="tolerance is how much worse than the baseline a candidate may be",
        )
    higher = _direction(metric, rule)
    base = None if baseline is None else baseline.get(metric)
    if base is None or not math.isfinite(base):
        reason = f"no baseline {metric} to compare with (first model?); comparison skipped"
        return _check(metric, value, None, "baseline", True, reason)
    bound = base - tolerance if higher else base + tolerance
    worse = (base - value) if higher else (value - base)
    passed = value >= bound if higher else value <= bound
    if worse <= 0:
        change = f"{_fmt(-worse)} better than" if worse < 0 else "equal to"
        reason = f"{metric} {_fmt(value)} is {change} the baseline {_fmt(base)}"
    else:
        verdict = "within" if passed else "beyond"
        reason = (
            f"{metric} {_fmt(value)} is {_fmt(worse)} worse than the baseline {_fmt(base)}, "
            f"{verdict} the tolerance {_fmt(tolerance)}"
        )
    return _check(metric, value, bound, "baseline", passed, reason)


def judge(
    metrics: Mapping[str, float],
    thresholds: Mapping[str, Mapping[str, Any]] | None,
    *,
    baseline: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Decide whether ``metrics`` pass ``thresholds`` (and, where asked, are no worse than ``baseline``).

    Returns ``{"blessed", "checks": [{"metric", "value", "bound", "kind", "passed", "reason"}],
    "summary"}``; without thresholds the model is blessed and a ``note`` says nothing was checked.
    A threshold on a metric that was not computed is a UsageError (most likely a typo).
    """
    if not thresholds:
        note = "no thresholds configured: blessed without checks"
        return {"blessed": True, "checks": [], "summary": note, "note": note}
    for metric, rule in thresholds.items():
        if metric not in metrics:
            raise UsageError(
                f"threshold on unknown metric '{metric}'",
                where=Location(field=metric),
                hint=did_you_mean(metric, metrics),
            )
        if not isinstance(rule, Mapping):
            raise UsageError(
                f"threshold for '{metric}' must be a mapping like {{min: 0.9}}", where=Location(field=metric)
            )
        for key in rule:
            if key not in _THRESHOLD_KEYS:
                raise UsageError(
                    f"unknown threshold '{key}' for '{metric}'",
                    where=Location(field=f"{metric}.{key}"),
                    hint=did_you_mean(str(key), _THRESHOLD_KEYS),
                )
        if (
            "min" in rule
            and "max" in rule
            and _number(rule["min"], metric, "min") > _number(rule["max"], metric, "max")
        ):
            raise UsageError(f"threshold for '{metric}' has min {rule['min']} above max {rule['max']}")
        if not {"min", "max", "tolerance"} & set(rule):
            raise UsageError(
                f"threshold for '{metric}' sets no bound",
                where=Location(field=metric),
                hint="give min, max or tolerance",
            )
    checks: list[dict[str, Any]] = []
    for metric, rule in thresholds.items():
        value = metrics[metric]
        if value is None or not isinstance(value, int | float) or math.isnan(value):
            checks.append(_check(metric, None, None, "value", False, f"{metric} is not a number ({value!r})"))
            continue
        value = float(value)
        checks += _absolute_checks(metric, value, rule)
        if "tolerance" in rule:
            checks.append(_baseline_check(metric, value, rule, baseline))
    failed = [c for c in checks if not c["passed"]]
    if failed:
        summary = f"not blessed: {len(failed)} of {len(checks)} checks failed; " + "; ".join(
            c["reason"] for c in failed
        )
    else:
        summary = f"blessed: all {len(checks)} checks passed"
    return {"blessed": not failed, "checks": checks, "summary": summary}
