"""Tracking throughput, modelyard vs MLflow, side by side in one run on the same machine.

Measures (a) one-by-one ``log_metric`` calls in one run, (b) many small runs (10 params + 10 metrics each),
(c) the import of each package. Both sides use SQLite on local disk and a store created before the clock
starts (MLflow migrates its schema on first use; that cost is reported, not timed). Every timed figure
includes ending the run, so every value is durable when the clock stops; afterwards each side's values are
read back from its store and counted.

MLflow runs in its own venv (benchmarks/peers/.venv-mlflow, created on first use from
benchmarks/peers/mlflow-requirements.txt) through benchmarks/peers/mlflow_worker.py; modelyard runs in this
process. The target from the issue: modelyard >= 100x MLflow's ``log_metric`` calls per second.

Examples:
    .venv/bin/python benchmarks/tracking_vs_mlflow.py            # 10,000 calls, 1,000 runs (a few minutes)
    .venv/bin/python benchmarks/tracking_vs_mlflow.py --quick    # 2,000 calls, 100 runs
    .venv/bin/python benchmarks/tracking_vs_mlflow.py --quick --json > tracking.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from peers.harness import (
    MLFLOW_WORKER,
    bench_env,
    emit_json,
    fmt_rate,
    fmt_ratio,
    fmt_seconds,
    machine,
    median_wall,
    mlflow_python,
    print_table,
    ratio,
)

TARGET_RATIO = 100.0


# -- modelyard side (in this process) -----------------------------------------------------------------------
def _modelyard_settings(project: Path) -> Any:
    from modelyard.settings import Settings

    return Settings.for_project(project, env={})


def _modelyard_warm_up(settings: Any) -> float:
    """Create the store (schema migration) and import what tracking uses, before any clock starts."""
    import modelyard

    started = time.perf_counter()
    with modelyard.start_run("warm-up", settings=settings):
        modelyard.log_param("warm", 1)
    return time.perf_counter() - started


def modelyard_metrics(project: Path, n: int) -> dict[str, Any]:
    import modelyard
    from modelyard.store.metadata.store import MetadataStore

    settings = _modelyard_settings(project)
    warm = _modelyard_warm_up(settings)
    started = time.perf_counter()
    run = modelyard.start_run("metrics", settings=settings)
    for i in range(n):
        modelyard.log_metric("loss", 1.0 / (i + 1), step=i)
    run.end()
    seconds = time.perf_counter() - started
    store = MetadataStore.open(settings.db_url)
    try:
        points = store.get_metrics(run.run_id, "loss")
    finally:
        store.close()
    last = max(points, key=lambda p: p.step) if points else None
    return {
        "seconds": seconds,
        "calls": n,
        "stored": len(points),
        "last_value_ok": last is not None and last.step == n - 1 and abs(last.value - 1.0 / n) < 1e-12,
        "warm_up_seconds": warm,
    }


def modelyard_runs(project: Path, n: int, params: int = 10, metrics: int = 10) -> dict[str, Any]:
    import modelyard
    from modelyard.store.metadata.store import MetadataStore

    settings = _modelyard_settings(project)
    warm = _modelyard_warm_up(settings)
    param_values = {f"param_{j}": j for j in range(params)}
    metric_values = {f"metric_{j}": j / 10 for j in range(metrics)}
    started = time.perf_counter()
    last_id = ""
    for i in range(n):
        with modelyard.start_run(f"run-{i}", settings=settings) as run:
            modelyard.log_params(param_values)
            modelyard.log_metrics(metric_values)
            last_id = run.run_id
    seconds = time.perf_counter() - started
    store = MetadataStore.open(settings.db_url)
    try:
        count = len(store.list_runs(kind="tracking", limit=n + 10)) - 1  # less the warm-up run
        last_ok = len(store.get_params(last_id)) == params and len(store.latest_metrics(last_id)) == metrics
    finally:
        store.close()
    return {"seconds": seconds, "runs": n, "stored_runs": count, "last_run_ok": last_ok, "warm_up_seconds": warm}


# -- MLflow side (peer venv, subprocess) -----------------------------------------------------------------------
def mlflow_task(python: Path, workdir: Path, task: str, n: int, *extra: str) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{workdir / 'mlflow.db'}"
    argv = [str(python), str(MLFLOW_WORKER), task, "--db", db_url, "--n", str(n), *extra]
    done = subprocess.run(argv, cwd=workdir, env=bench_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the MLflow worker failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the run --------------------------------------------------------------------------------------------------
def measure(args: argparse.Namespace) -> dict[str, Any]:
    python = mlflow_python(quiet=args.json)
    with tempfile.TemporaryDirectory(prefix="modelyard-bench-") as tmp:
        root = Path(tmp)
        progress = (lambda text: None) if args.json else (lambda text: print(text, file=sys.stderr))
        progress(f"(a) log_metric x {args.calls:,}: modelyard...")
        my_metrics = modelyard_metrics(root / "my-metrics", args.calls)
        progress("    MLflow (synchronous, the default)...")
        ml_metrics = mlflow_task(python, root / "ml-metrics", "metrics", args.calls)
        ml_async = None
        if not args.no_async:
            progress("    MLflow (synchronous=False)...")
            ml_async = mlflow_task(python, root / "ml-async", "metrics", args.calls, "--async-logging")
        progress(f"(b) {args.runs:,} runs x (10 params + 10 metrics): modelyard...")
        my_runs = modelyard_runs(root / "my-runs", args.runs)
        progress("    MLflow...")
        ml_runs = mlflow_task(python, root / "ml-runs", "runs", args.runs)
    progress(f"(c) import, median of {args.repeat}...")
    my_import = median_wall([sys.executable, "-c", "import modelyard"], args.repeat)
    ml_import = median_wall([python, "-c", "import mlflow"], args.repeat)
    return {
        "machine": machine(),
        "mlflow_version": ml_metrics["version"],
        "log_metric": {"modelyard": my_metrics, "mlflow": ml_metrics, "mlflow_async": ml_async},
        "runs": {"modelyard": my_runs, "mlflow": ml_runs},
        "import_seconds": {"modelyard": my_import, "mlflow": ml_import},
    }


def summarise(figures: dict[str, Any]) -> dict[str, Any]:
    """Rates and ratios from the raw seconds (ratio = how many times faster modelyard is)."""
    lm, rn, imp = figures["log_metric"], figures["runs"], figures["import_seconds"]
    my_rate = lm["modelyard"]["calls"] / lm["modelyard"]["seconds"]
    ml_rate = lm["mlflow"]["calls"] / lm["mlflow"]["seconds"]
    ml_async_rate = lm["mlflow_async"]["calls"] / lm["mlflow_async"]["seconds"] if lm["mlflow_async"] else None
    my_runs_rate = rn["modelyard"]["runs"] / rn["modelyard"]["seconds"]
    ml_runs_rate = rn["mlflow"]["runs"] / rn["mlflow"]["seconds"]
    log_ratio = ratio(my_rate, ml_rate)
    return {
        "log_metric_calls_per_s": {"modelyard": my_rate, "mlflow": ml_rate, "mlflow_async": ml_async_rate},
        "log_metric_ratio": log_ratio,
        "log_metric_ratio_vs_async": ratio(my_rate, ml_async_rate),
        "runs_per_s": {"modelyard": my_runs_rate, "mlflow": ml_runs_rate},
        "runs_ratio": ratio(my_runs_rate, ml_runs_rate),
        "import_ratio": ratio(imp["mlflow"], imp["modelyard"]),
        "target_ratio": TARGET_RATIO,
        "target_met": log_ratio is not None and log_ratio >= TARGET_RATIO,
        "all_values_stored": _all_stored(figures),
    }


def _all_stored(figures: dict[str, Any]) -> bool:
    checks = [
        side["stored"] == side["calls"] and side["last_value_ok"]
        for side in figures["log_metric"].values()
        if side is not None
    ]
    checks += [side["stored_runs"] == side["runs"] and side["last_run_ok"] for side in figures["runs"].values()]
    return all(checks)


def show(figures: dict[str, Any], summary: dict[str, Any]) -> None:
    lm, rn, imp = figures["log_metric"], figures["runs"], figures["import_seconds"]
    rates = summary["log_metric_calls_per_s"]
    calls = lm["modelyard"]["calls"]
    rows = [
        [
            f"(a) log_metric x {calls:,}, one run, incl. end",
            fmt_rate(rates["modelyard"], "calls/s"),
            fmt_rate(rates["mlflow"], "calls/s"),
            fmt_ratio(summary["log_metric_ratio"]),
        ],
        ["    same, total time", fmt_seconds(lm["modelyard"]["seconds"]), fmt_seconds(lm["mlflow"]["seconds"]), ""],
    ]
    if lm["mlflow_async"]:
        rows.append(
            [
                "    vs MLflow log_metric(synchronous=False)",
                fmt_rate(rates["modelyard"], "calls/s"),
                fmt_rate(rates["mlflow_async"], "calls/s"),
                fmt_ratio(summary["log_metric_ratio_vs_async"]),
            ]
        )
    rows.append(
        [
            "    values read back from the store",
            f"{lm['modelyard']['stored']:,} / {calls:,}",
            f"{lm['mlflow']['stored']:,} / {calls:,}",
            "",
        ]
    )
    runs = rn["modelyard"]["runs"]
    rows += [
        [
            f"(b) {runs:,} runs x (10 params + 10 metrics)",
            fmt_rate(summary["runs_per_s"]["modelyard"], "runs/s"),
            fmt_rate(summary["runs_per_s"]["mlflow"], "runs/s"),
            fmt_ratio(summary["runs_ratio"]),
        ],
        ["    same, total time", fmt_seconds(rn["modelyard"]["seconds"]), fmt_seconds(rn["mlflow"]["seconds"]), ""],
        [
            "    runs read back from the store",
            f"{rn['modelyard']['stored_runs']:,} / {runs:,}",
            f"{rn['mlflow']['stored_runs']:,} / {runs:,}",
            "",
        ],
        [
            "(c) python -c 'import X' (wall, median)",
            fmt_seconds(imp["modelyard"]),
            fmt_seconds(imp["mlflow"]),
            fmt_ratio(summary["import_ratio"]),
        ],
        [
            "store creation before timing (warm-up)",
            fmt_seconds(lm["modelyard"]["warm_up_seconds"]),
            fmt_seconds(lm["mlflow"]["warm_up_seconds"]),
            "",
        ],
    ]
    verdict = "met" if summary["target_met"] else "NOT met"
    notes = [
        f"ratio = how many times faster modelyard is; target log_metric ratio >= {TARGET_RATIO:.0f}x: {verdict}",
        "both on SQLite in a temporary folder, store created before the clock starts; (b) uses log_params and "
        "log_metrics (one batch call each) on both sides",
        "every value counted back from each store after the timed part: "
        + ("all present" if summary["all_values_stored"] else "SOME VALUES MISSING"),
    ]
    m = figures["machine"]
    title = f"Tracking: modelyard vs MLflow {figures['mlflow_version']} (Python {m['python']}, {m['cpus']} CPUs)"
    print_table(title, ["measure", "modelyard", "MLflow", "ratio"], rows, notes)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 calls and 100 runs instead of 10,000 and 1,000")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    parser.add_argument("--calls", type=int, help="log_metric calls in (a) (default 10,000; 2,000 with --quick)")
    parser.add_argument("--runs", type=int, help="runs in (b) (default 1,000; 100 with --quick)")
    parser.add_argument("--repeat", type=int, help="import timings to take the median of (default 7; 3 with --quick)")
    parser.add_argument("--no-async", action="store_true", help="skip the MLflow synchronous=False row")
    args = parser.parse_args(argv)
    args.calls = args.calls or (2_000 if args.quick else 10_000)
    args.runs = args.runs or (100 if args.quick else 1_000)
    args.repeat = args.repeat or (3 if args.quick else 7)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    figures = measure(args)
    summary = summarise(figures)
    if args.json:
        emit_json({**figures, "summary": summary})
    else:
        show(figures, summary)
    return 0 if summary["all_values_stored"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
