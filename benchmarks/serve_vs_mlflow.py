"""Serving, modelyard vs ``mlflow models serve``, with the same model, body and load generator in one run.

The model: StandardScaler + LogisticRegression on scikit-learn's bundled 30-feature breast cancer data
(modelyard: its fitted transform standardizes, then the estimator; MLflow: a scikit-learn Pipeline). Each
server gets the same single-row ``/invocations`` body in MLflow's ``dataframe_split`` form; a hello-world
Starlette app on uvicorn (benchmarks/peers/serve_hello.py) shows what the HTTP stack itself allows.

Per server: start-up time (spawn to the first 200 from its readiness URL), p50/p99 latency with 1 client,
p50/p99 and requests per second with ``--clients`` concurrent clients (closed loop, keep-alive,
benchmarks/peers/serve_load.py), and resident memory of the server's processes. Targets from issue 5:
p50 at 1 client >= 10x lower than MLflow, throughput at 16 clients >= 20x MLflow and >= 0.5x hello-world.

Everything listens on 127.0.0.1 and the load generator only talks to 127.0.0.1. MLflow runs from its own
venv (benchmarks/peers/.venv-mlflow, built on first use), with ``--env-manager local``.

Examples:
    .venv/bin/python benchmarks/serve_vs_mlflow.py            # 10 s per load phase (about 2 minutes)
    .venv/bin/python benchmarks/serve_vs_mlflow.py --quick    # 3 s per phase
    .venv/bin/python benchmarks/serve_vs_mlflow.py --quick --json > serve.json
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from peers.harness import (
    PEERS_DIR,
    bench_env,
    emit_json,
    fmt_rate,
    fmt_ratio,
    fmt_seconds,
    machine,
    mlflow_python,
    peer_version,
    print_table,
    ratio,
)
from peers.serve_load import run_load

PYTHON = sys.executable


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _dataset() -> tuple[list[str], list[list[float]], list[int]]:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    names = [name.replace(" ", "_") for name in data.feature_names]
    return names, data.data.tolist(), data.target.tolist()


def modelyard_package(dest: Path) -> Path:
    """The benchmark model as a modelyard package (fitted transform + LogisticRegression)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from modelyard.features.transform import TransformSpec, fit_transform
    from modelyard.models.package import save_package
    from modelyard.models.trainer import build_estimator, fit_estimator

    names, rows, target = _dataset()
    records = [dict(zip(names, row, strict=True)) for row in rows]
    parquet = dest.parent / "train.parquet"
    pq.write_table(pa.Table.from_pylist(records), parquet)
    fitted = fit_transform(parquet, TransformSpec.from_params({}, columns={n: "float" for n in names}))
    estimator = build_estimator("sklearn.linear_model.LogisticRegression", {"max_iter": 1000}, seed=0)
    fit_estimator(estimator, fitted.apply_batch(records), target)
    signature = {"inputs": [{"name": n, "type": "float", "nullable": False} for n in names]}
    save_package(dest, estimator=estimator, transform=fitted, task="classification", label="target",
                 signature=signature)  # fmt: skip
    return dest


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def _post(url: str, body: bytes) -> Any:
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def _tree_rss(pid: int) -> tuple[int, int]:
    """(total resident bytes, process count) of ``pid`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, count, todo = 0, 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        rss = next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")), "0")
        total += int(rss) * 1024
        count += 1
    return total, count


def measure(name: str, argv: list[str], ready_path: str, port: int, body: bytes, args: argparse.Namespace,
            cwd: Path | None = None, path_first: Path | None = None) -> dict[str, Any]:  # fmt: skip
    print(f"measuring {name}...", file=sys.stderr)
    started = time.perf_counter()
    # mlflow models serve starts `uvicorn` from PATH: its venv's bin must come first
    env = bench_env(PATH=f"{path_first}{os.pathsep}{os.environ.get('PATH', '')}") if path_first else bench_env()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        while _get(base + ready_path) != 200:
            if process.poll() is not None:
                raise SystemExit(f"{name} exited {process.returncode}:\n{process.stderr.read().decode()}")
            if time.perf_counter() - started > 180:
                raise SystemExit(f"{name} was not ready within 180 s")
            time.sleep(0.02)
        startup = time.perf_counter() - started
        predictions = _post(base + "/invocations", body)
        single = run_load(port, "/invocations", body, clients=1, seconds=args.seconds, warmup=0.5)
        loaded = run_load(port, "/invocations", body, clients=args.clients, seconds=args.seconds, warmup=1.0)
        rss, processes = _tree_rss(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return {
        "startup_s": startup,
        "answer": predictions,
        "p50_1": single.percentile(0.5),
        "p99_1": single.percentile(0.99),
        "rps_1": single.rate,
        "p50_n": loaded.percentile(0.5),
        "p99_n": loaded.percentile(0.99),
        "rps_n": loaded.rate,
        "errors": single.errors + loaded.errors,
        "rss_bytes": rss,
        "processes": processes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 s per load phase instead of 10")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients of the loaded phase")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--log", action="store_true", help="yard serve writes its prediction log (default: off)")
    args = parser.parse_args()
    args.seconds = 3.0 if args.quick else 10.0
    args.yard_args = ["--log-dir", "predictions"] if args.log else ["--log-sample", "0"]
    peer = mlflow_python(quiet=args.json)
    names, rows, _ = _dataset()
    body = json.dumps({"dataframe_split": {"columns": names, "data": [rows[0]]}}).encode()
    with tempfile.TemporaryDirectory(prefix="modelyard-serve-bench-") as tmp:
        package = modelyard_package(Path(tmp) / "breast_cancer")
        mlflow_model = Path(tmp) / "mlflow-model"
        subprocess.run([str(peer), str(PEERS_DIR / "serve_mlflow_model.py"), str(mlflow_model)], env=bench_env(),
                       check=True, capture_output=True)  # fmt: skip
        results = {}
        port = _free_port()
        results["modelyard"] = measure(
            "yard serve", [PYTHON, "-m", "modelyard", "serve", str(package), "--port", str(port), *args.yard_args],
            "/v2/health/ready", port, body, args, cwd=Path(tmp))  # fmt: skip
        port = _free_port()
        results["mlflow"] = measure(
            "mlflow models serve",
            [str(peer), "-m", "mlflow", "models", "serve", "-m", str(mlflow_model), "--env-manager", "local",
             "-h", "127.0.0.1", "-p", str(port), "-w", "1"],
            "/ping", port, body, args, path_first=peer.parent)  # fmt: skip
        port = _free_port()
        results["hello"] = measure(
            "hello-world uvicorn",
            [PYTHON, "-m", "uvicorn", "serve_hello:app", "--port", str(port), "--log-level", "warning",
             "--no-access-log"],
            "/ping", port, body, args, cwd=PEERS_DIR)  # fmt: skip
    my, ml, hello = results["modelyard"], results["mlflow"], results["hello"]
    figures = {
        "machine": machine(),
        "mlflow_version": peer_version(peer, "mlflow"),
        "clients": args.clients,
        "seconds_per_phase": args.seconds,
        "same_answer": my["answer"]["predictions"] == ml["answer"]["predictions"],
        "results": {k: {key: v for key, v in r.items() if key != "answer"} for k, r in results.items()},
        "ratios": {
            "p50_1_mlflow_over_modelyard": ratio(ml["p50_1"], my["p50_1"]),
            "rps_n_modelyard_over_mlflow": ratio(my["rps_n"], ml["rps_n"]),
            "rps_n_modelyard_over_hello": ratio(my["rps_n"], hello["rps_n"]),
        },
    }
    if args.json:
        emit_json(figures)
        return
    n = args.clients
    rows_out = []
    for label, key in (("start-up", "startup_s"), ("p50, 1 client", "p50_1"), ("p99, 1 client", "p99_1"),
                       (f"p50, {n} clients", "p50_n"), (f"p99, {n} clients", "p99_n")):  # fmt: skip
        rows_out.append([label, *(fmt_seconds(r[key]) for r in (my, ml, hello)), fmt_ratio(ratio(ml[key], my[key]))])
    rows_out.append(["req/s, 1 client", *(fmt_rate(r["rps_1"], "/s") for r in (my, ml, hello)),
                     fmt_ratio(ratio(my["rps_1"], ml["rps_1"]))])  # fmt: skip
    rows_out.append([f"req/s, {n} clients", *(fmt_rate(r["rps_n"], "/s") for r in (my, ml, hello)),
                     fmt_ratio(ratio(my["rps_n"], ml["rps_n"]))])  # fmt: skip
    rows_out.append(["memory (RSS, processes)", *(f"{r['rss_bytes'] / 2**20:,.0f} MiB ({r['processes']})"
                                                   for r in (my, ml, hello)), "-"])  # fmt: skip
    rows_out.append(["failed requests", *(str(r["errors"]) for r in (my, ml, hello)), "-"])
    print_table(
        f"Serving one row of breast cancer (StandardScaler + LogisticRegression), mlflow {figures['mlflow_version']}",
        ["", "yard serve", "mlflow models serve", "hello-world", "modelyard vs mlflow"],
        rows_out,
        notes=[
            f"targets: p50 at 1 client >= 10x lower, req/s at {n} clients >= 20x MLflow and >= 0.5x hello-world "
            f"(now {fmt_ratio(figures['ratios']['rps_n_modelyard_over_hello'])})",
            f"both servers gave the same prediction: {figures['same_answer']}",
            f"{args.seconds:g} s per load phase, closed loop, keep-alive, on 127.0.0.1; {machine()['cpus']} CPUs",
        ],
    )


if __name__ == "__main__":
    main()
