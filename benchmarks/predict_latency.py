"""Single-record predict() latency: a model package against the bare estimator on a one-row array.

A package does more than the estimator: it checks the record against the signature (types, nulls,
domains) and applies the fitted transform. This measures what that costs per request, for a model
with 30 raw features (24 numeric, 6 categorical), so the hot path of a server stays honest.

Rows:
- bare estimator: ``estimator.predict(x)`` with ``x`` an already transformed (1, width) array;
- input check only, transform only (``apply_record``);
- package: ``package.predict([record])`` end to end.

The overhead is reported twice: input check + transform, measured directly, and package minus bare,
which also includes converting the answer but is the difference of two noisy figures.

Examples:
    .venv/bin/python benchmarks/predict_latency.py            # 5,000 calls per row
    .venv/bin/python benchmarks/predict_latency.py --quick    # 500 calls
    .venv/bin/python benchmarks/predict_latency.py --json
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers.harness import emit_json, machine, print_table

NUMERIC = [f"x{i}" for i in range(24)]
CATEGORICAL = [f"c{i}" for i in range(6)]
TARGET_OVERHEAD_US = 100.0


def build(tmp: Path, rows: int = 5000) -> tuple[Any, Any, dict[str, Any], Any]:
    """(package, bare estimator, one raw record, that record's transformed row)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    from sklearn.linear_model import LogisticRegression

    from modelyard.features.transform import TransformSpec, fit_transform
    from modelyard.models.package import load_package, save_package

    rng = np.random.default_rng(0)
    data: dict[str, Any] = {name: rng.normal(size=rows) for name in NUMERIC}
    data |= {name: rng.choice(["a", "b", "c", "d"], size=rows).tolist() for name in CATEGORICAL}
    label = (data["x0"] + data["x1"] > 0).astype(int)
    path = tmp / "train.parquet"
    pq.write_table(pa.table(data), path)
    fitted = fit_transform(path, TransformSpec(numeric=NUMERIC, categorical=CATEGORICAL))
    records = pa.table(data).to_pylist()
    estimator = LogisticRegression(max_iter=500).fit(fitted.apply_batch(records), label)
    signature = {
        "inputs": [{"name": n, "type": "float", "nullable": True} for n in NUMERIC]
        + [{"name": n, "type": "string", "nullable": False, "domain": ["a", "b", "c", "d"]} for n in CATEGORICAL]
    }
    save_package(tmp / "pkg", estimator=estimator, transform=fitted, task="classification", label="y",
                 signature=signature)  # fmt: skip
    package = load_package(tmp / "pkg")
    record = records[0]
    return package, estimator, record, fitted.apply_record(record)[None, :]


def per_call_us(fn: Callable[[], Any], calls: int) -> float:
    """Median over 5 batches of ``calls`` calls, in microseconds per call."""
    for _ in range(min(calls, 200)):  # warm up caches and lazy imports
        fn()
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - started) / calls * 1e6)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--quick", action="store_true", help="500 calls per row")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    calls = 500 if args.quick else args.calls
    with tempfile.TemporaryDirectory() as tmp:
        package, estimator, record, row = build(Path(tmp))
        assert package.predict([record]) == estimator.predict(row).tolist()
        bare = per_call_us(lambda: estimator.predict(row), calls)
        check = per_call_us(lambda: package.check_inputs([record]), calls)
        transform = per_call_us(lambda: package.transform.apply_record(record), calls)
        full = per_call_us(lambda: package.predict([record]), calls)
    overhead = full - bare
    figures = {
        "features": len(NUMERIC) + len(CATEGORICAL),
        "calls": calls,
        "machine": machine(),
        "us_per_call": {"bare_estimator": bare, "input_check": check, "transform": transform, "package": full},
        "overhead_us": check + transform,
        "package_minus_bare_us": overhead,
        "target_us": TARGET_OVERHEAD_US,
        "ratio_package_to_bare": full / bare,
    }
    if args.json:
        emit_json(figures)
        return
    rows = [
        ["bare estimator.predict(1-row array)", f"{bare:,.1f} µs", "1.00x"],
        ["input check (signature)", f"{check:,.1f} µs", f"{check / bare:.2f}x"],
        ["transform (apply_record)", f"{transform:,.1f} µs", f"{transform / bare:.2f}x"],
        ["package.predict(\\[record])", f"{full:,.1f} µs", f"{full / bare:.2f}x"],
        ["overhead: check + transform", f"{check + transform:,.1f} µs", f"target < {TARGET_OVERHEAD_US:.0f} µs"],
        ["overhead: package - bare (noisy)", f"{overhead:,.1f} µs", ""],
    ]
    print_table(
        f"Single-record predict, {figures['features']} raw features, LogisticRegression (median of 5 x {calls:,})",
        ["", "per call", "vs bare"],
        rows,
        notes=["the overhead is what the package adds: input check + transform + converting the answer"],
    )


if __name__ == "__main__":
    main()
