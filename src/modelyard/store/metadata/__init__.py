"""The metadata store: lineage (ML Metadata's artifacts, executions, events, contexts), runs,
experiment tracking and registry records, in SQLite or PostgreSQL through SQLAlchemy Core.

Import ``MetadataStore`` from ``modelyard.store.metadata.store``; this package stays empty so that
importing it does not pull in SQLAlchemy.
"""
