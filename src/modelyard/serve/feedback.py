"""Ground-truth labels posted after the fact, stored beside the prediction log, and the reader that joins them.

Why a folder of its own (``.modelyard/feedback`` beside ``.modelyard/predictions``) and not rows in the log:
the log's files are immutable once flushed, and a reader that opens the log folder as one dataset must not
meet files of another schema. Why written before the answer: a 200 to ``POST .../feedback`` means the labels
are on disk; labels are rare next to predictions, so one small Parquet file per request is affordable.

The join is the monitor's entry point: each logged prediction with the latest label posted for its request
id (a label can be corrected by posting it again), or null when none came yet.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path
from typing import Any

from modelyard.errors import ValidationFailed
from modelyard.serve.status import BadRequest


def feedback_folder(feedback_dir: str | None, log_dir: str | None) -> Path:
    """Where labels go: the configured folder, else ``feedback`` beside the prediction log folder."""
    if feedback_dir:
        return Path(feedback_dir)
    if log_dir:
        return Path(log_dir).parent / "feedback"
    raise BadRequest(
        "this server keeps no prediction log, so feedback has nothing to join",
        hint="start yard serve in a project, or with --log-dir",
    )


def parse_feedback(body: Any) -> list[tuple[str, Any]]:
    """(request_id, label) pairs from ``{request_id, label}``, a list of them, or ``{"feedback": [...]}``."""
    items = body.get("feedback", body) if isinstance(body, dict) else body
    items = [items] if isinstance(items, dict) else items
    if not isinstance(items, list) or not items:
        raise BadRequest(
            "feedback is an object {request_id, label} or a non-empty list of them",
            hint='send {"request_id": "<the x-request-id of the prediction>", "label": "Adelie"}',
        )
    pairs, problems = [], []
    for i, item in enumerate(items):
        where = f"feedback[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: expected an object, got {type(item).__name__}")
            continue
        request_id, label = item.get("request_id"), item.get("label")
        if not isinstance(request_id, str) or not request_id:
            problems.append(f"{where}.request_id: missing or not a non-empty string")
        if "label" not in item or label is None or isinstance(label, dict | list):
            problems.append(f"{where}.label: missing, null or not a single value")
        if isinstance(request_id, str) and request_id and label is not None and not isinstance(label, dict | list):
            pairs.append((request_id, label))
    if problems:
        raise ValidationFailed(f"{len(problems)} problem(s) in the feedback", problems=problems)
    return pairs


def write_feedback(folder: Path, model: str, pairs: list[tuple[str, Any]]) -> Path:
    """One Parquet file (``model=NAME/date=.../part-*.parquet``), renamed into place once complete."""
    import orjson
    import pyarrow as pa
    import pyarrow.parquet as pq

    now = dt.datetime.now(dt.UTC)
    table = pa.table({
        "request_id": pa.array([p[0] for p in pairs], pa.string()),
        "model": pa.array([model] * len(pairs), pa.string()),
        "label": pa.array([orjson.dumps(p[1]).decode() for p in pairs], pa.string()),
        "time": pa.array([now] * len(pairs), pa.timestamp("us", tz="UTC")),
    })  # fmt: skip
    target = Path(folder) / f"model={model}" / f"date={now:%Y-%m-%d}"
    target.mkdir(parents=True, exist_ok=True)
    name = f"part-{now:%Y%m%dT%H%M%S%f}-{os.getpid()}-{uuid.uuid4().hex[:8]}.parquet"
    tmp = target / f".{name}.tmp"
    pq.write_table(table, tmp)
    os.replace(tmp, target / name)
    return target / name


def is_database_url(location: str | Path) -> bool:
    """A log location given as a SQLAlchemy URL (``sqlite:///log.db``, ``postgresql+psycopg://...``)."""
    return isinstance(location, str) and "://" in location


def read_with_feedback(predictions: str | Path, feedback: str | Path | None = None, model: str | None = None) -> Any:
    """The prediction log (of one model, or all) as a PyArrow table with ``label`` (JSON text, the latest
    posted) and ``label_time`` columns, null where no label came yet; oldest prediction first.

    ``predictions`` is the log folder (then ``feedback`` is the labels folder, by default ``feedback`` beside
    it) or the database URL given to ``yard serve --log-db`` (the labels are in the same database). Either
    way the table has the schema ``predlog.log_schema(with_labels=True)``, also when it is empty."""
    if is_database_url(predictions):
        from modelyard.serve.predlog_sql import read_with_feedback_db

        return read_with_feedback_db(str(predictions), model)
    import duckdb

    from modelyard.serve.predlog import log_schema

    schema = log_schema(with_labels=True)
    feedback = Path(feedback) if feedback is not None else Path(predictions).parent / "feedback"
    part = f"model={model}" if model else "model=*"
    logged = sorted(Path(predictions).glob(f"{part}/**/*.parquet"))
    labels = sorted(Path(feedback).glob(f"{part}/**/*.parquet"))
    if not logged:
        return schema.empty_table()
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")  # timestamps come back as UTC whatever the machine's zone
        query = "SELECT * FROM read_parquet($logged, hive_partitioning = false)"
        params: dict[str, Any] = {"logged": [str(f) for f in logged]}
        if labels:
            query = f"""
                WITH latest AS (
                    SELECT request_id, model, arg_max(label, time) AS label, max(time) AS label_time
                    FROM read_parquet($labels, hive_partitioning = false) GROUP BY request_id, model)
                SELECT p.*, latest.label, latest.label_time
                FROM ({query}) AS p LEFT JOIN latest USING (request_id, model)
                ORDER BY p.time"""
            params["labels"] = [str(f) for f in labels]
        else:
            query = f"SELECT *, NULL::VARCHAR AS label, NULL::TIMESTAMPTZ AS label_time FROM ({query}) ORDER BY time"
        return con.sql(query, params=params).to_arrow_table().select(schema.names).cast(schema)
    finally:
        con.close()
