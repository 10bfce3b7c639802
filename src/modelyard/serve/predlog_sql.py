"""The prediction log and its feedback labels as database tables (``yard serve --log-db URL``).

Why a table as an option: a team that already runs PostgreSQL (or wants one SQLite file) can query the log
with the tools it has, join it to its own tables, and keep it under its backup regime. The rows are the
Parquet log's, column for column (``predlog.COLUMNS``), written by the same background thread: one
transaction per flush with one multi-row INSERT (executemany), so the request path is unchanged.

Tables, created when absent (by ``yard serve`` before its workers start, and again by each worker, which is
harmless): ``prediction_log`` with an index on (model, time) for the monitor's "one model, a time window"
reads, and ``prediction_feedback`` (request_id, model, label, time) with an index on (model, request_id).
Both carry an integer ``id`` so that "the latest label" is well defined even when two labels for one request
arrive in the same microsecond. Times are stored in UTC (``timestamptz`` on PostgreSQL; SQLite keeps the UTC
wall time, which is read back as UTC).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from modelyard.serve.predlog import COLUMNS, log_schema
from modelyard.store.metadata.connect import create_store_engine, mask_url

PREDICTIONS_TABLE = "prediction_log"
FEEDBACK_TABLE = "prediction_feedback"


def _tables() -> tuple[sa.MetaData, sa.Table, sa.Table]:
    meta = sa.MetaData()
    ident = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only
    log = sa.Table(
        PREDICTIONS_TABLE, meta,
        sa.Column("id", ident, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.Text, nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("route", sa.Text, nullable=False),
        sa.Column("protocol", sa.Text, nullable=False),
        sa.Column("status", sa.SmallInteger, nullable=False),
        sa.Column("latency_ms", sa.Double, nullable=False),
        sa.Column("inputs", sa.Text),
        sa.Column("outputs", sa.Text),
        sa.Index(f"ix_{PREDICTIONS_TABLE}_model_time", "model", "time"),
    )  # fmt: skip
    feedback = sa.Table(
        FEEDBACK_TABLE, meta,
        sa.Column("id", ident, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Index(f"ix_{FEEDBACK_TABLE}_model_request", "model", "request_id"),
    )  # fmt: skip
    return meta, log, feedback


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives back the naive UTC wall time it was given; PostgreSQL an aware time in its session zone."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


class PredictionDatabase:
    """The two tables in one database, behind one engine (thread-safe: the log thread and the feedback
    handler's thread pool share it)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.meta, self.log, self.feedback = _tables()

    @classmethod
    def open(cls, url: str, *, create: bool = True) -> PredictionDatabase:
        """Connect to ``url`` (SQLite file or PostgreSQL); with ``create``, make the tables that are absent."""
        database = cls(create_store_engine(url))
        if create:
            database.create_tables()
        return database

    def create_tables(self) -> None:
        from sqlalchemy.exc import DBAPIError

        try:
            self.meta.create_all(self.engine, checkfirst=True)
        except (sa.exc.IntegrityError, sa.exc.ProgrammingError):
            # PostgreSQL: another worker created the same table between our check and our CREATE
            self.meta.create_all(self.engine, checkfirst=True)
        except DBAPIError as exc:
            raise _unreachable(mask_url(self.engine.url), exc) from exc

    def exists(self) -> bool:
        return sa.inspect(self.engine).has_table(PREDICTIONS_TABLE)

    def insert_predictions(self, table: Any) -> int:
        """Rows of an Arrow table of the log's schema, in one transaction."""
        rows = table.to_pylist()
        if rows:
            with self.engine.begin() as conn:
                conn.execute(self.log.insert(), rows)
        return len(rows)

    def insert_feedback(self, model: str, pairs: list[tuple[str, Any]]) -> int:
        """Labels (as JSON text, like the Parquet feedback) for ``model``, in one transaction."""
        import orjson

        now = dt.datetime.now(dt.UTC)
        rows = [{"request_id": rid, "model": model, "label": orjson.dumps(label).decode(), "time": now}
                for rid, label in pairs]  # fmt: skip
        with self.engine.begin() as conn:
            conn.execute(self.feedback.insert(), rows)
        return len(rows)

    def read_with_feedback(self, model: str | None = None) -> Any:
        """The log (of one model, or all), oldest first, with the latest ``label`` and its ``label_time``
        per request: the same Arrow table as ``feedback.read_with_feedback`` gives for Parquet."""
        import pyarrow as pa

        schema = log_schema(with_labels=True)
        if not self.exists():
            return schema.empty_table()
        log, fb = self.log, self.feedback
        ranked = sa.select(
            fb.c.request_id, fb.c.model, fb.c.label, fb.c.time.label("label_time"),
            sa.func.row_number().over(partition_by=(fb.c.request_id, fb.c.model),
                                      order_by=(fb.c.time.desc(), fb.c.id.desc())).label("rank"),
        )  # fmt: skip
        query = sa.select(*(log.c[name] for name in COLUMNS))
        if model is not None:
            ranked = ranked.where(fb.c.model == model)
            query = query.where(log.c.model == model)
        latest = ranked.subquery("ranked")
        joined = log.outerjoin(
            latest, sa.and_(latest.c.request_id == log.c.request_id, latest.c.model == log.c.model,
                            latest.c.rank == 1),
        )  # fmt: skip
        query = query.add_columns(latest.c.label, latest.c.label_time).select_from(joined)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(log.c.time, log.c.id)).all()
        columns = list(zip(*rows, strict=True)) if rows else [()] * len(schema)
        for index in (schema.get_field_index("time"), schema.get_field_index("label_time")):
            columns[index] = tuple(_utc(value) for value in columns[index])
        arrays = [pa.array(column, field.type) for column, field in zip(columns, schema, strict=True)]
        return pa.table(arrays, schema=schema)

    def close(self) -> None:
        self.engine.dispose()


def _unreachable(url: str, exc: Exception) -> Exception:
    from modelyard.errors import StoreError

    return StoreError(
        f"cannot create the prediction log tables in {url}: {type(exc).__name__}: {str(exc).splitlines()[0]}",
        hint="check that the database answers and that this user may create tables",
    )


def read_with_feedback_db(url: str, model: str | None = None) -> Any:
    """``read_with_feedback`` for a log kept in a database: an empty table of the same schema when there is
    no log there yet (nothing is created by reading)."""
    database = PredictionDatabase.open(url, create=False)
    try:
        return database.read_with_feedback(model)
    finally:
        database.close()
