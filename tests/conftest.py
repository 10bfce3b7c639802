"""Fixtures shared by the whole test suite.

PostgreSQL tests run against the real server on 127.0.0.1:5432 (trust auth, user postgres). Each
test session gets its own freshly created database, dropped at the end, so runs never see each
other's rows and the `test` database is left untouched. Outside CI a missing server skips those
tests with a loud reason; in CI (env CI set) it fails them, because silently skipped backend tests
are how a backend rots.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_ADMIN_DB = "test"


def _pg_unavailable(reason: str) -> None:
    message = (
        f"PostgreSQL is not answering on {PG_HOST}:{PG_PORT} ({reason}). "
        "Start it (trust auth, user postgres, database 'test') to run the PostgreSQL tests."
    )
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so PostgreSQL tests must run: {message}", pytrace=False)
    pytest.skip(f"SKIPPING POSTGRESQL TESTS: {message}")


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[Callable[[], str]]:
    """A factory of fresh, empty PostgreSQL databases (as SQLAlchemy URLs), all dropped at session end."""
    try:
        import psycopg
    except ImportError as exc:
        _pg_unavailable(f"psycopg is not installed: {exc}")
        raise  # unreachable: _pg_unavailable always raises

    def admin() -> psycopg.Connection:
        return psycopg.connect(
            host=PG_HOST, port=PG_PORT, user="postgres", dbname=PG_ADMIN_DB, autocommit=True, connect_timeout=3
        )

    try:
        admin().close()
    except psycopg.OperationalError as exc:
        _pg_unavailable(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)

    created: list[str] = []

    def create() -> str:
        name = f"modelyard_test_{secrets.token_hex(5)}"
        with admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{name}"

    yield create

    with admin() as conn:
        for name in created:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_url(pg_databases: Callable[[], str]) -> str:
    """One fresh PostgreSQL database for this test session (dropped at the end)."""
    return pg_databases()


# -- the bundled penguins data as the Parquet file a pipeline step would hand over ----------------------------

PENGUINS_CSV = Path(__file__).resolve().parents[1] / "src/modelyard/examples/penguins/data/penguins.csv"


def write_penguins_parquet(dest: Path) -> Path:
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(f"COPY (SELECT * FROM read_csv('{PENGUINS_CSV}', nullstr='NA')) TO '{dest}' (FORMAT parquet)")
    finally:
        con.close()
    return dest


@pytest.fixture(scope="session")
def penguins_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_penguins_parquet(tmp_path_factory.mktemp("penguins") / "penguins.parquet")


@pytest.fixture(scope="session")
def penguins_rows(penguins_parquet: Path) -> list[dict]:
    import pyarrow.parquet as pq

    return pq.read_table(penguins_parquet).to_pylist()
