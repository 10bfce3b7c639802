"""Schema versions: Alembic driven from code, with the checks ``MetadataStore.open`` needs.

Migrations run only when asked (``open(create=True)`` on an empty database, or ``upgrade()`` behind
``yard db upgrade``), never as a side effect of constructing a store: a library that silently alters
a shared team database on import is how data gets lost. The Alembic version table has a modelyard
name so that a PostgreSQL database shared with an application that uses Alembic itself still works.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from modelyard.store.metadata.tables import TABLE_NAMES

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

VERSION_TABLE = "modelyard_schema_version"
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# Any fixed 64-bit number: the key of the PostgreSQL advisory lock held while migrating.
_PG_MIGRATION_LOCK = 0x6D6F64656C797264


@dataclass(frozen=True)
class SchemaState:
    """What ``open`` found: which modelyard tables exist and which revision the database says it is at."""

    revision: str | None
    modelyard_tables: frozenset[str]

    @property
    def is_empty(self) -> bool:
        return self.revision is None and not self.modelyard_tables


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    cfg.attributes["version_table"] = VERSION_TABLE
    return cfg


@cache  # the migrations ship with the package and cannot change while it runs; reading them costs milliseconds
def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # only possible if the package was installed without its migrations
        from modelyard.errors import StoreError

        raise StoreError(f"no migrations found in {MIGRATIONS_DIR}", hint="reinstall modelyard")
    return head


@cache
def known_revisions() -> frozenset[str]:
    from alembic.script import ScriptDirectory

    return frozenset(s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions())


def current_revision(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return ctx.get_current_revision()


def inspect_state(conn: Connection) -> SchemaState:
    names = set(sa.inspect(conn).get_table_names())
    revision = current_revision(conn) if VERSION_TABLE in names else None
    return SchemaState(revision=revision, modelyard_tables=frozenset(names & TABLE_NAMES))


def upgrade_to_head(conn: Connection) -> None:
    """Run pending migrations inside the caller's transaction, serialised against other processes.

    On SQLite the transaction already holds the write lock (BEGIN IMMEDIATE); on PostgreSQL an
    advisory lock does the same job. Alembic re-reads the revision after the lock is taken, so the
    second of two racing processes finds nothing left to do.
    """
    from alembic import command

    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    command.upgrade(alembic_config(conn), "head")
