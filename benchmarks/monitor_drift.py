"""Monitor drift on one window of a million logged rows x 30 features: modelyard vs Evidently (issue 6).

The target (issue 6, "Measure"): drift computation for a window of 1,000,000 logged rows x 30 features,
against Evidently's data drift report on the same data, at least 5 times faster, with peak memory reported.

The data: seeded rows shaped like benchmarks/datagen.py's (its generator, less its row id and three
high-cardinality keys, plus three more features: 30 features, 20 numbers, a flag, 9 categories, nulls in
seven), a training span (the reference, 200,000 rows) and a current window (1,000,000 rows) in which exactly
two features moved: ``score`` (mean shifted by half a standard deviation) and ``plan`` (shares of the
five plans changed). Both tools should flag those two and no others.

What is timed (each in a fresh process: imports are timed apart, peak memory is the process's ru_maxrss):

(a) modelyard, from the window table: what the monitor's ``check_window`` does for drift. The reference
    statistics were computed once at "training" time and travel in the model package
    (``reference/inputs.json``, written by ``write_reference``, outside the clock); timed are reading them,
    reading the window's Parquet, its statistics (``statistics_of_table``) and ``compare_statistics``.
(b) modelyard, from the prediction log: the same rows logged as a server logs them
    (``serve.predlog.PredictionLog``: one request per record, or batches of 10 records per request, a file
    every 10,000 records) into a temporary project's ``.modelyard/predictions``, outside the clock; timed
    is ``monitor.logwindow.read_windows`` (decode the JSON, cut the window, write it) plus (a)'s work.
(c) Evidently ``Report([DataDriftPreset()])`` (benchmarks/peers/evidently_worker.py, in its own venv) on
    the reference and the window read from the same Parquet files with pandas, the read included.

Ratio = Evidently's seconds / modelyard's; imports and process start are left out of "seconds" on both
sides and shown in "wall". Each measurement runs ``--repeat`` times and the fastest is kept (the machine
is shared); a run over two minutes is not repeated.

Examples (from the repository root):
    .venv/bin/python benchmarks/monitor_drift.py                  # 1,000,000-row window (several minutes)
    .venv/bin/python benchmarks/monitor_drift.py --quick          # 100,000-row window, one run each
    .venv/bin/python benchmarks/monitor_drift.py --log-batch 10   # only the 10-records-per-request log
    .venv/bin/python benchmarks/monitor_drift.py --quick --json > monitor_drift.json
    .venv/bin/python benchmarks/monitor_drift.py --table-from monitor_drift.json
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import data_validation as dv
import datagen
from peers import harness
from peers.harness import machine, peer_version, report
from peers.memory import peak_mb as _peak_mb
from peers.memory import rss_mb as _rss_mb

#: Bumped whenever the data written here changes, so that stale cached files are not measured.
DATA_VERSION = 1
SEED = 6  # the number: any fixed seed will do
MODEL = "bench-monitor"
#: The two features whose distribution the current window changes.
SHIFTED = ("score", "plan")
#: datagen's identifiers and free keys are not model features (and Evidently treats them as text).
_NOT_FEATURES = ("row_id", "user_key", "zip", "order_key")
_PLANS = ["free", "basic", "pro", "team", "enterprise"]
_SHIFTED_PLAN_SHARES = [0.25, 0.25, 0.20, 0.15, 0.15]  # from about .44/.22/.15/.11/.09
_LANGUAGES = ["en", "es", "de", "fr", "pt", "it", "nl", "pl", "ja", "ko"]
#: The log is flushed every this many records: one Parquet file each, as a busy server writes them.
FLUSH_RECORDS = 10_000
TARGET = 5.0
_SQL_TYPES = {"int64": "int", "double": "float", "bool": "bool", "string": "string", "large_string": "string"}


# -- data (written once into benchmarks/.data, reused) ---------------------------------------------------------
def make_rows(rng: Any, n: int, *, shifted: bool) -> Any:
    """``n`` rows of the 30 features as an Arrow table; ``shifted`` moves exactly the SHIFTED features."""
    import numpy as np
    import pyarrow as pa

    table = datagen.make_chunk(rng, 0, n, drifted=False).drop_columns(list(_NOT_FEATURES))
    table = table.append_column("tenure_days", pa.array(rng.geometric(1 / 400, n)))
    table = table.append_column("sessions_7d", pa.array(rng.poisson(5.0, n)))
    languages = np.array(_LANGUAGES)[rng.choice(len(_LANGUAGES), size=n, p=_zipf(len(_LANGUAGES), 1.0))]
    table = table.append_column("language", pa.array(languages.tolist(), pa.string()))
    if shifted:
        index = table.schema.get_field_index("score")
        table = table.set_column(index, "score", pa.array(rng.normal(0.5, 1.0, n)))
        plans = np.array(_PLANS)[rng.choice(len(_PLANS), size=n, p=_SHIFTED_PLAN_SHARES)]
        table = table.set_column(table.schema.get_field_index("plan"), "plan", pa.array(plans.tolist(), pa.string()))
    return table


def _zipf(k: int, skew: float) -> Any:
    import numpy as np

    weights = 1.0 / np.arange(1, k + 1) ** skew
    return weights / weights.sum()


def dataset(rows: int, *, shifted: bool) -> Path:
    """The Parquet file of one span (written in chunks under a temporary name, then renamed; reused after)."""
    import numpy as np
    import pyarrow.parquet as pq

    name = f"monitor-{'window' if shifted else 'reference'}-{rows}-s{SEED}-v{DATA_VERSION}.parquet"
    path = datagen.DATA_DIR / name
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    ignore = path.parent / ".gitignore"  # the folder is datagen's; whoever creates it keeps it out of git
    if not ignore.exists():
        ignore.write_text("# generated benchmark data: large and reproducible from benchmarks/datagen.py\n*\n")
    rng = np.random.default_rng([SEED, int(shifted), DATA_VERSION])
    partial = path.with_suffix(".partial")
    writer = None
    try:
        for start in range(0, rows, datagen.CHUNK_ROWS):
            chunk = make_rows(rng, min(datagen.CHUNK_ROWS, rows - start), shifted=shifted)
            writer = writer or pq.ParquetWriter(str(partial), chunk.schema, compression="snappy")
            writer.write_table(chunk, row_group_size=122_880)
    finally:
        if writer is not None:
            writer.close()
    partial.replace(path)
    return path


def signature_of(path: Path) -> dict[str, Any]:
    """The model signature a package trained on this file would carry (inputs only; a float prediction)."""
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    inputs = [{"name": f.name, "type": _SQL_TYPES[str(f.type)], "nullable": True} for f in schema]
    return {"inputs": inputs, "outputs": [{"name": "prediction", "type": "float", "nullable": False}]}


def write_package_reference(reference: Path, package: Path) -> None:
    """A package folder holding only its training reference, as ``build_reference`` writes it (untimed)."""
    from modelyard.data.statistics import compute_statistics
    from modelyard.models.reference import unlabelled, write_reference

    write_reference(package, {"inputs": unlabelled(compute_statistics(reference))}, None)


def write_log(window: Path, home: Path, batch: int) -> dict[str, Any]:
    """The window's rows as a server logs them, ``batch`` records per request (untimed)."""
    import pyarrow.parquet as pq

    from modelyard.serve.predlog import PredictionLog

    log = PredictionLog(home / "predictions")
    for chunk in pq.ParquetFile(window).iter_batches(batch_size=FLUSH_RECORDS):
        records = chunk.to_pylist()
        for at in range(0, len(records), batch):
            part = records[at : at + batch]
            outputs = [round(0.3 + 0.1 * row["score"] + 0.2 * row["ratio"], 4) for row in part]
            log.record(uuid.uuid4().hex, MODEL, "1.0.0", "primary", "v2", 200, 0.002, part, outputs)
        log.flush()
    files = list((home / "predictions").glob("**/*.parquet"))
    return {"batch": batch, "files": len(files), "mb": sum(f.stat().st_size for f in files) / 1e6}


