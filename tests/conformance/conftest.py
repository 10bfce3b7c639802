"""Backends for the metadata conformance suite: every test runs on SQLite and on PostgreSQL.

SQLite gets a new file per test. PostgreSQL shares the session database (creating one per test would
dominate the run time) and is emptied after each test, so every test starts from a clean, migrated
database on both backends.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard.store.metadata.store import MetadataStore
from modelyard.store.metadata.tables import metadata

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def fresh_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The URL of an empty database (nothing migrated yet) on the backend under test."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh' / 'metadata.db'}"
    return request.getfixturevalue("pg_databases")()


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a migrated database that is empty at the start of the test."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'metadata.db'}"
        return
    url = request.getfixturevalue("pg_url")
    yield url
    _empty_postgres(url)


@pytest.fixture
def store(db_url: str) -> Iterator[MetadataStore]:
    opened = MetadataStore.open(db_url)
    try:
        yield opened
    finally:
        opened.close()


def _empty_postgres(url: str) -> None:
    import sqlalchemy as sa

    # DELETE, not TRUNCATE: on tables this small it is ten times faster. Ids keep counting up, which
    # no test may depend on anyway.
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            present = set(sa.inspect(conn).get_table_names())
            for table in reversed(metadata.sorted_tables):
                if table.name in present:
                    conn.execute(table.delete())
    finally:
        engine.dispose()
