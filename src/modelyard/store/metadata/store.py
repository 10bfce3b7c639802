"""The metadata store facade: opening a database and checking its schema.

The operations live in one mixin per concern (runs, executions, lineage, tracking, registry) so this
class stays a short list of what the store can do. Opening never migrates a database that already
has a schema: an out-of-date schema is reported, and upgrading is a deliberate ``yard db upgrade``.
"""

from __future__ import annotations

from sqlalchemy.exc import DatabaseError

from modelyard.errors import SchemaOutOfDate, StoreError
from modelyard.store.metadata import schema
from modelyard.store.metadata.connect import create_store_engine, mask_url, parse_url
from modelyard.store.metadata.executions import ExecutionsMixin
from modelyard.store.metadata.lineage import LineageMixin
from modelyard.store.metadata.registry import RegistryMixin
from modelyard.store.metadata.tracking import TrackingMixin


class MetadataStore(TrackingMixin, ExecutionsMixin, LineageMixin, RegistryMixin):
    """Runs, artifacts, executions, lineage, tracking and registry records in one SQL database."""

    @classmethod
    def open(cls, url: str, *, create: bool = True) -> MetadataStore:
        """Connect to ``url`` (``sqlite:///path`` or ``postgresql://...``) and check its schema.

        An empty database is migrated to the current schema when ``create`` is true. A database at
        an older revision raises SchemaOutOfDate; one this version of modelyard does not know
        (written by a newer release, or by something else) raises StoreError.
        """
        store = cls._connect(url)
        try:
            store._check_schema(create=create)
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def _connect(cls, url: str) -> MetadataStore:
        parsed = parse_url(url)
        return cls(create_store_engine(parsed), mask_url(parsed))

    def upgrade(self) -> None:
        """Migrate the database to the newest schema (what ``yard db upgrade`` does)."""
        with self._write() as conn:
            schema.upgrade_to_head(conn)

    def current_revision(self) -> str | None:
        with self._read() as conn:
            return schema.current_revision(conn)

    def _schema_state(self) -> schema.SchemaState:
        try:
            with self._read() as conn:
                return schema.inspect_state(conn)
        except DatabaseError as exc:  # e.g. "file is not a database"
            detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
            raise StoreError(
                f"cannot read the metadata database {self.url}: {detail}",
                hint="point MODELYARD_DB at a modelyard SQLite file or an empty database",
            ) from exc

    def _refuse_foreign(self, state: schema.SchemaState) -> None:
        """Databases no migration may touch: not made by modelyard, or made by a newer one."""
        if state.revision is None and state.modelyard_tables:
            raise StoreError(
                f"the metadata database {self.url} has tables ({', '.join(sorted(state.modelyard_tables))}) "
                "but no modelyard schema revision",
                hint="it was not created by modelyard; use an empty database for MODELYARD_DB",
            )
        if state.revision is not None and state.revision not in schema.known_revisions():
            raise StoreError(
                f"the metadata database {self.url} is at schema revision '{state.revision}', "
                "which this modelyard does not know",
                hint="it was written by a newer modelyard: upgrade modelyard (pip install -U modelyard)",
            )

    def _check_schema(self, *, create: bool) -> None:
        state = self._schema_state()
        if state.is_empty:
            if not create:
                raise SchemaOutOfDate(
                    f"the metadata database {self.url} has no modelyard tables", hint="run `yard db upgrade`"
                )
            self.upgrade()
            return
        self._refuse_foreign(state)
        head = schema.head_revision()
        if state.revision != head:
            raise SchemaOutOfDate(
                f"the metadata database {self.url} is at schema revision {state.revision}, this modelyard needs {head}",
                hint="back it up, then run `yard db upgrade`",
            )


def upgrade_database(url: str) -> str:
    """Create or migrate the database at ``url`` to the newest schema; returns the revision it is at.

    This is ``yard db upgrade``: unlike ``MetadataStore.open`` it accepts a database that is behind,
    which is the one case where opening must not refuse. Foreign or newer databases are still refused.
    """
    store = MetadataStore._connect(url)
    try:
        store._refuse_foreign(store._schema_state())
        store.upgrade()
        return store.current_revision() or ""
    finally:
        store.close()
