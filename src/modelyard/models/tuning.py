"""Hyperparameter search with Optuna (the optional ``[optuna]`` extra), declared in the pipeline file::

    search:
      n_trials: 20
      metric: accuracy            # computed on the eval split; the best trial by this metric wins
      direction: maximize         # or minimize (rmse, log_loss, ...)
      space:
        C: {low: 0.01, high: 100, log: true}      # float range
        max_iter: {low: 100, high: 2000, int: true}
        solver: [lbfgs, newton-cg]                # a choice

The sampler is seeded from the pipeline seed, so the same data, config and seed run the same trials
and pick the same winner. How a trial is scored and recorded is the caller's business (the train step
records each one as a child run): this module only turns a declared space into Optuna calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from modelyard.errors import Location, UsageError

DIRECTIONS = ("maximize", "minimize")


@dataclass(frozen=True)
class SearchSpec:
    n_trials: int
    metric: str
    direction: str
    space: dict[str, Any]

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> SearchSpec:
        unknown = sorted(set(params) - {"n_trials", "metric", "direction", "space"})
        if unknown:
            raise UsageError(f"unknown search option(s) {', '.join(unknown)}", where=Location(field="search"))
        n_trials = params.get("n_trials", 20)
        if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
            raise UsageError("search.n_trials must be a whole number >= 1", where=Location(field="search.n_trials"))
        direction = params.get("direction", "maximize")
        if direction not in DIRECTIONS:
            raise UsageError(f"search.direction is one of {', '.join(DIRECTIONS)}", where=Location(field="search"))
        metric = params.get("metric")
        if not isinstance(metric, str):
            raise UsageError("search.metric names the eval metric that picks the best trial, e.g. accuracy")
        space = params.get("space")
        if not isinstance(space, Mapping) or not space:
            raise UsageError("search.space maps parameter names to ranges or choices", where=Location(field="search"))
        for name, dist in space.items():
            _check_distribution(name, dist)
        return cls(n_trials=n_trials, metric=metric, direction=direction, space=dict(space))


def _check_distribution(name: str, dist: Any) -> None:
    where = Location(field=f"search.space.{name}")
    if isinstance(dist, list) and dist:
        return
    if isinstance(dist, Mapping) and {"low", "high"} <= set(dist) and set(dist) <= {"low", "high", "log", "int"}:
        if not all(isinstance(dist[k], int | float) and not isinstance(dist[k], bool) for k in ("low", "high")):
            raise UsageError(f"'{name}': low and high must be numbers", where=where)
        if dist["low"] > dist["high"]:
            raise UsageError(f"'{name}': low {dist['low']} is above high {dist['high']}", where=where)
        return
    raise UsageError(
        f"cannot read the search space of '{name}': {dist!r}",
        where=where,
        hint="use {low: .., high: .., log: true, int: true} or a list of choices",
    )


def _suggest(trial: Any, name: str, dist: Any) -> Any:
    if isinstance(dist, list):
        return trial.suggest_categorical(name, dist)
    if dist.get("int"):
        return trial.suggest_int(name, int(dist["low"]), int(dist["high"]), log=bool(dist.get("log")))
    return trial.suggest_float(name, float(dist["low"]), float(dist["high"]), log=bool(dist.get("log")))


def run_search(
    spec: SearchSpec,
    objective: Callable[[dict[str, Any]], float],
    *,
    seed: int,
    on_trial: Callable[[int, dict[str, Any], float], None] | None = None,
) -> tuple[dict[str, Any], float, int]:
    """Run the trials; returns (best params, best value, best trial number).

    ``objective(params)`` trains and scores one candidate; ``on_trial(number, params, value)`` is
    called after each one (to record it). Raises UsageError when Optuna is not installed.
    """
    try:
        import optuna
    except ModuleNotFoundError as exc:
        raise UsageError(
            "hyperparameter search needs Optuna, which is not installed",
            hint="pip install 'modelyard[optuna]'",
        ) from exc
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction=spec.direction, sampler=optuna.samplers.TPESampler(seed=seed))

    def run_trial(trial: Any) -> float:
        params = {name: _suggest(trial, name, dist) for name, dist in spec.space.items()}
        value = float(objective(params))
        if on_trial is not None:
            on_trial(trial.number, params, value)
        return value

    study.optimize(run_trial, n_trials=spec.n_trials)
    best = study.best_trial
    return dict(best.params), float(best.value), int(best.number)
