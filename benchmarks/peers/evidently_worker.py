"""The Evidently side of benchmarks/data_validation.py: a data drift report on a reference/current pair.

Runs inside benchmarks/peers/.venv-evidently (Evidently never enters the project's venv). Work comes in
through argv, figures go out as one JSON line on stdout. The clock is split the way a user's job splits:
importing Evidently, reading the two files into pandas (Evidently takes DataFrames, not files), and the
report itself; the parent adds them up for the like-for-like figure, since modelyard reads the files
itself. Peak memory is this process's high-water mark (ru_maxrss).

Usage:
    .venv-evidently/bin/python evidently_worker.py --reference ref.parquet --current cur.parquet
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path
from memory import peak_mb as _peak_mb
from memory import rss_mb as _rss_mb

_STARTED = time.perf_counter()


def _read(path: Path):  # -> pandas.DataFrame
    import pandas as pd

    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path)


def _drifted_columns(snapshot) -> tuple[int | None, list[str]]:
    """How many columns the report calls drifted, and which, read from the snapshot's own result dict.

    The layout of Evidently's result dict changes between releases, so this looks for the per-column
    ``ValueDrift`` metrics and their threshold rather than a fixed path; anything it cannot read is None.
    """
    data = snapshot.dict()
    drifted: list[str] = []
    seen = 0
    for metric in data.get("metrics", []):
        name = str(metric.get("metric_name", metric.get("metric_id", "")))
        if not name.startswith("ValueDrift"):
            continue
        config = metric.get("config", {})
        value = metric.get("value")
        threshold = config.get("threshold")
        column = config.get("column", name)
        if not isinstance(value, int | float) or threshold is None:
            continue
        seen += 1
        method = str(config.get("method", ""))
        # p-value tests drift below the threshold; distances (Wasserstein, Jensen-Shannon, PSI) above it.
        is_p_value = "p_value" in method or "test" in method.lower()
        if (value < threshold) if is_p_value else (value >= threshold):
            drifted.append(column)
    return (seen or None), drifted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", type=Path, required=True)
    parser.add_argument("--current", type=Path, required=True)
    args = parser.parse_args()

    import evidently
    from evidently import Report
    from evidently.presets import DataDriftPreset

    imported = time.perf_counter()
    rss_after_import = _rss_mb()
    reference = _read(args.reference)
    current = _read(args.current)
    loaded = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
    checked, drifted = _drifted_columns(snapshot)
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "version": evidently.__version__,
                "rows": [len(reference), len(current)],
                "columns": len(current.columns),
                "import_seconds": imported - _STARTED,
                "load_seconds": loaded - imported,
                "report_seconds": done - loaded,
                "work_seconds": done - imported,
                "peak_rss_mb": _peak_mb(),
                "rss_after_import_mb": rss_after_import,
                "columns_checked": checked,
                "drifted_columns": drifted,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
