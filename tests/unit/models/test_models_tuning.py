"""Hyperparameter search: a declared space, seeded trials, the best one by the declared metric."""

from __future__ import annotations

import pytest

from modelyard.errors import UsageError
from modelyard.models.tuning import SearchSpec, run_search

SPACE = {"x": {"low": -5.0, "high": 5.0}, "k": {"low": 1, "high": 4, "int": True}, "mode": ["a", "b"]}


def test_bad_search_specs_point_at_the_problem() -> None:
    with pytest.raises(UsageError, match="low 5 is above high 1"):
        SearchSpec.from_params({"metric": "accuracy", "space": {"C": {"low": 5, "high": 1}}})
    with pytest.raises(UsageError, match="maximize, minimize"):
        SearchSpec.from_params({"metric": "accuracy", "direction": "up", "space": SPACE})
    with pytest.raises(UsageError, match="names the eval metric"):
        SearchSpec.from_params({"space": SPACE})
    with pytest.raises(UsageError, match="cannot read the search space of 'C'"):
        SearchSpec.from_params({"metric": "rmse", "space": {"C": 3}})


def test_search_picks_the_best_trial_and_is_reproducible_with_the_seed() -> None:
    pytest.importorskip("optuna", reason="the [optuna] extra is not installed")
    spec = SearchSpec.from_params({"n_trials": 25, "metric": "loss", "direction": "minimize", "space": SPACE})
    seen: list[tuple[int, dict, float]] = []

    def loss(params: dict) -> float:
        return (params["x"] - 1.0) ** 2 + params["k"] + (0.5 if params["mode"] == "b" else 0.0)

    best, value, number = run_search(spec, loss, seed=3, on_trial=lambda n, p, v: seen.append((n, p, v)))
    assert len(seen) == 25 and value == min(v for _, _, v in seen)
    assert seen[number][1] == best and best["k"] in (1, 2, 3, 4) and isinstance(best["k"], int)
    again = run_search(spec, loss, seed=3)
    assert again == (best, value, number)
