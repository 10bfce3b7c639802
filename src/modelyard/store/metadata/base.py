"""What every part of the metadata store shares: the engine, transactions, and dialect-neutral upserts.

Each public operation is one short transaction (``_write``/``_read``), so parallel steps interleave at
operation granularity and a crash never leaves half an operation behind. Database failures that are
not the caller's fault (server gone, lock held too long) become :class:`StoreError` naming the URL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Self, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from modelyard.errors import StoreError, UsageError, did_you_mean
from modelyard.store.metadata import sqlite

T = TypeVar("T")

# Far below SQLite's limit on bound parameters (32766) and PostgreSQL's (65535).
IN_CHUNK = 900


def now() -> float:
    return time.time()


def chunks(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def check_choice(what: str, value: str, choices: Iterable[str]) -> str:
    """Reject a value outside a closed set with the set (or the close match) in the hint."""
    known = tuple(choices)
    if value not in known:
        raise UsageError(f"unknown {what} '{value}'", hint=did_you_mean(str(value), known))
    return value


class StoreBase:
    """Engine ownership and transaction helpers; the concern-specific mixins build on these."""

    url: str
    _engine: Engine

    def __init__(self, engine: Engine, masked_url: str) -> None:
        self._engine = engine
        self.url = masked_url
        self._batch = threading.local()  # the open transaction() of each thread, if any

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def close(self) -> None:
        """Release pooled connections; the store must not be used afterwards."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several operations of this thread into one write transaction (all or nothing).

        The runner records a step's execution, events and context links together: one commit instead of a
        dozen, and a crash never leaves an execution without its events.
        """
        if getattr(self._batch, "conn", None) is not None:  # nested: the outer transaction decides
            yield
            return
        with self._write() as conn:
            self._batch.conn = conn
            try:
                yield
            finally:
                self._batch.conn = None

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction (SQLite: BEGIN IMMEDIATE); commits on success, rolls back on error."""
        shared = getattr(self._batch, "conn", None)
        if shared is not None:
            yield shared
            return
        try:
            with self._engine.begin() as conn:
                yield conn
        except OperationalError as exc:
            raise self._store_error(exc) from exc

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """One read transaction: a consistent snapshot that does not take SQLite's write lock."""
        shared = getattr(self._batch, "conn", None)
        if shared is not None:  # inside transaction(): read what this transaction has written
            yield shared
            return
        try:
            with self._engine.connect() as conn:
                conn.execution_options(**{sqlite.READ_ONLY: True})
                with conn.begin():
                    yield conn
        except OperationalError as exc:
            raise self._store_error(exc) from exc

    def _store_error(self, exc: OperationalError) -> StoreError:
        text = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        if "locked" in text or "busy" in text:
            hint = "another process held the database's write lock for over 30 s; is a step stuck?"
        elif "does not exist" in text and "database" in text:
            hint = "create the database first, e.g. with `createdb`, or fix its name in the URL"
        else:
            hint = "check that the database server is running and the URL is right"
        return StoreError(f"metadata database {self.url}: {text}", hint=hint)

    # -- dialect-neutral helpers ---------------------------------------------------------------------

    def _insert(self, table: sa.Table) -> Any:
        """A dialect-specific INSERT that supports ON CONFLICT (both SQLite and PostgreSQL do)."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(table)

    def _insert_ignore(self, conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        """Insert rows, silently skipping those that hit a unique constraint: idempotent puts."""
        if rows:
            conn.execute(self._insert(table).on_conflict_do_nothing(), rows)

    def _upsert(self, conn: Connection, table: sa.Table, rows: list[dict[str, Any]], keys: Sequence[str]) -> None:
        """Insert rows, overwriting the non-key columns of rows that already exist."""
        if not rows:
            return
        stmt = self._insert(table)
        updates = {c: stmt.excluded[c] for c in rows[0] if c not in keys}
        conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=updates), rows)