# -- the modelyard workers (this file, run again in a fresh process) -------------------------------------------


def _compare(package: Path, table: Any, marks: dict[str, float]) -> dict[str, Any]:
    """What check_window does for drift: statistics of the window's inputs, compared with the package's."""
    from modelyard.data.drift import compare_statistics
    from modelyard.models.reference import read_reference, statistics_of_table

    reference = read_reference(package)
    if reference.inputs is None:
        raise SystemExit(f"no reference/inputs.json in {package}")
    current = statistics_of_table(table)
    marks["statistics"] = time.perf_counter()
    report = compare_statistics(reference.inputs, current, schema=reference.schema, mode="drift")
    marks["compare"] = time.perf_counter()
    return {
        "rows": current.num_rows,
        "columns_checked": len(report.columns),
        "drifted_columns": [found.column for found in report.drifted],
    }


def _import_engine() -> None:
    """Import what the timed work uses before the clock starts: DuckDB's import is import time, as pandas' is
    on Evidently's side."""
    import importlib

    for module in (
        "duckdb",
        "pyarrow.parquet",
        "pyarrow.dataset",
        "modelyard.data.drift",
        "modelyard.models.reference",
    ):
        importlib.import_module(module)


def _work_table(args: list[str], started: float) -> dict[str, Any]:
    import pyarrow.parquet as pq

    _import_engine()
    package, window = Path(args[0]), Path(args[1])
    imported, rss = time.perf_counter(), _rss_mb()
    marks: dict[str, float] = {}
    table = pq.read_table(window)
    marks["read"] = time.perf_counter()
    found = _compare(package, table, marks)
    return {
        **found,
        **_splits(imported, marks, ("read", "statistics", "compare")),
        "import_seconds": imported - started,
        "rss_after_import_mb": rss,
    }


