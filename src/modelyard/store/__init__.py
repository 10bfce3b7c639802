"""Storage: the metadata store (``store.metadata``: lineage, runs, tracking and registry records in
SQLite or PostgreSQL) and the artifact store (``store.artifacts``: content-addressed files and
folders on a local disk or any fsspec URL).

Nothing is imported here, so that ``import modelyard.store...`` of one part does not load the other's
heavy dependencies (SQLAlchemy, Alembic, fsspec).
"""
