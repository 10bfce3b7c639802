"""Reading the prediction log of one model as rows of raw inputs, predictions and labels, cut into windows.

Why DuckDB over the Parquet files: the log holds each request's records and outputs as JSON text (one
table for every model, whatever its signature), and a million logged rows must be unpacked without a
Python loop. ``from_json`` with the model's signature as the structure and ``unnest`` turn the text into
typed columns in C++; the window is then written as a Parquet file, which is both what the statistics
engine reads and the recorded "log window" artifact a retrain can train on.

What counts as traffic: answered requests (status 200) of the primary and canary routes. Shadow answers
mirror requests already counted, and refused requests (4xx) carry inputs the model never saw.

A label posted by request id (``POST .../feedback``) belongs to a one-record request; for a request with
several records it is ambiguous and left out.

Windows: ``1h``/``15m``/``30s``/``1d`` cut the log at multiples of the duration (so the same hour is the
same window whoever asks); a plain number (``10000``) cuts it every that many rows in time order. A
window is complete when its end has passed (durations) or it holds its full count (rows); the monitor
judges complete windows only, so a window is never judged on half its data.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelyard.errors import UsageError

_DURATION = re.compile(r"^(\d+)\s*(s|m|h|d)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SQL_TYPES = {"int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN"}
TRAFFIC_ROUTES = ("primary", "canary")


@dataclass(frozen=True)
class WindowSpec:
    """How the log is cut: every ``seconds`` of wall time, or every ``rows`` rows."""

    seconds: int | None = None
    rows: int | None = None

    @classmethod
    def parse(cls, text: str | int) -> WindowSpec:
        value = str(text).strip().lower().removesuffix("rows").strip()
        if value.isdigit():
            if int(value) < 1:
                raise UsageError("a window needs at least one row", hint="e.g. --window 10000 or --window 1h")
            return cls(rows=int(value))
        found = _DURATION.match(value)
        if not found or int(found.group(1)) < 1:
            raise UsageError(
                f"cannot read the window '{text}'",
                hint="a duration (30s, 15m, 1h, 1d) or a number of rows (10000)",
            )
        return cls(seconds=int(found.group(1)) * _UNITS[found.group(2)])

    def describe(self) -> str:
        if self.rows is not None:
            return f"{self.rows} rows"
        seconds = self.seconds or 0
        for unit in ("d", "h", "m"):
            if seconds % _UNITS[unit] == 0:
                return f"{seconds // _UNITS[unit]}{unit}"
        return f"{seconds}s"


@dataclass(frozen=True)
class LogWindow:
    """One window of decoded traffic: its bounds, its rows (a Parquet file) and what is in it."""

    index: int
    start: dt.datetime
    end: dt.datetime
    rows: int
    labelled: int
    versions: dict[str, int]  # version -> rows it answered
    path: Path  # the window's rows: request_id, time, version, route, <inputs...>, prediction, label
    complete: bool

    @property
    def inputs_path(self) -> Path:
        """The same rows, the model's input columns only."""
        return self.path.with_suffix(".inputs.parquet")

    @property
    def key(self) -> str:
        """Stable name of the window: its first and last instant."""
        return f"{self.start.isoformat(timespec='microseconds')}/{self.end.isoformat(timespec='microseconds')}"

    @property
    def main_version(self) -> str:
        return max(self.versions.items(), key=lambda item: (item[1], item[0]))[0] if self.versions else ""


def _struct(inputs: list[dict[str, Any]]) -> str:
    return json.dumps({column["name"]: _SQL_TYPES.get(column.get("type", ""), "VARCHAR") for column in inputs})


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _files(folder: Path, model: str, since: dt.datetime | None = None) -> list[str]:
    """The model's Parquet files; with ``since``, only those of hour partitions that end after it."""
    found = sorted((Path(folder) / f"model={model}").glob("**/*.parquet"))
    if since is None:
        return [str(p) for p in found]
    floor = since.astimezone(dt.UTC).strftime("%Y-%m-%d/%H")
    kept = []
    for path in found:
        date = next((part[5:] for part in path.parts if part.startswith("date=")), None)
        hour = next((part[5:] for part in path.parts if part.startswith("hour=")), None)
        if date is None or hour is None or f"{date}/{hour}" >= floor:
            kept.append(str(path))
    return kept


