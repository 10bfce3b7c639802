"""The prediction log: every answered request (or a sample), written as Parquet files partitioned by hour, or
as rows of a database table (``--log-db``, see ``serve.predlog_sql``).

Why off the request path: the hot path only appends a tuple of objects it already holds to a list; a
background thread serializes and writes. Why many small files: each flush writes one complete file and
renames it into place, so a crash loses at most the requests since the last flush and never leaves a
half-written file that a reader would choke on. Why Hive-style partitions
(``model=NAME/date=YYYY-MM-DD/hour=HH/``): the monitor reads a time window of one model with DuckDB or
PyArrow without listing everything else. A database gets the same rows, one transaction per flush.

Inputs and outputs are stored as JSON text, so one table holds every model whatever its signature; the
monitor unpacks them with ``json_extract`` or ``json.loads``.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

from modelyard.errors import UsageError

COLUMNS = (
    "request_id", "time", "model", "version", "route", "protocol", "status", "latency_ms", "inputs", "outputs",
)  # fmt: skip


def log_schema(with_labels: bool = False) -> Any:
    """The Arrow schema of the log (and, ``with_labels``, of ``read_with_feedback``), whatever the storage."""
    import pyarrow as pa

    text, time = pa.string(), pa.timestamp("us", tz="UTC")
    fields = [("request_id", text), ("time", time), ("model", text), ("version", text), ("route", text),
              ("protocol", text), ("status", pa.int16()), ("latency_ms", pa.float64()), ("inputs", text),
              ("outputs", text)]  # fmt: skip
    if with_labels:
        fields += [("label", text), ("label_time", time)]
    return pa.schema(fields)


def as_json(value: Any) -> str:
    """A logged value as JSON text (numpy scalars as numbers, anything else unknown as its str)."""
    import orjson

    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY, default=str).decode()


def rows_table(rows: list[tuple[Any, ...]]) -> Any:
    """Buffered rows (in COLUMNS order, inputs and outputs still Python objects) as an Arrow table."""
    import pyarrow as pa

    columns = list(zip(*rows, strict=True))
    columns[8] = tuple(as_json(v) for v in columns[8])
    columns[9] = tuple(as_json(v) for v in columns[9])
    schema = log_schema()
    return pa.table([pa.array(column, field.type) for column, field in zip(columns, schema, strict=True)],
                    schema=schema)  # fmt: skip


class PredictionLog:
    """Buffers log rows in memory and writes them every ``flush_seconds`` (and on ``close``): as Parquet under
    ``folder``, or into the ``prediction_log`` table of the database at ``database`` (a SQLAlchemy URL)."""

    def __init__(
        self, folder: Path | None = None, *, database: str | None = None, sample: float = 1.0,
        flush_seconds: float = 1.0,
    ) -> None:  # fmt: skip
        if (folder is None) == (database is None):
            raise UsageError(
                "a prediction log is written to a folder or to a database: give exactly one",
                hint="yard serve takes --log-dir or --log-db, not both",
            )
        self.folder = Path(folder) if folder is not None else None
        self.database_url = database
        self.sample = sample
        self.flush_seconds = flush_seconds
        self._rows: list[tuple[Any, ...]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sequence = 0
        self._database: Any = None

    @property
    def database(self) -> Any:
        """The PredictionDatabase of a database log (opened on first use, tables created if absent)."""
        if self._database is None and self.database_url is not None:
            self._database = self._open_database(self.database_url)
        return self._database

    @staticmethod
    def _open_database(url: str) -> Any:
        from modelyard.serve.predlog_sql import PredictionDatabase

        return PredictionDatabase.open(url)

    def start(self) -> None:
        """Open the database (a log that cannot be written fails the start, not every flush) and start the
        thread that writes."""
        if self.database_url is not None and self._database is None:  # once, before thread and handlers share it
            self._database = self._open_database(self.database_url)
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
            try:
                self.flush()
            except Exception as exc:  # a database hiccup must not end the log; the rows are lost, say so
                print(f"modelyard: prediction log write failed: {type(exc).__name__}: {exc}", file=sys.stderr)

    def flush(self) -> int:
        """Write what is buffered; returns the number of rows written."""
        with self._lock:
            rows, self._rows = self._rows, []
        if not rows:
            return 0
        if self.folder is None:
            self.database.insert_predictions(rows_table(rows))
            return len(rows)
        groups: dict[tuple[str, str, int], list[tuple[Any, ...]]] = {}
        for row in rows:
            when = row[1]
            groups.setdefault((row[2], when.strftime("%Y-%m-%d"), when.hour), []).append(row)
        for (model, date, hour), part in groups.items():
            self._write(self.folder / f"model={model}" / f"date={date}" / f"hour={hour:02d}", part)
        return len(rows)

    def _write(self, folder: Path, rows: list[tuple[Any, ...]]) -> None:
        import pyarrow.parquet as pq

        table = rows_table(rows)
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
        try:
            self.flush()
        finally:
            if self._database is not None:
                self._database.close()
