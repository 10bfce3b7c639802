"""Artifacts, executions and the events that join them: the lineage records a pipeline run writes.

An artifact row is identified by (type, digest, uri) and ``put_artifact`` is idempotent, so a step
that produces byte-identical output in two runs points at one artifact, and lineage and caching see
that the content is the same.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from modelyard.core.artifacts import ArtifactRef, ArtifactType
from modelyard.errors import NotFound, UsageError, did_you_mean
from modelyard.store.metadata.base import StoreBase, check_choice, chunks, now
from modelyard.store.metadata.records import EXECUTION_STATUSES, Execution
from modelyard.store.metadata.tables import artifacts, events, executions, runs

_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_HEX = re.compile(r"^[0-9a-f]*$")


def artifact_type(value: ArtifactType | str) -> ArtifactType:
    try:
        return ArtifactType(value)
    except ValueError:
        raise UsageError(
            f"unknown artifact type '{value}'", hint=did_you_mean(str(value), [t.value for t in ArtifactType])
        ) from None


def artifact_ref(row: Row[Any]) -> ArtifactRef:
    m = row._mapping
    return ArtifactRef(
        type=ArtifactType(m["type"]), uri=m["uri"], digest=m["digest"], properties=m["properties"], id=m["id"]
    )


def _execution(row: Row[Any], inputs: dict[str, ArtifactRef], outputs: dict[str, ArtifactRef]) -> Execution:
    m = row._mapping
    return Execution(
        id=m["id"],
        run_id=m["run_id"],
        step=m["step"],
        component=m["component"],
        params=m["params"],
        status=m["status"],
        started_at=m["started_at"],
        ended_at=m["ended_at"],
        code_fingerprint=m["code_fingerprint"],
        cache_key=m["cache_key"],
        input_digests=m["input_digests"],
        environment=m["environment"],
        cpu_seconds=m["cpu_seconds"],
        peak_memory_bytes=m["peak_memory_bytes"],
        wall_seconds=m["wall_seconds"],
        tags=m["tags"],
        error=m["error"],
        cached_from=m["cached_from"],
        attempts=m["attempts"],
        inputs=inputs,
        outputs=outputs,
    )


class ExecutionsMixin(StoreBase):
    # -- artifacts -----------------------------------------------------------------------------------

    def put_artifact(
        self, type: ArtifactType | str, uri: str, digest: str, properties: dict[str, Any] | None = None
    ) -> ArtifactRef:
        """Record an artifact, or return the existing record of the same (type, digest, uri)."""
        kind = artifact_type(type)
        digest = digest.lower()
        if not _DIGEST.match(digest):
            raise UsageError(f"artifact digest must be 64 hex characters (sha256), got '{digest}'")
        if not uri:
            raise UsageError("an artifact needs a uri")
        row = {"type": kind.value, "uri": uri, "digest": digest, "properties": properties or {}}
        with self._write() as conn:
            self._insert_ignore(conn, artifacts, [{**row, "created_at": now()}])
            found = conn.execute(
                sa.select(artifacts).where(
                    artifacts.c.type == kind.value, artifacts.c.digest == digest, artifacts.c.uri == uri
                )
            ).one()
        return artifact_ref(found)

    def get_artifact(self, artifact_id: int) -> ArtifactRef:
        with self._read() as conn:
            row = conn.execute(sa.select(artifacts).where(artifacts.c.id == artifact_id)).first()
        if row is None:
            raise NotFound(f"no artifact with id {artifact_id}", hint="`yard artifacts` lists artifacts")
        return artifact_ref(row)

    def find_artifacts_by_digest(self, digest_prefix: str) -> list[ArtifactRef]:
        """Artifacts whose digest starts with the prefix (what a user copies from a listing), newest first."""
        prefix = digest_prefix.lower()
        if not prefix or not _HEX.match(prefix):
            return []
        query = (
            sa.select(artifacts)
            .where(artifacts.c.digest.startswith(prefix, autoescape=True))
            .order_by(artifacts.c.created_at.desc(), artifacts.c.id.desc())
        )
        with self._read() as conn:
            return [artifact_ref(r) for r in conn.execute(query)]

    def list_artifacts(
        self, *, type: ArtifactType | str | None = None, limit: int = 50, offset: int = 0
    ) -> list[ArtifactRef]:
        query = sa.select(artifacts)
        if type is not None:
            query = query.where(artifacts.c.type == artifact_type(type).value)
        query = query.order_by(artifacts.c.created_at.desc(), artifacts.c.id.desc()).limit(limit).offset(offset)
        with self._read() as conn:
            return [artifact_ref(r) for r in conn.execute(query)]

    # -- executions ----------------------------------------------------------------------------------

    def create_execution(
        self,
        *,
        run_id: str,
        step: str,
        component: str,
        params: dict[str, Any],
        code_fingerprint: str,
        cache_key: str,
        input_digests: dict[str, str],
        environment: dict[str, Any] | None = None,
        tags: dict[str, Any] | None = None,
        status: str = "running",
    ) -> int:
        check_choice("execution status", status, EXECUTION_STATUSES)
        stamp = now()
        values = {
            "run_id": run_id,
            "step": step,
            "component": component,
            "params": params,
            "status": status,
            "started_at": stamp,
            "ended_at": None if status == "running" else stamp,
            "code_fingerprint": code_fingerprint,
            "cache_key": cache_key,
            "input_digests": input_digests,
            "environment": environment or {},
            "tags": tags or {},
            "attempts": 1,
        }
        with self._write() as conn:
            if conn.execute(sa.select(runs.c.id).where(runs.c.id == run_id)).first() is None:
                raise NotFound(f"cannot record step '{step}': no run '{run_id}'", hint="create the run first")
            return conn.execute(executions.insert().values(**values)).inserted_primary_key[0]

    def finish_execution(
        self,
        execution_id: int,
        status: str,
        *,
        cpu_seconds: float | None = None,
        peak_memory_bytes: int | None = None,
        wall_seconds: float | None = None,
        error: str | None = None,
        cached_from: int | None = None,
        attempts: int = 1,
    ) -> None:
        """Record how a step ended; wall time defaults to the time since it was created."""
        check_choice("execution status", status, EXECUTION_STATUSES)
        stamp = now()
        wall: Any = sa.literal(stamp) - executions.c.started_at if wall_seconds is None else wall_seconds
        stmt = (
            executions.update()
            .where(executions.c.id == execution_id)
            .values(
                status=status,
                ended_at=stamp,
                cpu_seconds=cpu_seconds,
                peak_memory_bytes=peak_memory_bytes,
                wall_seconds=wall,
                error=error,
                cached_from=cached_from,
                attempts=attempts,
            )
        )
        try:
            with self._write() as conn:
                if conn.execute(stmt).rowcount == 0:
                    raise NotFound(f"no execution with id {execution_id}")
        except IntegrityError:
            raise NotFound(f"cached_from: no execution with id {cached_from}") from None

    def add_events(
        self, execution_id: int, *, inputs: dict[str, int] | None = None, outputs: dict[str, int] | None = None
    ) -> None:
        """Record which artifacts (by id) a step read and wrote, under the step's input/output names."""
        rows = [
            {"execution_id": execution_id, "artifact_id": artifact_id, "kind": kind, "name": name}
            for kind, named in (("input", inputs or {}), ("output", outputs or {}))
            for name, artifact_id in named.items()
        ]
        try:
            with self._write() as conn:
                self._insert_ignore(conn, events, rows)
        except IntegrityError:
            ids = sorted({r["artifact_id"] for r in rows})
            raise NotFound(
                f"cannot record events of execution {execution_id}: it or one of artifacts {ids} does not exist"
            ) from None

    def get_execution(self, execution_id: int) -> Execution:
        with self._read() as conn:
            found = self._executions(conn, executions.c.id == execution_id)
        if not found:
            raise NotFound(f"no execution with id {execution_id}")
        return found[0]

    def list_executions(self, run_id: str) -> list[Execution]:
        """The steps of a run in the order they started, each with its input and output artifacts."""
        with self._read() as conn:
            return self._executions(conn, executions.c.run_id == run_id, newest_first=False)

    def find_cached_execution(self, cache_key: str) -> Execution | None:
        """The newest completed execution with this cache key: the one whose outputs can be reused."""
        with self._read() as conn:
            found = self._executions(
                conn, executions.c.cache_key == cache_key, executions.c.status == "complete", limit=1
            )
        return found[0] if found else None

    def latest_execution(self, *, pipeline: str, step: str) -> Execution | None:
        """The newest successful (or reused) execution of a step in any run of the pipeline.

        The runner compares its cache key with the current one to explain why a step was not reused.
        """
        in_pipeline = executions.c.run_id.in_(sa.select(runs.c.id).where(runs.c.pipeline == pipeline))
        with self._read() as conn:
            found = self._executions(
                conn,
                executions.c.step == step,
                executions.c.status.in_(("complete", "cached")),
                in_pipeline,
                limit=1,
            )
        return found[0] if found else None

    def producer_of(self, artifact_id: int) -> Execution | None:
        """The execution that first wrote this artifact (preferring one that did the work over a reuse)."""
        producers = sa.select(events.c.execution_id).where(
            events.c.artifact_id == artifact_id, events.c.kind == "output"
        )
        reused_last = sa.case((executions.c.status == "cached", 1), else_=0)
        query = (
            sa.select(executions)
            .where(executions.c.id.in_(producers))
            .order_by(reused_last, executions.c.started_at, executions.c.id)
            .limit(1)
        )
        with self._read() as conn:
            row = conn.execute(query).first()
            return None if row is None else self._with_events(conn, [row])[0]

    # -- helpers -------------------------------------------------------------------------------------

    def _executions(
        self, conn: Connection, *where: Any, newest_first: bool = True, limit: int | None = None
    ) -> list[Execution]:
        order = (
            (executions.c.started_at.desc(), executions.c.id.desc())
            if newest_first
            else (executions.c.started_at, executions.c.id)
        )
        query = sa.select(executions).where(*where).order_by(*order)
        if limit is not None:
            query = query.limit(limit)
        return self._with_events(conn, conn.execute(query).all())

    def _with_events(self, conn: Connection, rows: Sequence[Row[Any]]) -> list[Execution]:
        """Attach inputs/outputs to execution rows with one query per chunk of executions."""
        named: dict[int, tuple[dict[str, ArtifactRef], dict[str, ArtifactRef]]] = {
            r._mapping["id"]: ({}, {}) for r in rows
        }
        for chunk in chunks(list(named)):
            query = (
                sa.select(events.c.execution_id, events.c.kind, events.c.name, artifacts)
                .join(artifacts, artifacts.c.id == events.c.artifact_id)
                .where(events.c.execution_id.in_(chunk))
                .order_by(events.c.id)
            )
            for ev in conn.execute(query):
                m = ev._mapping
                ins, outs = named[m["execution_id"]]
                (ins if m["kind"] == "input" else outs)[m["name"]] = artifact_ref(ev)
        return [_execution(r, *named[r._mapping["id"]]) for r in rows]