def decode_log(
    con: Any,
    predictions: Path | str,
    feedback: Path,
    model: str,
    signature: dict[str, Any],
    label: str | None,
    *,
    after: dt.datetime | None = None,
    inclusive: bool = False,
) -> int:
    """Create the DuckDB table ``traffic`` (one row per record, time-ordered); returns its row count.

    ``predictions`` is the log folder, or the database URL of a server started with ``--log-db`` (then the
    labels come from the same database). With ``after``, only traffic logged after that instant (at or after
    it when ``inclusive``): a monitor that has judged the log up to some point reads only the hour
    partitions since, so a tick costs what is new, not the whole history."""
    inputs = signature.get("inputs", [])
    if not inputs:
        raise UsageError(f"model '{model}' has no input signature: nothing to monitor")
    if not _register_log(con, predictions, feedback, model, after):
        con.execute("CREATE OR REPLACE TABLE traffic AS SELECT NULL::VARCHAR AS request_id WHERE false")
        return 0
    output_type = next((o.get("type") for o in signature.get("outputs", [])), "string")
    name = _literal(label or "")
    columns = ", ".join(f"r.{_quote(c['name'])} AS {_quote(c['name'])}" for c in inputs)
    numeric = output_type in ("int", "float")
    cast = "TRY_CAST({} AS DOUBLE)" if numeric else "{}"
    label_value = "json_extract_string(label_json, '$')"
    if numeric:
        label_value = f"TRY_CAST({label_value} AS DOUBLE)"
    since = ""
    if after is not None:
        stamp = after.astimezone(dt.UTC).isoformat()
        since = f"AND time {'>=' if inclusive else '>'} {_literal(stamp)}::TIMESTAMPTZ"
    con.execute(f"""
        CREATE OR REPLACE TABLE traffic AS
        WITH log AS (
            SELECT request_id, time, version, route, inputs, outputs, label_json
            FROM raw_log
            WHERE status = 200 AND route IN ('primary', 'canary') {since}),
        decoded AS (
            SELECT request_id, time, version, route, label_json,
                   json_array_length(inputs) AS n,
                   unnest(from_json(inputs, {_literal("[" + _struct(inputs) + "]")})) AS r,
                   unnest(CASE WHEN json_type(outputs, '$[0]') = 'OBJECT'
                       THEN from_json(json_extract(list_filter(from_json(outputs, '["JSON"]'),
                                lambda x: json_extract_string(x, '$.name') = {name})[1], '$.data'), '["VARCHAR"]')
                       ELSE from_json(outputs, '["VARCHAR"]') END) AS p
            FROM log)
        SELECT request_id, time, version, route, {columns}, {cast.format("p")} AS prediction,
               CASE WHEN n = 1 THEN {label_value} END AS label,
               row_number() OVER (ORDER BY time, request_id) AS seq
        FROM decoded
        ORDER BY seq""")
    return int(con.execute("SELECT count(*) FROM traffic").fetchone()[0])


def _register_log(con: Any, predictions: Path | str, feedback: Path, model: str, after: dt.datetime | None) -> bool:
    """The view ``raw_log``: the log's columns plus ``label_json`` (the latest label posted); False when empty."""
    from modelyard.serve.feedback import is_database_url

    if is_database_url(predictions):
        from modelyard.serve.predlog_sql import read_with_feedback_db

        table = read_with_feedback_db(str(predictions), model)
        if not table.num_rows:
            return False
        con.register("log_table", table)
        con.execute("CREATE OR REPLACE VIEW raw_log AS SELECT * EXCLUDE (label), label AS label_json FROM log_table")
        return True
    logged = _files(Path(predictions), model, after)
    if not logged:
        return False
    labels = _files(feedback, model)
    table = f"read_parquet({_literal_list(logged)}, hive_partitioning = false)"
    if labels:
        latest = f"""(SELECT request_id, arg_max(label, time) AS label_json
                      FROM read_parquet({_literal_list(labels)}, hive_partitioning = false) GROUP BY request_id)"""
        con.execute(f"CREATE OR REPLACE VIEW raw_log AS SELECT * FROM {table} LEFT JOIN {latest} USING (request_id)")
    else:
        con.execute(f"CREATE OR REPLACE VIEW raw_log AS SELECT *, NULL::VARCHAR AS label_json FROM {table}")
    return True


def _literal_list(paths: list[str]) -> str:
    return "[" + ", ".join(_literal(p) for p in paths) + "]"


