"""The decision on live counters: wait for the sample, then roll back on any figure out of bounds."""

from __future__ import annotations

import pytest

from modelyard.serve.deployment import DecisionPolicy
from modelyard.serve.policy import VersionCounters, decide, js_distance


def counters(requests: int, errors: int = 0, seconds: float = 0.002, labels: tuple[str, ...] = ("a", "b")):
    made = VersionCounters()
    for i in range(requests):
        made.observe(500 if i < errors else 200, seconds, [labels[i % len(labels)]])
    return made


POLICY = DecisionPolicy(min_requests=100, max_error_rate=0.05, max_latency_ratio=2.0, max_distance=0.3)


def test_waits_for_the_minimum_then_promotes_a_healthy_challenger() -> None:
    assert decide(counters(500), counters(99), POLICY).action == "wait"
    decision = decide(counters(500), counters(100), POLICY)
    assert decision.action == "promote" and decision.figures["challenger_error_rate"] == 0
    assert decision.figures["distance"] == 0 and decision.figures["latency_ratio"] == 1


@pytest.mark.parametrize(
    ("challenger", "reason"),
    [
        (counters(200, errors=20), "error rate 10.00% > 5.00%"),
        (counters(200, seconds=0.02), "p95 latency ratio"),
        (counters(200, labels=("c",)), "prediction distance 1.000 > 0.3"),
    ],
)
def test_rolls_back_on_each_figure_out_of_bounds(challenger: VersionCounters, reason: str) -> None:
    decision = decide(counters(500), challenger, POLICY)
    assert decision.action == "rollback" and reason in decision.summary()


def test_client_mistakes_do_not_count_and_counters_of_workers_add_up() -> None:
    one = counters(10, errors=2)
    one.observe(422, 0.001, None)
    assert (one.requests, one.errors) == (10, 2)
    merged = VersionCounters.merged([one.to_dict(), counters(30).to_dict()])
    assert (merged.requests, merged.errors, merged.predictions) == (40, 2, {"a": 19, "b": 19})


def test_js_distance_is_zero_for_the_same_shape_and_one_for_disjoint() -> None:
    assert js_distance({"a": 1, "b": 1}, {"a": 50, "b": 50}) == 0
    assert js_distance({"a": 5}, {"b": 5}) == pytest.approx(1.0)
    assert js_distance({}, {"a": 1}) is None
