"""A canary gets exactly its share of unkeyed requests, and a keyed client always meets the same version."""

from __future__ import annotations

import pytest

from modelyard.serve.routing import CanaryRouter


@pytest.mark.parametrize("percent", [0, 1, 10, 12.5, 50, 100])
def test_unkeyed_requests_split_exactly(percent: float) -> None:
    router = CanaryRouter(percent)
    picks = [router.to_canary() for _ in range(1000)]
    assert sum(picks) == int(1000 * percent / 100)
    assert sum(picks[:100]) == int(100 * percent / 100)  # spread over the stream, not bunched at the end


def test_keyed_requests_are_sticky_and_near_the_share() -> None:
    router = CanaryRouter(10)
    first = {f"user-{i}": router.to_canary(f"user-{i}") for i in range(10_000)}
    assert all(router.to_canary(key) == picked for key, picked in list(first.items())[:500])
    assert 0.085 <= sum(first.values()) / len(first) <= 0.115


def test_a_share_outside_0_to_100_is_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        CanaryRouter(120)
