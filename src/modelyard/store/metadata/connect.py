"""From a database URL to a configured SQLAlchemy engine, with errors a user can act on.

The URL comes from settings or an environment variable, so every failure here names the URL (with the
password masked, since it ends up in logs and bug reports) and says what to try.
"""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine

from modelyard.errors import ConfigError
from modelyard.store.metadata import sqlite

KNOWN_SCHEMES = ("sqlite", "postgresql")
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")


def mask_url(url: str | URL) -> str:
    """The URL with any password replaced by ``***``; works on strings SQLAlchemy cannot parse."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    return _PASSWORD.sub(r"\1***@", url)


def parse_url(url: str) -> URL:
    """Parse and normalise: ``postgresql://`` and ``postgres://`` mean psycopg 3."""
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = sa.make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"'{mask_url(url)}' is not a database URL",
            hint="use sqlite:///path/to/metadata.db or postgresql://user@host:5432/dbname",
        ) from None
    backend = parsed.get_backend_name()
    if backend == "postgres":
        backend = "postgresql"
    if backend not in KNOWN_SCHEMES:
        raise ConfigError(
            f"unsupported metadata database '{parsed.drivername}' in '{mask_url(parsed)}'",
            hint="known: " + ", ".join(KNOWN_SCHEMES),
        )
    if backend == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # the one PostgreSQL driver we support
    if backend == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file::memory:"):
            raise ConfigError(
                f"'{mask_url(parsed)}' is an in-memory SQLite database",
                hint="use a file, e.g. sqlite:///.modelyard/metadata.db: parallel steps share it",
            )
    return parsed


def create_store_engine(url: str | URL) -> Engine:
    """An engine for a metadata URL: SQLite gets its concurrency settings, PostgreSQL psycopg 3."""
    parsed = parse_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, connect_args=sqlite.connect_args())
        sqlite.install(engine)
        return engine
    try:
        return sa.create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10})
    except ImportError as exc:
        raise ConfigError(
            f"cannot use '{mask_url(parsed)}': the PostgreSQL driver is not installed ({exc})",
            hint="pip install 'modelyard[postgres]'",
        ) from None