def _work_log(args: list[str], started: float) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from modelyard.monitor.logwindow import WindowSpec, read_windows

    _import_engine()
    package, home, rows = Path(args[0]), Path(args[1]), int(args[2])
    signature = json.loads(Path(args[3]).read_text())
    inputs = [field["name"] for field in signature["inputs"]]
    imported, rss = time.perf_counter(), _rss_mb()
    marks: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="modelyard-bench-windows-") as folder:
        windows = read_windows(
            home / "predictions", home / "feedback", MODEL, signature, None, WindowSpec(rows=rows), Path(folder)
        )
        marks["decode"] = time.perf_counter()
        if len(windows) != 1 or not windows[0].complete or windows[0].rows != rows:
            raise SystemExit(f"expected one complete window of {rows} rows, got {windows}")
        table = pq.read_table(windows[0].path).select(inputs)
        marks["read"] = time.perf_counter()
        found = _compare(package, table, marks)
    return {
        **found,
        **_splits(imported, marks, ("decode", "read", "statistics", "compare")),
        "import_seconds": imported - started,
        "rss_after_import_mb": rss,
    }


def _splits(imported: float, marks: dict[str, float], names: tuple[str, ...]) -> dict[str, Any]:
    """Seconds of each timed step and their sum (``work_seconds``): which step to look at if a target is missed."""
    previous, splits = imported, {}
    for name in names:
        splits[name] = marks[name] - previous
        previous = marks[name]
    return {"steps": splits, "work_seconds": previous - imported}


_WORKERS = {"table": _work_table, "log": _work_log}


def run_worker(task: str, args: list[str]) -> int:
    started = time.perf_counter()
    figures = _WORKERS[task](args, started)
    figures["peak_rss_mb"] = _peak_mb()
    print("\n" + dv.MARKER + json.dumps(figures), flush=True)
    return 0


def _me(task: str, *args: Any) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--worker", task, *map(str, args)]


