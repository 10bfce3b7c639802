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

from modelyard.errors import UsageError
from modelyard.store.metadata.base import chunks
from modelyard.store.metadata.records import MetricPoint
from modelyard.store.metadata.runs import RunsMixin
from modelyard.store.metadata.tables import metrics as metrics_t
from modelyard.store.metadata.tables import params as params_t
from modelyard.store.metadata.tables import tags as tags_t

MetricRow = tuple[str, float, int, int, int | None]
MAX_KEY = 250


def _key(what: str, key: object) -> str:
    if not isinstance(key, str) or not key:
        raise UsageError(f"a {what} key must be a non-empty string, got {key!r}")
    if len(key) > MAX_KEY:
        raise UsageError(f"{what} key '{key[:40]}...' is longer than {MAX_KEY} characters")
    return key


def _value(value: float | None) -> float:
    return math.nan if value is None else value


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
        metric_rows = [
            {
                "run_id": run_id,
                "execution_id": execution_id,
                "key": key,
                "value": None if value != value else float(value),  # NaN != NaN
                "step": int(step),
                "timestamp": int(timestamp_ms),
            }
            for key, value, step, timestamp_ms, execution_id in metrics
        ]
        for key in {r["key"] for r in metric_rows}:
            _key("metric", key)
        tag_rows = {_key("tag", k): str(v) for k, v in tags}
        if not (param_rows or metric_rows or tag_rows):
            return
        with self._write() as conn:
            full_id = self._resolve_run_id(conn, run_id)
            if full_id != run_id:
                for row in metric_rows:
                    row["run_id"] = full_id
            if param_rows:
                self._insert_params(conn, full_id, param_rows)
            if metric_rows:
                conn.execute(metrics_t.insert(), metric_rows)
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
            return dict(rows.tuples().all())

    def get_tags(self, run_id: str) -> dict[str, str]:
        with self._read() as conn:
            full_id = self._resolve_run_id(conn, run_id)
            rows = conn.execute(
                sa.select(tags_t.c.key, tags_t.c.value).where(tags_t.c.run_id == full_id).order_by(tags_t.c.key)
            )
            return dict(rows.tuples().all())

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

    def _insert_params(self, conn: Any, run_id: str, wanted: dict[str, str]) -> None:
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
