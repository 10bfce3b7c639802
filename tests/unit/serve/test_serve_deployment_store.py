"""Deployment records round-trip through their JSON file; counters are read per epoch."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.errors import NotFound, UsageError
from modelyard.serve.deployment import DecisionPolicy, Deployment, DeploymentStore


def test_a_record_round_trips_and_a_restart_gets_a_new_epoch(tmp_path: Path) -> None:
    store = DeploymentStore(tmp_path)
    with pytest.raises(NotFound, match="yard deploy penguins --canary 10"):
        store.get("penguins")
    first = store.put(Deployment(name="penguins", policy=DecisionPolicy(min_requests=5)).restarted(canary_percent=10))
    assert store.get("penguins") == first and first.active and first.epoch
    second = store.put(first.restarted(shadow_percent=100))
    assert second.epoch != first.epoch and store.get("penguins").shadow_percent == 100
    assert not list(tmp_path.glob(".*.tmp"))  # written by rename: no half-written file is left


def test_counters_of_another_epoch_are_ignored(tmp_path: Path) -> None:
    store = DeploymentStore(tmp_path)
    store.write_stats("penguins", "e1", {"1.0.0": {"requests": 3}})
    assert store.read_stats("penguins", "e1") == [{"1.0.0": {"requests": 3}}]
    assert store.read_stats("penguins", "e2") == []


def test_bad_shares_and_limits_are_refused() -> None:
    with pytest.raises(UsageError, match="between 0 and 100"):
        Deployment(name="penguins", canary_percent=120)
    with pytest.raises(UsageError, match="max_error_rate"):
        DecisionPolicy(max_error_rate=2)
