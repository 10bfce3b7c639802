"""The prediction log: every answered request (or a sample), written as Parquet files partitioned by hour.

Why off the request path: the hot path only appends a tuple of objects it already holds to a list; a
background thread serializes and writes. Why many small files: each flush writes one complete file and
renames it into place, so a crash loses at most the requests since the last flush and never leaves a
half-written file that a reader would choke on. Why Hive-style partitions
(``model=NAME/date=YYYY-MM-DD/hour=HH/``): the monitor reads a time window of one model with DuckDB or
PyArrow without listing everything else.

Inputs and outputs are stored as JSON text, so one table holds every model whatever its signature; the
monitor unpacks them with ``json_extract`` or ``json.loads``.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import threading
import uuid
from pathlib import Path
from typing import Any

COLUMNS = (
    "request_id", "time", "model", "version", "route", "protocol", "status", "latency_ms", "inputs", "outputs",
)  # fmt: skip


class PredictionLog:
    """Buffers log rows in memory and writes them every ``flush_seconds`` (and on ``close``)."""

    def __init__(self, folder: Path, *, sample: float = 1.0, flush_seconds: float = 1.0) -> None:
        self.folder = Path(folder)
        self.sample = sample
        self.flush_seconds = flush_seconds
        self._rows: list[tuple[Any, ...]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sequence = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="modelyard-prediction-log", daemon=True)
        self._thread.start()

    def record(self, request_id: str, model: str, version: str, route: str, protocol: str, status: int,
               latency_s: float, inputs: Any, outputs: Any) -> None:  # fmt: skip
        """Called on the request path: decide the sample and append; nothing is serialized here."""
        if self.sample < 1.0 and random.random() >= self.sample:
            return
        row = (request_id, dt.datetime.now(dt.UTC), model, version, route, protocol, status, latency_s * 1000,
               inputs, outputs)  # fmt: skip
        with self._lock:
            self._rows.append(row)

    def _loop(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            self.flush()

    def flush(self) -> int:
        """Write what is buffered; returns the number of rows written."""
        with self._lock:
            rows, self._rows = self._rows, []
        if not rows:
            return 0
        groups: dict[tuple[str, str, int], list[tuple[Any, ...]]] = {}
        for row in rows:
            when = row[1]
            groups.setdefault((row[2], when.strftime("%Y-%m-%d"), when.hour), []).append(row)
        for (model, date, hour), part in groups.items():
            self._write(self.folder / f"model={model}" / f"date={date}" / f"hour={hour:02d}", part)
        return len(rows)

    def _write(self, folder: Path, rows: list[tuple[Any, ...]]) -> None:
        import orjson
        import pyarrow as pa
        import pyarrow.parquet as pq

        def as_json(value: Any) -> str:
            return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY, default=str).decode()

        columns = list(zip(*rows, strict=True))
        table = pa.table({
            "request_id": pa.array(columns[0], pa.string()),
            "time": pa.array(columns[1], pa.timestamp("us", tz="UTC")),
            "model": pa.array(columns[2], pa.string()),
            "version": pa.array(columns[3], pa.string()),
            "route": pa.array(columns[4], pa.string()),
            "protocol": pa.array(columns[5], pa.string()),
            "status": pa.array(columns[6], pa.int16()),
            "latency_ms": pa.array(columns[7], pa.float64()),
            "inputs": pa.array([as_json(v) for v in columns[8]], pa.string()),
            "outputs": pa.array([as_json(v) for v in columns[9]], pa.string()),
        })  # fmt: skip
        folder.mkdir(parents=True, exist_ok=True)
        self._sequence += 1
        name = f"part-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}-{os.getpid()}-{self._sequence}-{uuid.uuid4().hex[:6]}"
        tmp = folder / f".{name}.tmp"
        pq.write_table(table, tmp)
        os.replace(tmp, folder / f"{name}.parquet")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()
