"""The metadata schema as SQLAlchemy Core tables: one source of truth for queries and for autogenerate.

The first Alembic migration creates exactly these tables by hand; a conformance test compares the
migrated database with this module, so the two cannot drift apart silently.

Timestamps are float seconds since the epoch (UTC by definition) on every backend: SQLite has no
timezone-aware type, and one representation everywhere means no conversion bugs between the two.
Metric timestamps are integer milliseconds because that is what tracking clients send.
"""

from __future__ import annotations

import sqlalchemy as sa

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

# A 64-bit key where tables grow without bound; SQLite only auto-increments an INTEGER primary key.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

contexts = sa.Table(
    "contexts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("properties", sa.JSON, nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.UniqueConstraint("type", "name"),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("name", sa.String(255), nullable=True),
    sa.Column("pipeline", sa.String(255), nullable=True),
    sa.Column("project", sa.String(255), nullable=True),
    sa.Column("experiment", sa.String(255), nullable=True),
    sa.Column("parent_run_id", sa.String(32), sa.ForeignKey("runs.id"), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("spec", sa.JSON, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("started_at", sa.Double, nullable=False),
    sa.Column("ended_at", sa.Double, nullable=True),
    sa.Column("heartbeat_at", sa.Double, nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Index(None, "started_at"),
    sa.Index(None, "pipeline", "started_at"),
    sa.Index(None, "experiment", "started_at"),
    sa.Index(None, "status"),
)

artifacts = sa.Table(
    "artifacts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("uri", sa.Text, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("properties", sa.JSON, nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.UniqueConstraint("type", "digest", "uri"),
    sa.Index(None, "digest"),
)

executions = sa.Table(
    "executions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("step", sa.String(255), nullable=False),
    sa.Column("component", sa.String(255), nullable=False),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", sa.Double, nullable=False),
    sa.Column("ended_at", sa.Double, nullable=True),
    sa.Column("code_fingerprint", sa.String(128), nullable=False),
    sa.Column("cache_key", sa.String(128), nullable=False),
    sa.Column("input_digests", sa.JSON, nullable=False),
    sa.Column("environment", sa.JSON, nullable=False),
    sa.Column("cpu_seconds", sa.Double, nullable=True),
    sa.Column("peak_memory_bytes", sa.BigInteger, nullable=True),
    sa.Column("wall_seconds", sa.Double, nullable=True),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("cached_from", sa.Integer, sa.ForeignKey("executions.id"), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Index(None, "run_id"),
    sa.Index(None, "cache_key"),
    sa.Index(None, "step", "started_at"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("execution_id", sa.Integer, sa.ForeignKey("executions.id"), nullable=False),
    sa.Column("artifact_id", sa.Integer, sa.ForeignKey("artifacts.id"), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.UniqueConstraint("execution_id", "artifact_id", "kind", "name"),
    sa.Index(None, "artifact_id"),
    sa.Index(None, "execution_id"),
)

attributions = sa.Table(
    "attributions",
    metadata,
    sa.Column("context_id", sa.Integer, sa.ForeignKey("contexts.id"), primary_key=True),
    sa.Column("artifact_id", sa.Integer, sa.ForeignKey("artifacts.id"), primary_key=True),
    sa.Index(None, "artifact_id"),
)

associations = sa.Table(
    "associations",
    metadata,
    sa.Column("context_id", sa.Integer, sa.ForeignKey("contexts.id"), primary_key=True),
    sa.Column("execution_id", sa.Integer, sa.ForeignKey("executions.id"), primary_key=True),
    sa.Index(None, "execution_id"),
)

params = sa.Table(
    "params",
    metadata,
    sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

metrics = sa.Table(
    "metrics",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("execution_id", sa.Integer, sa.ForeignKey("executions.id"), nullable=True),
    sa.Column("key", sa.String(250), nullable=False),
    # NULL stands for NaN: SQLite stores a NaN REAL as NULL, so every backend reads NULL back as NaN.
    sa.Column("value", sa.Double, nullable=True),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Index(None, "run_id", "key"),
)

tags = sa.Table(
    "tags",
    metadata,
    sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

registered_models = sa.Table(
    "registered_models",
    metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("created_at", sa.Double, nullable=False),
)

model_versions = sa.Table(
    "model_versions",
    metadata,
    sa.Column("name", sa.String(255), sa.ForeignKey("registered_models.name"), primary_key=True),
    sa.Column("version", sa.String(64), primary_key=True),
    sa.Column("artifact_id", sa.Integer, sa.ForeignKey("artifacts.id"), nullable=False),
    sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), nullable=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("signature", sa.JSON, nullable=True),
    sa.Column("properties", sa.JSON, nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Index(None, "name", "digest"),
)

aliases = sa.Table(
    "aliases",
    metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("alias", sa.String(64), primary_key=True),
    sa.Column("version", sa.String(64), nullable=False),
    sa.ForeignKeyConstraint(["name", "version"], ["model_versions.name", "model_versions.version"]),
)

alias_history = sa.Table(
    "alias_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255), sa.ForeignKey("registered_models.name"), nullable=False),
    sa.Column("alias", sa.String(64), nullable=False),
    sa.Column("from_version", sa.String(64), nullable=True),
    sa.Column("to_version", sa.String(64), nullable=True),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("at", sa.Double, nullable=False),
    sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), nullable=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Index(None, "name", "alias"),
)

TABLE_NAMES = frozenset(metadata.tables)
