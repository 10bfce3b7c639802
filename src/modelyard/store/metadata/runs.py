"""Runs and contexts: what ran, where, and whether it is still alive.

A run records the host and pid of the process driving it and a heartbeat, because a killed runner
cannot mark its own run as crashed; ``reconcile_stale_runs`` does it for it the next time anyone
looks, so ``yard runs`` never shows a run as "running" forever.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from modelyard.errors import NotFound, UsageError, did_you_mean
from modelyard.store.liveness import pid_alive
from modelyard.store.metadata.base import StoreBase, check_choice, now
from modelyard.store.metadata.records import (
    CONTEXT_TYPES,
    RUN_KINDS,
    RUN_STATUSES,
    TERMINAL_RUN_STATUSES,
    Run,
)
from modelyard.store.metadata.tables import associations, attributions, contexts, executions, runs

MIN_PREFIX = 4
_RUN_ID = re.compile(r"^[0-9a-f]+$")


def _run(row: Row[Any]) -> Run:
    m = row._mapping
    return Run(
        id=m["id"],
        kind=m["kind"],
        name=m["name"],
        pipeline=m["pipeline"],
        project=m["project"],
        experiment=m["experiment"],
        parent_run_id=m["parent_run_id"],
        status=m["status"],
        spec=m["spec"],
        error=m["error"],
        started_at=m["started_at"],
        ended_at=m["ended_at"],
        heartbeat_at=m["heartbeat_at"],
        host=m["host"],
        pid=m["pid"],
    )


class RunsMixin(StoreBase):
    # -- contexts ------------------------------------------------------------------------------------

    def put_context(self, type: str, name: str, properties: dict[str, Any] | None = None) -> int:
        """The id of the (type, name) context, creating it the first time; later properties are ignored."""
        check_choice("context type", type, CONTEXT_TYPES)
        if not name:
            raise UsageError(f"a {type} context needs a name")
        row = {"type": type, "name": name, "properties": properties or {}, "created_at": now()}
        with self._write() as conn:
            self._insert_ignore(conn, contexts, [row])
            return conn.execute(
                sa.select(contexts.c.id).where(contexts.c.type == type, contexts.c.name == name)
            ).scalar_one()

    def attribute(
        self, context_id: int, *, artifact_ids: Iterable[int] = (), execution_ids: Iterable[int] = ()
    ) -> None:
        """Make artifacts and executions members of a context (a project, pipeline, experiment...)."""
        with self._write() as conn:
            if conn.execute(sa.select(contexts.c.id).where(contexts.c.id == context_id)).first() is None:
                raise NotFound(f"context {context_id} does not exist")
            a_rows = [{"context_id": context_id, "artifact_id": a} for a in dict.fromkeys(artifact_ids)]
            e_rows = [{"context_id": context_id, "execution_id": e} for e in dict.fromkeys(execution_ids)]
            self._insert_ignore(conn, attributions, a_rows)
            self._insert_ignore(conn, associations, e_rows)

    def context_members(self, context_id: int) -> tuple[list[int], list[int]]:
        """(artifact ids, execution ids) attributed or associated to a context, in id order."""
        with self._read() as conn:
            arts = conn.execute(
                sa.select(attributions.c.artifact_id)
                .where(attributions.c.context_id == context_id)
                .order_by(attributions.c.artifact_id)
            ).scalars()
            execs = conn.execute(
                sa.select(associations.c.execution_id)
                .where(associations.c.context_id == context_id)
                .order_by(associations.c.execution_id)
            ).scalars()
            return list(arts), list(execs)

    # -- runs ----------------------------------------------------------------------------------------

    def create_run(
        self,
        *,
        kind: str = "pipeline",
        name: str | None = None,
        pipeline: str | None = None,
        project: str | None = None,
        experiment: str | None = None,
        spec: dict[str, Any] | None = None,
        parent_run_id: str | None = None,
    ) -> str:
        """Record a new run driven by this process (host, pid) as 'running'; returns its 12-hex id."""
        check_choice("run kind", kind, RUN_KINDS)
        run_id = secrets.token_hex(6)
        stamp = now()
        with self._write() as conn:
            if parent_run_id is not None:
                parent_run_id = self._resolve_run_id(conn, parent_run_id)
            conn.execute(
                runs.insert().values(
                    id=run_id,
                    kind=kind,
                    name=name,
                    pipeline=pipeline,
                    project=project,
                    experiment=experiment,
                    parent_run_id=parent_run_id,
                    status="running",
                    spec=spec,
                    error=None,
                    started_at=stamp,
                    ended_at=None,
                    heartbeat_at=stamp,
                    host=socket.gethostname(),
                    pid=os.getpid(),
                )
            )
        return run_id

    def get_run(self, run_id: str) -> Run:
        """The run with this id or unique id prefix (at least 4 characters)."""
        with self._read() as conn:
            return self._get_run(conn, run_id)

    def find_run(self, run_id: str) -> Run | None:
        try:
            return self.get_run(run_id)
        except NotFound:
            return None

    def list_runs(
        self,
        *,
        pipeline: str | None = None,
        experiment: str | None = None,
        kind: str | None = None,
        status: str | None = None,
        project: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Run]:
        """Runs newest first, filtered by any of the given fields."""
        query = sa.select(runs)
        for column, value in (
            (runs.c.pipeline, pipeline),
            (runs.c.experiment, experiment),
            (runs.c.kind, kind),
            (runs.c.status, status),
            (runs.c.project, project),
        ):
            if value is not None:
                query = query.where(column == value)
        query = query.order_by(runs.c.started_at.desc(), runs.c.id.desc()).limit(limit).offset(offset)
        with self._read() as conn:
            return [_run(r) for r in conn.execute(query)]

    def set_run_status(self, run_id: str, status: str, *, error: str | None = None) -> None:
        """Move a run to a new status; 'running' again means resumed by this process."""
        check_choice("run status", status, RUN_STATUSES)
        stamp = now()
        if status in TERMINAL_RUN_STATUSES:
            values: dict[str, Any] = {"status": status, "ended_at": stamp, "error": error}
        else:
            values = {
                "status": status,
                "ended_at": None,
                "error": None,
                "heartbeat_at": stamp,
                "host": socket.gethostname(),
                "pid": os.getpid(),
            }
        with self._write() as conn:
            self._update_run(conn, run_id, values)

    def heartbeat(self, run_id: str) -> None:
        """Tell ``reconcile_stale_runs`` (in any process, on any host) that this run is alive."""
        with self._write() as conn:
            self._update_run(conn, run_id, {"heartbeat_at": now()})

    def reconcile_stale_runs(self, *, stale_after_seconds: float = 120.0) -> list[str]:
        """Mark runs whose driving process is gone as 'crashed' (and their running steps 'failed').

        A run started on this host is stale when its pid is no longer alive; a run on another host
        when its heartbeat is older than ``stale_after_seconds`` (the only signal available there).
        A live local process is never judged by its heartbeat: a notebook holding a tracking run open
        between cells sends none, and is not dead.
        """
        host = socket.gethostname()
        stamp = now()
        fixed: list[str] = []
        with self._write() as conn:
            rows = conn.execute(
                sa.select(runs.c.id, runs.c.host, runs.c.pid, runs.c.heartbeat_at).where(runs.c.status == "running")
            ).all()
            for run_id, run_host, pid, heartbeat_at in rows:
                if run_host == host:
                    if pid_alive(pid):
                        continue
                    reason = f"process {pid} on {run_host} died"
                elif stamp - heartbeat_at > stale_after_seconds:
                    reason = f"no heartbeat from {run_host} (pid {pid}) for {stamp - heartbeat_at:.0f} s"
                else:
                    continue
                conn.execute(
                    runs.update()
                    .where(runs.c.id == run_id, runs.c.status == "running")
                    .values(status="crashed", ended_at=stamp, error=reason)
                )
                conn.execute(
                    executions.update()
                    .where(executions.c.run_id == run_id, executions.c.status == "running")
                    .values(status="failed", ended_at=stamp, error="process died")
                )
                fixed.append(run_id)
        return fixed

    # -- helpers -------------------------------------------------------------------------------------

    def _update_run(self, conn: Connection, run_id: str, values: dict[str, Any]) -> None:
        result = conn.execute(runs.update().where(runs.c.id == run_id).values(**values))
        if result.rowcount == 0:  # not a full id: a unique prefix is fine, anything else raises
            full_id = self._resolve_run_id(conn, run_id)
            conn.execute(runs.update().where(runs.c.id == full_id).values(**values))

    def _resolve_run_id(self, conn: Connection, run_id: str) -> str:
        return self._get_run(conn, run_id).id

    def _get_run(self, conn: Connection, run_id: str) -> Run:
        row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).first()
        if row is not None:
            return _run(row)
        prefix = run_id.lower()
        if len(prefix) >= MIN_PREFIX and _RUN_ID.match(prefix):
            rows = conn.execute(sa.select(runs).where(runs.c.id.startswith(prefix, autoescape=True)).limit(6)).all()
            if len(rows) == 1:
                return _run(rows[0])
            if len(rows) > 1:
                shown = ", ".join(r._mapping["id"] for r in rows[:5])
                raise NotFound(
                    f"no single run '{run_id}': the prefix is ambiguous: it matches {shown}"
                    + (" and more" if len(rows) > 5 else ""),
                    hint="give more characters of the run id",
                )
        recent = conn.execute(sa.select(runs.c.id).order_by(runs.c.started_at.desc()).limit(500)).scalars()
        close = did_you_mean(run_id, recent)
        hint = close if close and close.startswith("did you mean") else "`yard runs` lists run ids"
        if len(run_id) < MIN_PREFIX:
            hint = f"give at least {MIN_PREFIX} characters of the run id; " + hint
        raise NotFound(f"no run '{run_id}'", hint=hint)
