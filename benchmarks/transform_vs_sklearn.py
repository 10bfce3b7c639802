"""Transform fit + batch apply against the same spec as a scikit-learn ColumnTransformer, side by side.

The data: N rows (1,000,000 by default) with 8 numeric columns (5% missing) and 4 string columns of
different cardinality (3% missing), written once to Parquet. The spec on both sides: numbers imputed
with the mean and z-scored; strings imputed with the most frequent value and one-hot encoded (unseen
values to an all-zero row for scikit-learn, to the out-of-vocabulary indicator for modelyard).

- modelyard: ``fit_transform(parquet)`` (one DuckDB pass, no DataFrame) and ``apply_batch(arrow table)``.
- scikit-learn: ``pd.read_parquet`` + ``ColumnTransformer.fit`` and ``.transform(DataFrame)``, dense output.

Reading the Parquet file is timed on its own row so both "with" and "without I/O" views are visible.
The numeric blocks are compared on the rows where the value was present: the two differ by design in
the spread they divide by (modelyard: the standard deviation of the present values, as TFX does;
scikit-learn: after imputation), so the figure printed is the largest relative difference of the spread.

Examples:
    .venv/bin/python benchmarks/transform_vs_sklearn.py            # 1M rows, median of 3
    .venv/bin/python benchmarks/transform_vs_sklearn.py --quick    # 100k rows, 1 round
    .venv/bin/python benchmarks/transform_vs_sklearn.py --rows 2000000 --json
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

from peers.harness import emit_json, fmt_ratio, fmt_seconds, machine, print_table, ratio

NUMERIC = [f"x{i}" for i in range(8)]
CATEGORICAL = {"small": 3, "medium": 12, "large": 40, "flag": 2}


def make_data(rows: int, path: Path) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    columns: dict[str, Any] = {}
    for i, name in enumerate(NUMERIC):
        values = rng.normal(i * 10, 1 + i, rows)
        mask = rng.random(rows) < 0.05
        columns[name] = pa.array(values, mask=mask)
    for name, cardinality in CATEGORICAL.items():
        words = np.array([f"{name}_{k}" for k in range(cardinality)], dtype=object)
        picks = words[np.minimum(rng.zipf(1.3, rows) - 1, cardinality - 1)]
        mask = rng.random(rows) < 0.03
        columns[name] = pa.array(picks.tolist(), type=pa.string(), mask=mask)
    pq.write_table(pa.table(columns), path)


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def run(rows: int, repeat: int) -> dict[str, Any]:
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from modelyard.features.transform import TransformSpec, fit_transform

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.parquet"
        make_data(rows, path)
        spec = TransformSpec(numeric=NUMERIC, categorical=list(CATEGORICAL), max_categories=1000)
        read_arrow, table = timed(lambda: pq.read_table(path), repeat)
        read_pandas, frame = timed(lambda: pd.read_parquet(path), repeat)
        my_fit, fitted = timed(lambda: fit_transform(path, spec), repeat)
        my_apply, mine = timed(lambda: fitted.apply_batch(table), repeat)

        def sk_pipeline() -> ColumnTransformer:
            numbers = Pipeline([("impute", SimpleImputer(strategy="mean")), ("scale", StandardScaler())])
            words = Pipeline(
                [
                    ("impute", SimpleImputer(strategy="most_frequent")),
                    ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
                ]
            )
            return ColumnTransformer([("num", numbers, NUMERIC), ("cat", words, list(CATEGORICAL))])

        sk_fit, sk = timed(lambda: sk_pipeline().fit(frame), repeat)
        sk_apply, theirs = timed(lambda: sk.transform(frame), repeat)
    k = len(NUMERIC)
    present = ~np.isnan(frame[NUMERIC].to_numpy(dtype=np.float64))
    ours_std = np.array([np.std(mine[present[:, j], j]) for j in range(k)])
    their_std = np.array([np.std(theirs[present[:, j], j]) for j in range(k)])
    difference = float(np.max(np.abs(ours_std / their_std - 1.0)))
    figures = {
        "rows": rows,
        "repeat": repeat,
        "machine": machine(),
        "modelyard": {"fit": my_fit, "apply": my_apply, "read": read_arrow},
        "sklearn": {"fit": sk_fit, "apply": sk_apply, "read": read_pandas},
        "speedup_fit_apply": ratio(sk_fit + sk_apply, my_fit + my_apply),
        "speedup_with_read": ratio(read_pandas + sk_fit + sk_apply, my_fit + read_arrow + my_apply),
        "max_numeric_difference": difference,
        "features_out": {"modelyard": int(mine.shape[1]), "sklearn": int(theirs.shape[1])},
    }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100k rows, one round")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    rows, repeat = (100_000, 1) if args.quick else (args.rows, args.repeat)
    f = run(rows, repeat)
    if args.json:
        emit_json(f)
        return
    my, sk = f["modelyard"], f["sklearn"]
    table = [
        ["read Parquet", fmt_seconds(my["read"]), fmt_seconds(sk["read"]), fmt_ratio(ratio(sk["read"], my["read"]))],
        ["fit", fmt_seconds(my["fit"]), fmt_seconds(sk["fit"]), fmt_ratio(ratio(sk["fit"], my["fit"]))],
        ["apply (batch)", fmt_seconds(my["apply"]), fmt_seconds(sk["apply"]),
         fmt_ratio(ratio(sk["apply"], my["apply"]))],
        ["fit + apply", fmt_seconds(my["fit"] + my["apply"]), fmt_seconds(sk["fit"] + sk["apply"]),
         fmt_ratio(f["speedup_fit_apply"])],
        ["read + fit + apply", fmt_seconds(my["read"] + my["fit"] + my["apply"]),
         fmt_seconds(sk["read"] + sk["fit"] + sk["apply"]), fmt_ratio(f["speedup_with_read"])],
    ]  # fmt: skip
    print_table(
        f"Transform on {rows:,} rows, 8 numeric + 4 categorical columns (median of {repeat})",
        ["", "modelyard", "scikit-learn", "sklearn / modelyard"],
        table,
        notes=[
            "modelyard fits from the Parquet file (DuckDB, one pass); its read row is for the apply input only",
            f"z-scores differ by at most {f['max_numeric_difference']:.1%} in spread (std of present values vs "
            "std after imputation); "
            f"features out: modelyard {f['features_out']['modelyard']} (with OOV columns), "
            f"sklearn {f['features_out']['sklearn']}",
        ],
    )


if __name__ == "__main__":
    main()
