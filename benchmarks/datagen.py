"""The data the data-validation benchmark reads: seeded, wide, messy tabular data as CSV and Parquet.

Why generate rather than download: the figures must be reproducible on any machine with no network, and
the data must have the shapes that make validation slow or fast in practice: ~30 columns mixing floats,
integers, a flag, low-cardinality categories and high-cardinality strings (identifiers, zip codes, free
keys), with nulls in some columns. The same seed gives byte-identical files, so a cached file is reused
rather than written again, and a file written on another day is the same file.

A ``drifted`` dataset is the same generator with a few deliberate changes (a shifted mean, a wider spread,
a new category, more nulls), so a drift report between the two has something to find and does not stop
early on an all-clear.

Rows are produced in chunks of at most 500,000 and appended to both files, so writing ten million rows
needs the memory of one chunk, not of the whole table.

Example (from the repository root):
    .venv/bin/python benchmarks/datagen.py --rows 1000000            # benchmarks/.data/base-1000000-s0.{csv,parquet}
    .venv/bin/python benchmarks/datagen.py --rows 100000 --drifted --seed 1
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / ".data"
CHUNK_ROWS = 500_000
#: Bumped whenever the generator's output changes, so that stale cached files are not measured.
GENERATOR_VERSION = 1

#: The columns whose distribution the drifted variant changes (weight_kg: only its share of nulls).
PLANTED_DRIFT = ("score", "latency_ms", "feature_d", "visits", "is_member", "color", "weight_kg")

_COLORS = ["red", "green", "blue", "yellow", "black", "white", "orange", "purple"]
_COUNTRIES = [f"C{i:02d}" for i in range(40)]
_DEVICES = ["ios", "android", "web", "tv"]
_PLANS = ["free", "basic", "pro", "team", "enterprise"]
_SEGMENTS = [f"segment_{i}" for i in range(12)]
_CHANNELS = ["email", "search", "social", "direct", "referral", "display"]
_BROWSERS = ["chrome", "firefox", "safari", "edge", "opera", "other"]
_CITIES = [f"city_{i:03d}" for i in range(300)]


@dataclass(frozen=True)
class Dataset:
    """Where one generated dataset lives; both files always hold the same rows."""

    rows: int
    seed: int
    drifted: bool
    csv: Path
    parquet: Path


def dataset_paths(rows: int, seed: int, drifted: bool, data_dir: Path = DATA_DIR) -> Dataset:
    stem = f"{'drifted' if drifted else 'base'}-{rows}-s{seed}-v{GENERATOR_VERSION}"
    return Dataset(rows, seed, drifted, data_dir / f"{stem}.csv", data_dir / f"{stem}.parquet")


def _with_nulls(values: Any, rng: Any, fraction: float) -> Any:
    """A pyarrow array of ``values`` with about ``fraction`` of its entries null."""
    import pyarrow as pa

    if fraction <= 0:
        return pa.array(values)
    return pa.array(values, mask=rng.random(len(values)) < fraction)


def _choice(rng: Any, options: list[str], n: int, skew: float) -> Any:
    """Categories drawn with a Zipf-like skew (a few common values, a long tail), as real categories are."""
    import numpy as np
    import pyarrow as pa

    weights = 1.0 / np.arange(1, len(options) + 1) ** skew
    index = rng.choice(len(options), size=n, p=weights / weights.sum())
    return pa.DictionaryArray.from_arrays(pa.array(index, pa.int32()), pa.array(options)).cast(pa.string())


def _prefixed(prefix: str, numbers: Any, mask: Any = None) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.binary_join_element_wise(pa.scalar(prefix), pa.array(numbers).cast(pa.string()), "")
    return text if mask is None else pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), text)


def make_chunk(rng: Any, start: int, n: int, *, drifted: bool) -> Any:
    """One chunk of rows as a pyarrow Table; ``start`` is the first row's id."""
    import numpy as np
    import pyarrow as pa

    shift = 0.5 if drifted else 0.0
    cols: dict[str, Any] = {"row_id": pa.array(np.arange(start, start + n, dtype=np.int64))}
    # Floats: different shapes so histograms and quantiles have work to do; some with nulls.
    cols["amount"] = _with_nulls(np.round(rng.lognormal(3.0, 1.0, n), 2), rng, 0.02)
    cols["score"] = pa.array(rng.normal(0.0 + shift, 1.0, n))
    cols["ratio"] = pa.array(rng.uniform(0.0, 1.0, n))
    cols["latency_ms"] = _with_nulls(rng.gamma(2.0, 30.0 * (1.5 if drifted else 1.0), n), rng, 0.01)
    cols["temperature"] = pa.array(np.round(rng.normal(20.0, 8.0, n), 1))
    cols["balance"] = _with_nulls(np.round(rng.normal(1_000.0, 5_000.0, n), 2), rng, 0.05)
    cols["discount"] = pa.array(np.where(rng.random(n) < 0.7, 0.0, np.round(rng.uniform(0, 0.5, n), 2)))
    cols["lat"] = pa.array(rng.uniform(-90.0, 90.0, n))
    cols["lon"] = pa.array(rng.uniform(-180.0, 180.0, n))
    cols["weight_kg"] = _with_nulls(np.round(rng.normal(70.0, 15.0, n), 1), rng, 0.10 if drifted else 0.03)
    cols["feature_a"] = pa.array(rng.standard_t(5, n))
    cols["feature_b"] = pa.array(rng.exponential(2.0, n))
    cols["feature_c"] = _with_nulls(rng.beta(2.0, 5.0, n), rng, 0.01)
    cols["feature_d"] = pa.array(rng.normal(100.0, 10.0 + (5.0 if drifted else 0.0), n))
    # Integers.
    cols["age"] = _with_nulls(rng.integers(18, 90, n), rng, 0.02)
    cols["visits"] = pa.array(rng.poisson(3.0 + shift, n))
    cols["items"] = pa.array(rng.integers(0, 20, n))
    cols["year"] = pa.array(rng.integers(2000, 2025, n))
    # A flag, as the literal words true/false in CSV.
    cols["is_member"] = pa.array(rng.random(n) < (0.45 if drifted else 0.3))
    # Low-cardinality categories.
    colors = _COLORS + (["magenta"] if drifted else [])  # a new category appears in drifted data
    cols["color"] = _choice(rng, colors, n, 0.8)
    cols["country"] = _choice(rng, _COUNTRIES, n, 1.1)
    cols["device"] = _choice(rng, _DEVICES, n, 0.5)
    cols["plan"] = _choice(rng, _PLANS, n, 1.0)
    cols["segment"] = _choice(rng, _SEGMENTS, n, 0.3)
    cols["channel"] = _with_nulls(_choice(rng, _CHANNELS, n, 0.7).to_numpy(zero_copy_only=False), rng, 0.04)
    cols["browser"] = _choice(rng, _BROWSERS, n, 1.2)
    cols["city"] = _choice(rng, _CITIES, n, 0.9)
    # High-cardinality strings: a user key (hundreds of thousands of values), zip codes, a unique order key.
    cols["user_key"] = _prefixed("u", rng.integers(0, 400_000, n))
    cols["zip"] = _prefixed("Z", rng.integers(10_000, 99_999, n), rng.random(n) < 0.03)
    cols["order_key"] = _prefixed(f"o{'d' if drifted else 'b'}", np.arange(start, start + n, dtype=np.int64))
    return pa.table(cols)


