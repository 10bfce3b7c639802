"""The metadata store: lineage (ML Metadata's artifacts, executions, events, contexts), runs,
experiment tracking and registry records, in SQLite or PostgreSQL through SQLAlchemy Core.

Import ``MetadataStore`` from ``modelyard.store.metadata.store``; this package imports nothing at
import time so that it does not pull in SQLAlchemy.
"""

from __future__ import annotations


def upgrade_database(url: str) -> str:
    """Create or migrate the database at ``url`` to the newest schema (``yard db upgrade``); returns the revision."""
    from modelyard.store.metadata.store import upgrade_database as upgrade

    return upgrade(url)
