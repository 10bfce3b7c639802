"""The MLflow half of benchmarks/tracking_vs_mlflow.py, run by the peer venv's python.

Why a separate process: MLflow and modelyard must not share a venv (their pins differ), and each side must
be measured in a process of its own. The work comes in through argv, the figures go out as one JSON object
on stdout (MLflow's own log lines go to stderr). Each task first creates the store (MLflow runs its
migrations on first use) so the timed part measures an existing store, as on the modelyard side.

Example:
    benchmarks/peers/.venv-mlflow/bin/python benchmarks/peers/mlflow_worker.py metrics \
        --db sqlite:////tmp/x/mlflow.db --n 2000
"""

from __future__ import annotations

import argparse
import json
import time


def _warm_up(db_url: str) -> float:
    import mlflow

    started = time.perf_counter()
    mlflow.set_tracking_uri(db_url)
    with mlflow.start_run(run_name="warm-up"):
        mlflow.log_param("warm", 1)
    return time.perf_counter() - started


def metrics(db_url: str, n: int, synchronous: bool) -> dict[str, object]:
    """``n`` one-by-one ``log_metric`` calls in one run; the clock stops after the run has ended."""
    import mlflow

    warm = _warm_up(db_url)
    started = time.perf_counter()
    with mlflow.start_run(run_name="metrics") as run:
        for i in range(n):
            mlflow.log_metric("loss", 1.0 / (i + 1), step=i, synchronous=synchronous)
    seconds = time.perf_counter() - started
    history = mlflow.MlflowClient().get_metric_history(run.info.run_id, "loss")
    last = max(history, key=lambda m: m.step) if history else None
    return {
        "seconds": seconds,
        "calls": n,
        "stored": len(history),
        "last_value_ok": last is not None and last.step == n - 1 and abs(last.value - 1.0 / n) < 1e-12,
        "warm_up_seconds": warm,
    }


def runs(db_url: str, n: int, params: int, metrics_per_run: int) -> dict[str, object]:
    """``n`` runs, each: start, ``params`` params and ``metrics_per_run`` metrics (one batch call each), end."""
    import mlflow

    warm = _warm_up(db_url)
    param_values = {f"param_{j}": j for j in range(params)}
    metric_values = {f"metric_{j}": j / 10 for j in range(metrics_per_run)}
    started = time.perf_counter()
    last_id = ""
    for i in range(n):
        with mlflow.start_run(run_name=f"run-{i}") as run:
            mlflow.log_params(param_values)
            mlflow.log_metrics(metric_values)
            last_id = run.info.run_id
    seconds = time.perf_counter() - started
    client = mlflow.MlflowClient()
    data = client.get_run(last_id).data
    count = len(client.search_runs(experiment_ids=["0"], max_results=50_000)) - 1  # less the warm-up run
    return {
        "seconds": seconds,
        "runs": n,
        "stored_runs": count,
        "last_run_ok": len(data.params) == params and len(data.metrics) == metrics_per_run,
        "warm_up_seconds": warm,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=["metrics", "runs"])
    parser.add_argument("--db", required=True, help="MLflow tracking URI, e.g. sqlite:////tmp/x/mlflow.db")
    parser.add_argument("--n", type=int, required=True, help="log_metric calls (metrics) or runs (runs)")
    parser.add_argument("--async-logging", action="store_true", help="log_metric(..., synchronous=False)")
    parser.add_argument("--params", type=int, default=10)
    parser.add_argument("--metrics", type=int, default=10)
    args = parser.parse_args()
    if args.task == "metrics":
        result = metrics(args.db, args.n, synchronous=not args.async_logging)
    else:
        result = runs(args.db, args.n, args.params, args.metrics)
    import mlflow

    result["version"] = mlflow.__version__
    print(json.dumps(result))


if __name__ == "__main__":
    main()
