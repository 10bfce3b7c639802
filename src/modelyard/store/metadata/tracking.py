"""Experiment tracking records: params, metrics and tags of a run, written in batches.

The tracking layer buffers and flushes thousands of rows per call, so ``log_batch`` is one
transaction with one executemany per table: per-call metric writes are what make other trackers slow
inside training loops.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelyard.errors import NotFound, UsageError
from modelyard.store.metadata.base import chunks
from modelyard.store.metadata.records import MetricPoint
from modelyard.store.metadata.runs import RunsMixin
from modelyard.store.metadata.tables import executions
from modelyard.store.metadata.tables import metrics as metrics_t
from modelyard.store.metadata.tables import params as params_t
from modelyard.store.metadata.tables import tags as tags_t

MetricRow = tuple[str, float, int, int, int | None]
MAX_KEY = 250
_METRIC_COLUMNS = ("run_id", "execution_id", "key", "value", "step", "timestamp")


def _key(what: str, key: object) -> str:
    if not isinstance(key, str) or not key:
        raise UsageError(f"a {what} key must be a non-empty string, got {key!r}")
    if len(key) > MAX_KEY:
        raise UsageError(f"{what} key '{key[:40]}...' is longer than {MAX_KEY} characters")
    return key


def _value(value: float | None) -> float:
    return math.nan if value is None else value


def _bad_metric(rows: list[Any]) -> str:
    """Describe the first metric row that is not (str, number, int, int, int | None)."""
    for row in rows:
        try:
            _key, value, step, timestamp_ms, _execution_id = row
            float(value), int(step), int(timestamp_ms)
        except (TypeError, ValueError):
            return f"cannot log metric {row!r}"
    return "cannot log the metrics"


def _point(row: Any) -> MetricPoint:
    return MetricPoint(
        key=row.key, value=_value(row.value), step=row.step, timestamp_ms=row.timestamp, execution_id=row.execution_id
    )


class TrackingMixin(RunsMixin):
    def log_batch(
        self,
        run_id: str,
        *,
        params: Iterable[tuple[str, str]] = (),
        metrics: Iterable[MetricRow] = (),
        tags: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Write params, metric points ``(key, value, step, timestamp_ms, execution_id)`` and tags at once.

        A param is fixed once logged: logging it again with another value raises UsageError (and
        nothing of the batch is written), with the same value it is a no-op. Tags are overwritten.
        NaN metric values are kept (read back as NaN).
        """
        param_rows = self._param_rows(params)
        metrics = list(metrics)
        try:
            points = [
                (key, None if value != value else float(value), int(step), int(timestamp_ms), execution_id)  # NaN
                for key, value, step, timestamp_ms, execution_id in metrics
            ]
        except (TypeError, ValueError):
            raise UsageError(
                _bad_metric(metrics), hint="a metric is (key, number, step, timestamp_ms, execution_id)"
            ) from None
        for key in {p[0] for p in points}:
            _key("metric", key)
        tag_rows = {_key("tag", k): str(v) for k, v in tags}
        if not (param_rows or points or tag_rows):
            return
        with self._write() as conn:
            full_id = self._resolve_run_id(conn, run_id)
            if param_rows:
                self._insert_params(conn, full_id, param_rows)
            if points:
                self._insert_metrics(conn, full_id, points)
            if tag_rows:
                self._upsert(
                    conn,
                    tags_t,
                    [{"run_id": full_id, "key": k, "value": v} for k, v in tag_rows.items()],
                    keys=("run_id", "key"),
                )

    def get_params(self, run_id: str) -> dict[str, str]:
        with self._read() as conn:
            full_id = self._resolve_run_id(conn, run_id)
            rows = conn.execute(
                sa.select(params_t.c.key, params_t.c.value).where(params_t.c.run_id == full_id).order_by(params_t.c.key)
            )
            return {key: value for key, value in rows}

    def get_tags(self, run_id: str) -> dict[str, str]:
        with self._read() as conn:
            full_id = self._resolve_run_id(conn, run_id)
            rows = conn.execute(
                sa.select(tags_t.c.key, tags_t.c.value).where(tags_t.c.run_id == full_id).order_by(tags_t.c.key)
            )
            return {key: value for key, value in rows}

    def get_metrics(self, run_id: str, key: str | None = None) -> list[MetricPoint]:
        """Metric points ordered by key, step and timestamp (the order a plot needs)."""
        m = metrics_t
        with self._read() as conn:
            full_id = self._resolve_run_id(conn, run_id)
            query = sa.select(m).where(m.c.run_id == full_id)
            if key is not None:
                query = query.where(m.c.key == key)
            query = query.order_by(m.c.key, m.c.step, m.c.timestamp, m.c.id)
            return [_point(r) for r in conn.execute(query)]

    def latest_metrics(self, run_id: str) -> dict[str, float]:
        """Each metric's value at its highest step (latest timestamp breaks ties): the run summary."""
        m = metrics_t
        rank = (
            sa.func.row_number()
            .over(partition_by=m.c.key, order_by=(m.c.step.desc(), m.c.timestamp.desc(), m.c.id.desc()))
            .label("rank")
        )
        with self._read() as conn:
            full_id = self._resolve_run_id(conn, run_id)
            ranked = sa.select(m.c.key, m.c.value, rank).where(m.c.run_id == full_id).subquery()
            rows = conn.execute(
                sa.select(ranked.c.key, ranked.c.value).where(ranked.c.rank == 1).order_by(ranked.c.key)
            )
            return {key: _value(value) for key, value in rows}

    # -- helpers -------------------------------------------------------------------------------------

    @staticmethod
    def _param_rows(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
        wanted: dict[str, str] = {}
        for key, value in pairs:
            text = str(value)
            if wanted.setdefault(_key("param", key), text) != text:
                raise UsageError(
                    f"param '{key}' is logged twice with different values ('{wanted[key]}' and '{text}')",
                    hint="a param has one value per run; log changing values as metrics",
                )
        return wanted

    def _insert_metrics(self, conn: Connection, run_id: str, points: list[MetricRow]) -> None:
        """Bulk insert below SQLAlchemy's per-row parameter handling, which costs more than the insert.

        SQLite gets one executemany of plain tuples; PostgreSQL a COPY, several times faster than
        executemany over the network. Both run on the transaction's own connection.
        """
        wanted = {p[4] for p in points if p[4] is not None}
        if wanted:  # checked here: a foreign-key error from inside COPY would be a bare driver error
            found = set(conn.execute(sa.select(executions.c.id).where(executions.c.id.in_(wanted))).scalars())
            if wanted - found:
                raise NotFound(f"cannot log metrics for execution(s) {sorted(wanted - found)}: no such execution")
        rows = [(run_id, execution_id, key, value, step, ts) for key, value, step, ts, execution_id in points]
        quote = conn.dialect.identifier_preparer.quote
        columns = ", ".join(quote(c) for c in _METRIC_COLUMNS)
        if self.dialect == "postgresql":
            raw = conn.connection.driver_connection
            with raw.cursor() as cursor, cursor.copy(f"COPY metrics ({columns}) FROM STDIN") as copy:  # type: ignore[union-attr]
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" for _ in _METRIC_COLUMNS)
        conn.exec_driver_sql(f"INSERT INTO metrics ({columns}) VALUES ({marks})", rows)  # type: ignore[arg-type]

    def _insert_params(self, conn: Connection, run_id: str, wanted: dict[str, str]) -> None:
        """Insert params, skipping existing keys, then check that every key holds the value asked for.

        Checking after the insert (in the same transaction) also catches a concurrent writer that
        logged the same key a moment earlier.
        """
        self._insert_ignore(conn, params_t, [{"run_id": run_id, "key": k, "value": v} for k, v in wanted.items()])
        for chunk in chunks(list(wanted)):
            stored = conn.execute(
                sa.select(params_t.c.key, params_t.c.value).where(
                    params_t.c.run_id == run_id, params_t.c.key.in_(chunk)
                )
            )
            for key, value in stored:
                if value != wanted[key]:
                    raise UsageError(
                        f"param '{key}' of run {run_id} is already '{value}', cannot log '{wanted[key]}'",
                        hint="a param has one value per run; log changing values as metrics or start a new run",
                    )