def generate(rows: int, seed: int = 0, *, drifted: bool = False, data_dir: Path = DATA_DIR) -> Dataset:
    """Write (or reuse) the CSV and Parquet files of one dataset and say where they are.

    Files are written under a temporary name and renamed when complete, so an interrupted run never
    leaves a half file that a later run would take for a finished one.
    """
    import numpy as np
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if rows < 1:
        raise SystemExit(f"rows must be at least 1, got {rows}")
    target = dataset_paths(rows, seed, drifted, data_dir)
    if target.csv.exists() and target.parquet.exists():
        return target
    data_dir.mkdir(parents=True, exist_ok=True)
    ignore = data_dir / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# generated benchmark data: large and reproducible from benchmarks/datagen.py\n*\n")
    rng = np.random.default_rng([seed, int(drifted), GENERATOR_VERSION])
    csv_tmp = target.csv.with_suffix(".csv.partial")
    parquet_tmp = target.parquet.with_suffix(".parquet.partial")
    csv_writer = parquet_writer = None
    try:
        for start in range(0, rows, CHUNK_ROWS):
            chunk = make_chunk(rng, start, min(CHUNK_ROWS, rows - start), drifted=drifted)
            if csv_writer is None:
                csv_writer = pacsv.CSVWriter(
                    str(csv_tmp), chunk.schema, write_options=pacsv.WriteOptions(quoting_style="needed")
                )
                parquet_writer = pq.ParquetWriter(str(parquet_tmp), chunk.schema, compression="snappy")
            csv_writer.write_table(chunk)
            parquet_writer.write_table(chunk, row_group_size=122_880)
    finally:
        if csv_writer is not None:
            csv_writer.close()
        if parquet_writer is not None:
            parquet_writer.close()
    csv_tmp.replace(target.csv)
    parquet_tmp.replace(target.parquet)
    return target


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="how many rows (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=0, help="the random seed (default 0)")
    parser.add_argument("--drifted", action="store_true", help="write the drifted variant of the data")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help=f"where to write (default {DATA_DIR})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    dataset = generate(args.rows, args.seed, drifted=args.drifted, data_dir=args.data_dir)
    seconds = time.perf_counter() - started
    for path in (dataset.csv, dataset.parquet):
        print(f"{path}  {path.stat().st_size / 1e6:,.1f} MB", file=sys.stdout)
    print(f"({seconds:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