# -- the run --------------------------------------------------------------------------------------------------
def measure_once(argv: list[str]) -> dict[str, Any]:
    """One fresh process, plus the CPU seconds it used (user + system, all its threads, imports included).

    On a shared machine wall seconds stretch with the neighbours' load while CPU seconds mostly do not,
    so the CPU figure is the one to trust when the two disagree.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run = dv.measure_once(argv)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {**run, "cpu_seconds": cpu}


def measure_best(argv: list[str], repeat: int, say: Any, label: str) -> dict[str, Any]:
    """The fastest of ``repeat`` runs by work seconds (as data_validation.py keeps); long runs are not repeated."""
    runs: list[dict[str, Any]] = []
    for attempt in range(repeat):
        if runs and runs[0]["wall_seconds"] > dv.LONG_RUN_SECONDS:
            break
        say(f"    {label} ({attempt + 1}/{repeat})...")
        runs.append(measure_once(argv))
    fastest = min(runs, key=lambda run: run["work_seconds"])
    return {**fastest, "runs_work_seconds": [run["work_seconds"] for run in runs]}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    say = (lambda text: None) if args.json else (lambda text: print(text, file=sys.stderr, flush=True))
    best = lambda argv, label: measure_best(argv, args.repeat, say, label)  # noqa: E731
    say(f"data: reference {args.reference_rows:,} rows, window {args.rows:,} rows (cached in {datagen.DATA_DIR})")
    reference, window = dataset(args.reference_rows, shifted=False), dataset(args.rows, shifted=True)
    figures: dict[str, Any] = {
        "machine": machine(),
        "rows": args.rows,
        "reference_rows": args.reference_rows,
        "repeat": args.repeat,
        "versions": {},
        "logs": [],
    }
    with tempfile.TemporaryDirectory(prefix="modelyard-bench-monitor-") as tmp:
        package, signature = Path(tmp) / "package", Path(tmp) / "signature.json"
        write_package_reference(reference, package)
        signature.write_text(json.dumps(signature_of(window)))
        figures["columns"] = len(signature_of(window)["inputs"])
        say("(a) modelyard, from the window table")
        figures["table"] = best(_me("table", package, window), "modelyard, window Parquet")
        for batch in args.log_batch:
            home = Path(tmp) / f"project-{batch}" / ".modelyard"
            say(f"(b) writing the prediction log, {batch} record(s) per request (untimed)...")
            written = write_log(window, home, batch)
            say(f"    {written['files']} files, {written['mb']:,.0f} MB")
            run = best(_me("log", package, home, args.rows, signature), f"modelyard, prediction log x{batch}")
            figures["logs"].append({**written, "modelyard": run})
            shutil.rmtree(home.parent)
    if not args.skip_peers:
        say("(c) Evidently DataDriftPreset on the same Parquet files")
        python = dv.peer_python(dv.EVIDENTLY_VENV, dv.EVIDENTLY_REQUIREMENTS, quiet=args.json)
        figures["versions"]["evidently"] = peer_version(python, "evidently")
        argv = [str(python), str(dv.EVIDENTLY_WORKER), "--reference", str(reference), "--current", str(window)]
        figures["evidently"] = best(argv, "Evidently DataDriftPreset")
    return figures


def summarise(figures: dict[str, Any]) -> dict[str, Any]:
    """Evidently / modelyard, by work seconds (the target) and by the whole processes' CPU seconds."""
    peer = figures.get("evidently") or {}
    runs = {"table": figures["table"], **{f"log_x{log['batch']}": log["modelyard"] for log in figures["logs"]}}
    ratios = {name: harness.ratio(peer.get("work_seconds"), run["work_seconds"]) for name, run in runs.items()}
    cpu = {name: harness.ratio(peer.get("cpu_seconds"), run["cpu_seconds"]) for name, run in runs.items()}
    met = {name: None if value is None else value >= TARGET for name, value in ratios.items()}
    return {"evidently_vs_modelyard": ratios, "evidently_vs_modelyard_cpu": cpu, "targets_met": met}


def _row(label: str, run: dict[str, Any] | None, peer: dict[str, Any] | None) -> list[str]:
    if run is None:
        return [label, "-", "-", "-", "-", "-", "-"]
    value = harness.ratio((peer or {}).get("work_seconds"), run["work_seconds"]) if peer is not run else None
    verdict = "" if value is None else f">= {TARGET:g}x: " + ("met" if value >= TARGET else "NOT met")
    above = run["peak_rss_mb"] - run["rss_after_import_mb"]
    return [
        label,
        harness.fmt_seconds(run["work_seconds"]),
        harness.fmt_seconds(run.get("wall_seconds")),
        harness.fmt_seconds(run.get("cpu_seconds")),
        f"{run['peak_rss_mb']:,.0f} MB (+{above:,.0f})",
        "" if value is None else harness.fmt_ratio(value),
        verdict,
    ]


