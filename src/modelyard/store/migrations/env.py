"""Alembic environment for the metadata database.

modelyard drives Alembic from code (``MetadataStore.upgrade``), handing over a connection that is
already inside a locked transaction, so migrations of one database by two processes at once cannot
interleave. A developer can still run ``alembic`` by hand (e.g. ``revision --autogenerate``) with
``-x url=sqlite:///path.db``; then this file opens its own connection.
"""

from __future__ import annotations

from alembic import context

from modelyard.store.metadata.tables import metadata

VERSION_TABLE = "modelyard_schema_version"


def _configure_and_run(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=context.config.attributes.get("version_table", VERSION_TABLE),
        # SQLite runs DDL inside the transaction we opened; say so, or Alembic commits per statement.
        transactional_ddl=True,
        render_as_batch=connection.dialect.name == "sqlite",  # type: ignore[attr-defined]
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("give the database with: alembic -x url=sqlite:///path/to/metadata.db ...")
    from modelyard.store.metadata.connect import create_store_engine

    engine = create_store_engine(url)
    try:
        with engine.begin() as conn:
            _configure_and_run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("modelyard migrations run online only; open the database with MetadataStore.open()")
run_migrations_online()
