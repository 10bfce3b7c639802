"""What the metadata store hands back: small frozen records, never database rows.

Callers above the store (runner, tracking, registry, CLI) must not depend on SQLAlchemy, so every
query result is turned into one of these values before it leaves the store. Timestamps are float
seconds since the epoch (UTC); ``None`` means "not yet".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modelyard.core.artifacts import ArtifactRef

RUN_KINDS = ("pipeline", "tracking", "monitor")
RUN_STATUSES = ("running", "complete", "failed", "cancelled", "crashed")
TERMINAL_RUN_STATUSES = ("complete", "failed", "cancelled", "crashed")
EXECUTION_STATUSES = ("running", "complete", "cached", "failed", "skipped", "cancelled")
CONTEXT_TYPES = ("project", "pipeline", "run", "experiment")


@dataclass(frozen=True)
class Run:
    """One pipeline run or tracking run, as recorded."""

    id: str
    kind: str
    name: str | None
    pipeline: str | None
    project: str | None
    experiment: str | None
    parent_run_id: str | None
    status: str
    spec: dict[str, Any] | None = field(hash=False, compare=False)
    error: str | None
    started_at: float
    ended_at: float | None
    heartbeat_at: float
    host: str
    pid: int

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_RUN_STATUSES

    @property
    def duration_seconds(self) -> float | None:
        return None if self.ended_at is None else self.ended_at - self.started_at


@dataclass(frozen=True)
class Execution:
    """One step inside a run, with the artifacts it read (``inputs``) and wrote (``outputs``) by name."""

    id: int
    run_id: str
    step: str
    component: str
    params: dict[str, Any] = field(hash=False, compare=False)
    status: str = "running"
    started_at: float = 0.0
    ended_at: float | None = None
    code_fingerprint: str = ""
    cache_key: str = ""
    input_digests: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    environment: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    cpu_seconds: float | None = None
    peak_memory_bytes: int | None = None
    wall_seconds: float | None = None
    tags: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    error: str | None = None
    cached_from: int | None = None
    attempts: int = 1
    inputs: dict[str, ArtifactRef] = field(default_factory=dict, hash=False, compare=False)
    outputs: dict[str, ArtifactRef] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class MetricPoint:
    """One logged metric value; ``timestamp_ms`` is when the client measured it."""

    key: str
    value: float
    step: int
    timestamp_ms: int
    execution_id: int | None = None


@dataclass(frozen=True)
class ModelVersion:
    """A registered model package: a semver of a named model pointing at a model artifact."""

    name: str
    version: str
    artifact_id: int
    run_id: str | None
    digest: str
    signature: dict[str, Any] | None = field(hash=False, compare=False)
    properties: dict[str, Any] = field(hash=False, compare=False)
    created_at: float


@dataclass(frozen=True)
class AliasMove:
    """One change of an alias: who moved it from which version to which, when and why.

    ``to_version`` is None when the alias was removed, ``from_version`` None when it was first set.
    """

    id: int
    name: str
    alias: str
    from_version: str | None
    to_version: str | None
    actor: str
    at: float
    run_id: str | None
    reason: str
    details: dict[str, Any] = field(hash=False, compare=False)