def _steps(run: dict[str, Any]) -> str:
    return ", ".join(f"{name} {harness.fmt_seconds(seconds)}" for name, seconds in run["steps"].items())


def show(figures: dict[str, Any]) -> None:
    peer, m = figures.get("evidently"), figures["machine"]
    title = (
        f"Monitor drift, a window of {figures['rows']:,} rows x {figures['columns']} features against a "
        f"{figures['reference_rows']:,}-row reference: modelyard vs Evidently "
        f"{figures['versions'].get('evidently', '-')} (Python {m['python']}, {m['cpus']} CPUs, "
        f"best of {figures['repeat']})"
    )
    rows = [_row("modelyard (a) from the window table", figures["table"], peer)]
    for log in figures["logs"]:
        rows.append(_row(f"modelyard (b) from the prediction log, {log['batch']}/request", log["modelyard"], peer))
    rows.append(_row("Evidently DataDriftPreset (read + report)", peer, peer))
    notes = [
        "seconds: the work, without process start and imports; wall: the whole fresh process; CPU: its user + system "
        "seconds (all threads, imports included); peak: its ru_maxrss, (+N) above the RSS after imports; "
        "ratio = Evidently seconds / modelyard seconds",
        f"(a) steps: {_steps(figures['table'])}",
    ]
    for log in figures["logs"]:
        notes.append(
            f"(b) {log['batch']}/request ({log['files']} log files, {log['mb']:,.0f} MB): {_steps(log['modelyard'])}"
        )
    if peer is not None:
        notes.append(
            f"Evidently: read {harness.fmt_seconds(peer['load_seconds'])}, report "
            f"{harness.fmt_seconds(peer['report_seconds'])}, import {harness.fmt_seconds(peer['import_seconds'])}"
        )
    notes.append(
        f"shifted in the window: {', '.join(SHIFTED)}; modelyard (a) flags "
        f"{', '.join(figures['table']['drifted_columns']) or 'none'} of {figures['table']['columns_checked']}"
    )
    for log in figures["logs"]:
        notes.append(f"modelyard (b) {log['batch']}/request flags {', '.join(log['modelyard']['drifted_columns'])}")
    if peer is not None:
        notes.append(f"Evidently flags {', '.join(peer['drifted_columns']) or 'none'} of {peer['columns_checked']}")
    cpu = summarise(figures)["evidently_vs_modelyard_cpu"]
    if peer is not None:
        notes.append(
            "by CPU seconds of the whole process: Evidently / modelyard = "
            + ", ".join(f"{name} {harness.fmt_ratio(value)}" for name, value in cpu.items())
        )
    columns = ["tool", "seconds", "wall", "CPU", "peak RSS", "ratio", "target"]
    harness.print_table(title, columns, rows, notes)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a 100,000-row window, 20,000 reference rows, one run")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    parser.add_argument("--rows", type=int, help="rows in the window (default 1,000,000; 100,000 with --quick)")
    parser.add_argument("--reference-rows", type=int, help="rows in the reference (default: a fifth of --rows)")
    parser.add_argument("--repeat", type=int, help="runs per measurement, the fastest kept (default 2; 1 with --quick)")
    parser.add_argument(
        "--log-batch",
        type=int,
        nargs="+",
        default=[1, 10],
        metavar="N",
        help="records per logged request, one (b) row each (default: 1 10)",
    )
    parser.add_argument("--skip-peers", action="store_true", help="modelyard only (no Evidently)")
    parser.add_argument("--table-from", type=Path, metavar="JSON", help="print the table of a saved --json run")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("worker_args", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.rows = args.rows or (100_000 if args.quick else 1_000_000)
    args.reference_rows = args.reference_rows or max(1, args.rows // 5)
    args.repeat = args.repeat or (1 if args.quick else 2)
    if args.worker is None and (args.rows < 1 or min(args.log_batch) < 1):
        parser.error("--rows and --log-batch must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return run_worker(args.worker, args.worker_args)
    return report(args.table_from, args.json, lambda: measure(args), summarise, show)


if __name__ == "__main__":
    raise SystemExit(main())
