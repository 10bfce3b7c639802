"""Live counters of the champion and the challenger, and the decision that promotes or rolls back.

Why counters and not the prediction log: the decision must follow live traffic within a second, and
counters are mergeable across worker processes (sums of requests, errors, latency buckets and prediction
frequencies), so each worker keeps its own and the decider adds them up.

What counts: requests a version answered (primary, canary and shadow), and as errors only server faults
(5xx). A client's 4xx says nothing about the model, so it neither helps nor harms the challenger.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Any

from modelyard.serve.deployment import DecisionPolicy

# latency buckets (seconds): fine enough for a p95 ratio, the same in every worker so they add up
LATENCY_BOUNDS = tuple(0.0001 * 1.25**i for i in range(64))
MAX_CATEGORIES = 200  # beyond this many distinct predictions, the rest count as "other"


def prediction_key(value: Any) -> str:
    """The category a prediction falls in: itself for labels, two significant digits for numbers."""
    if isinstance(value, float) and not isinstance(value, bool):
        return f"{value:.2g}"
    return str(value)


@dataclass
class VersionCounters:
    """What one version did in this epoch."""

    requests: int = 0
    errors: int = 0
    latency: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BOUNDS) + 1))
    predictions: dict[str, int] = field(default_factory=dict)

    def observe(self, status: int, seconds: float, predictions: Any) -> None:
        if 400 <= status < 500:
            return
        self.requests += 1
        if status >= 500:
            self.errors += 1
            return
        self.latency[bisect.bisect_left(LATENCY_BOUNDS, seconds)] += 1
        if isinstance(predictions, list):
            for value in predictions:
                if isinstance(value, dict | list):
                    continue
                key = prediction_key(value)
                if key not in self.predictions and len(self.predictions) >= MAX_CATEGORIES:
                    key = "other"
                self.predictions[key] = self.predictions.get(key, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "errors": self.errors, "latency": self.latency,
                "predictions": self.predictions}  # fmt: skip

    @classmethod
    def merged(cls, snapshots: list[dict[str, Any]]) -> VersionCounters:
        total = cls()
        for snap in snapshots:
            total.requests += int(snap.get("requests", 0))
            total.errors += int(snap.get("errors", 0))
            for i, count in enumerate(snap.get("latency", [])[: len(total.latency)]):
                total.latency[i] += int(count)
            for key, count in snap.get("predictions", {}).items():
                total.predictions[key] = total.predictions.get(key, 0) + int(count)
        return total

    def p95(self) -> float | None:
        """The 95th percentile latency in seconds (upper bound of its bucket), None without successes."""
        answered = sum(self.latency)
        if not answered:
            return None
        running = 0
        for i, count in enumerate(self.latency):
            running += count
            if running >= 0.95 * answered:
                return LATENCY_BOUNDS[min(i, len(LATENCY_BOUNDS) - 1)]
        return LATENCY_BOUNDS[-1]


def js_distance(first: dict[str, int], second: dict[str, int]) -> float | None:
    """Jensen–Shannon distance (base 2: 0 same, 1 disjoint) between two frequency tables."""
    total_a, total_b = sum(first.values()), sum(second.values())
    if not total_a or not total_b:
        return None
    divergence = 0.0
    for key in set(first) | set(second):
        p, q = first.get(key, 0) / total_a, second.get(key, 0) / total_b
        m = (p + q) / 2
        if p:
            divergence += 0.5 * p * math.log2(p / m)
        if q:
            divergence += 0.5 * q * math.log2(q / m)
    return math.sqrt(max(divergence, 0.0))


@dataclass(frozen=True)
class Decision:
    """``wait``, ``promote`` or ``rollback``, why, and the figures it was taken on."""

    action: str
    reasons: tuple[str, ...]
    figures: dict[str, Any]

    def summary(self) -> str:
        return "; ".join(self.reasons)


def figures_of(champion: VersionCounters, challenger: VersionCounters) -> dict[str, Any]:
    champion_p95, challenger_p95 = champion.p95(), challenger.p95()
    distance = js_distance(champion.predictions, challenger.predictions)
    return {
        "challenger_requests": challenger.requests,
        "challenger_errors": challenger.errors,
        "challenger_error_rate": round(challenger.errors / challenger.requests, 4) if challenger.requests else None,
        "champion_requests": champion.requests,
        "champion_errors": champion.errors,
        "champion_p95_ms": round(champion_p95 * 1000, 3) if champion_p95 else None,
        "challenger_p95_ms": round(challenger_p95 * 1000, 3) if challenger_p95 else None,
        "latency_ratio": round(challenger_p95 / champion_p95, 3) if champion_p95 and challenger_p95 else None,
        "distance": round(distance, 4) if distance is not None else None,
    }


def decide(champion: VersionCounters, challenger: VersionCounters, policy: DecisionPolicy) -> Decision:
    """The decision on the counters so far. Why wait for ``min_requests`` before judging, even on errors:
    a handful of early failures is noise; the policy's figures are rates over a known minimum sample."""
    figures = figures_of(champion, challenger)
    if challenger.requests < policy.min_requests:
        return Decision("wait", (f"{challenger.requests} of {policy.min_requests} requests",), figures)
    failed = []
    rate = figures["challenger_error_rate"] or 0.0
    if rate > policy.max_error_rate:
        failed.append(f"error rate {rate:.2%} > {policy.max_error_rate:.2%}")
    ratio = figures["latency_ratio"]
    if ratio is not None and ratio > policy.max_latency_ratio:
        failed.append(f"p95 latency ratio {ratio:.2f} > {policy.max_latency_ratio:g}")
    distance = figures["distance"]
    if distance is not None and distance > policy.max_distance:
        failed.append(f"prediction distance {distance:.3f} > {policy.max_distance:g}")
    if failed:
        return Decision("rollback", tuple(failed), figures)
    passed = f"error rate {rate:.2%} <= {policy.max_error_rate:.2%}"
    if ratio is not None:
        passed += f", p95 latency ratio {ratio:.2f} <= {policy.max_latency_ratio:g}"
    if distance is not None:
        passed += f", prediction distance {distance:.3f} <= {policy.max_distance:g}"
    return Decision("promote", (f"{challenger.requests} requests: {passed}",), figures)
