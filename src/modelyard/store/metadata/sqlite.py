"""SQLite settings that make one database file safe for parallel steps (threads and processes).

- WAL journal: readers never block the writer and the writer never blocks readers.
- busy_timeout: a writer waits for the lock instead of failing at once with "database is locked".
- BEGIN IMMEDIATE for every write transaction: the write lock is taken at BEGIN. With the default
  deferred BEGIN two transactions that both read and then write can each hold a read lock and wait for
  the other to release it; SQLite detects that and fails one of them immediately, busy_timeout or not.
  Python's sqlite3 module would emit its own deferred BEGIN, so it is switched off
  (``isolation_level = None``) and the BEGIN is emitted from SQLAlchemy's "begin" event instead.
- Read-only transactions (marked with the ``READ_ONLY`` execution option) use a plain deferred BEGIN:
  in WAL mode they see a consistent snapshot and do not queue behind writers.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

READ_ONLY = "modelyard_read_only"
BUSY_TIMEOUT_SECONDS = 30.0


def connect_args() -> dict[str, Any]:
    # ``timeout`` is sqlite3's own busy handler; the PRAGMA below sets the same for clarity.
    return {"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False}


def _journal_wal(cursor: Any) -> None:
    """``PRAGMA journal_mode = WAL``, retried while the file is locked.

    On a brand-new file, several connections opening at once (parallel steps, threads) race to switch it
    to WAL, and SQLite answers "database is locked" at once to this statement instead of waiting through
    the busy timeout. So it is retried here, with a short backoff, for as long as that timeout.
    """
    import sqlite3

    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    delay = 0.002
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


def install(engine: Engine) -> None:
    """Attach the pragmas and the BEGIN handling to a freshly created SQLite engine."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            _journal_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")  # durable at checkpoints; safe with WAL
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