def cut_windows(
    con: Any,
    spec: WindowSpec,
    folder: Path,
    inputs: list[str],
    *,
    now: dt.datetime | None = None,
    first_index: int = 0,
) -> list[LogWindow]:
    """Cut the ``traffic`` table into windows: ``window-NNNN.parquet`` (every column) and
    ``window-NNNN.inputs.parquet`` (the model's inputs only, what the statistics read)."""
    now = now or dt.datetime.now(dt.UTC)
    bucket = f"(seq - 1) // {spec.rows}" if spec.rows is not None else f"floor(epoch(time) / {spec.seconds})::BIGINT"
    summary = con.execute(f"""
        SELECT {bucket} AS w, min(time), max(time), count(*), count(label)
        FROM traffic GROUP BY w ORDER BY w""").fetchall()
    versions: dict[int, dict[str, int]] = {}
    for w, version, count in con.execute(
        f"SELECT {bucket} AS w, version, count(*) FROM traffic GROUP BY ALL"
    ).fetchall():
        versions.setdefault(int(w), {})[str(version)] = int(count)
    folder.mkdir(parents=True, exist_ok=True)
    columns = ", ".join(_quote(c) for c in inputs)
    windows = []
    for index, (w, first, last, rows, labelled) in enumerate(summary, start=first_index):
        if spec.rows is not None:
            start, end, complete = first, last, rows >= spec.rows
            where = f"seq > {int(w) * spec.rows} AND seq <= {(int(w) + 1) * spec.rows}"
        else:
            start = dt.datetime.fromtimestamp(int(w) * (spec.seconds or 1), dt.UTC)
            end = start + dt.timedelta(seconds=spec.seconds or 0)
            complete = end <= now
            where = f"{bucket} = {int(w)}"
        path = folder / f"window-{index:04d}.parquet"
        con.execute(
            f"COPY (SELECT * EXCLUDE (seq) FROM traffic WHERE {where}) TO {_literal(str(path))} (FORMAT parquet)"
        )
        inputs_path = path.with_suffix(".inputs.parquet")
        con.execute(
            f"COPY (SELECT {columns} FROM traffic WHERE {where}) TO {_literal(str(inputs_path))} (FORMAT parquet)"
        )
        windows.append(LogWindow(index, _utc(start), _utc(end), int(rows), int(labelled), versions.get(int(w), {}),
                                 path, complete))  # fmt: skip
    return windows


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def read_windows(
    predictions: Path,
    feedback: Path,
    model: str,
    signature: dict[str, Any],
    label: str | None,
    spec: WindowSpec,
    folder: Path,
    *,
    now: dt.datetime | None = None,
    after: dt.datetime | None = None,
    first_index: int = 0,
) -> list[LogWindow]:
    """The model's logged traffic (after ``after``, the end of what was judged before), decoded and cut; each
    window's rows are in ``folder`` and windows are numbered from ``first_index``."""
    import duckdb

    con = duckdb.connect()
    try:
        inclusive = spec.seconds is not None  # a duration window starts at the end of the last one
        if not decode_log(con, predictions, feedback, model, signature, label, after=after, inclusive=inclusive):
            return []
        inputs = [c["name"] for c in signature.get("inputs", [])]
        return cut_windows(con, spec, folder, inputs, now=now, first_index=first_index)
    finally:
        con.close()


def write_labelled_span(
    predictions: Path,
    feedback: Path,
    model: str,
    signature: dict[str, Any],
    label: str,
    start: dt.datetime,
    end: dt.datetime,
    target: Path,
) -> int:
    """The labelled traffic between ``start`` and ``end`` (inclusive) as Parquet: inputs + the label column.

    Read from the log again rather than from the judged windows, because labels arrive after the fact: a
    window judged an hour ago may have its labels by now.
    """
    import duckdb

    con = duckdb.connect()
    try:
        if not decode_log(con, predictions, feedback, model, signature, label):
            return 0
        columns = ", ".join(_quote(c["name"]) for c in signature.get("inputs", []))
        target.parent.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"""COPY (SELECT {columns}, label AS {_quote(label)} FROM traffic
                     WHERE label IS NOT NULL AND time BETWEEN ? AND ? ORDER BY time, request_id)
                TO {_literal(str(target))} (FORMAT parquet)""",
            [start, end],
        )
        return int(con.execute(f"SELECT count(*) FROM read_parquet({_literal(str(target))})").fetchone()[0])
    finally:
        con.close()
