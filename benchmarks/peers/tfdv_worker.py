"""The TFDV side of benchmarks/data_validation.py: statistics, schema inference and validation of one file.

Runs inside benchmarks/peers/.venv-tfdv (TensorFlow and Apache Beam never enter the project's venv).
Work comes in through argv, figures go out as one JSON line on stdout. Two modes, the two ways TFDV
reads data:

- ``csv``: ``generate_statistics_from_csv`` (a Beam pipeline on the DirectRunner, TFDV's default) on
  the file, then ``infer_schema`` and ``validate_statistics``: like for like with modelyard on a CSV.
- ``dataframe``: the file read into pandas first (timed on its own), then
  ``generate_statistics_from_dataframe``, TFDV's in-process path that skips Beam and is its fastest.

Peak memory is this process's high-water mark plus that of any child process Beam may have started.

Usage:
    .venv-tfdv/bin/python tfdv_worker.py csv data.csv
    .venv-tfdv/bin/python tfdv_worker.py dataframe data.parquet
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path
from memory import peak_mb as _peak_mb
from memory import rss_mb as _rss_mb

_STARTED = time.perf_counter()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["csv", "dataframe"])
    parser.add_argument("data", type=Path)
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow_data_validation as tfdv

    imported = time.perf_counter()
    rss_after_import = _rss_mb()
    load_seconds = 0.0
    if args.mode == "csv":
        with tempfile.TemporaryDirectory(prefix="tfdv-bench-") as tmp:
            stats = tfdv.generate_statistics_from_csv(str(args.data), output_path=str(Path(tmp) / "stats.tfrecord"))
    else:
        import pandas as pd

        frame = pd.read_parquet(args.data) if args.data.suffix == ".parquet" else pd.read_csv(args.data)
        load_seconds = time.perf_counter() - imported
        stats = tfdv.generate_statistics_from_dataframe(frame)
    computed = time.perf_counter()
    schema = tfdv.infer_schema(stats)
    inferred = time.perf_counter()
    anomalies = tfdv.validate_statistics(stats, schema)
    done = time.perf_counter()
    dataset = stats.datasets[0]
    print(
        json.dumps(
            {
                "version": tfdv.__version__,
                "mode": args.mode,
                "rows": int(dataset.num_examples),
                "columns": len(dataset.features),
                "import_seconds": imported - _STARTED,
                "load_seconds": load_seconds,
                "statistics_seconds": computed - imported - load_seconds,
                "schema_seconds": inferred - computed,
                "validate_seconds": done - inferred,
                "work_seconds": done - imported,
                "peak_rss_mb": _peak_mb(),
                "rss_after_import_mb": rss_after_import,
                "anomalies": len(anomalies.anomaly_info),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
