"""Walking the event graph: where an artifact came from, and what was built from it.

The walk is breadth-first with a constant number of queries per level (events by a chunk of ids),
because a long pipeline history is thousands of nodes and one query per node would make
``yard lineage`` slow on PostgreSQL over a network. Executions that only reused a cached result
(status 'cached') are left out: they did no work, and the execution they reused is already in the graph.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelyard.core.lineage import (
    LineageEdge,
    LineageGraph,
    LineageNode,
    artifact_key,
    execution_key,
)
from modelyard.errors import NotFound
from modelyard.store.metadata.base import StoreBase, check_choice, chunks
from modelyard.store.metadata.tables import artifacts, events, executions

DIRECTIONS = ("upstream", "downstream")


class LineageMixin(StoreBase):
    def lineage(self, artifact_id: int, *, direction: str = "upstream", max_depth: int | None = None) -> LineageGraph:
        """The lineage graph around an artifact.

        ``upstream`` follows the producing execution's inputs recursively, ``downstream`` the
        executions that consumed the artifact and their outputs. ``max_depth`` counts execution
        levels: 1 is the artifact, its producers (or consumers) and their inputs (or outputs).
        """
        check_choice("lineage direction", direction, DIRECTIONS)
        upstream = direction == "upstream"
        # Upstream: artifact <-output- execution <-input- artifact ...; downstream the reverse.
        near_kind, far_kind = ("output", "input") if upstream else ("input", "output")
        with self._read() as conn:
            if conn.execute(sa.select(artifacts.c.id).where(artifacts.c.id == artifact_id)).first() is None:
                raise NotFound(f"no artifact with id {artifact_id}", hint="`yard artifacts` lists artifacts")
            seen_artifacts: set[int] = {artifact_id}
            seen_executions: set[int] = set()
            edges: dict[tuple[str, str, str, str], LineageEdge] = {}

            def add_edge(art: int, exe: int, kind: str, name: str) -> None:
                a, e = artifact_key(art), execution_key(exe)
                source, target = (a, e) if kind == "input" else (e, a)
                edges.setdefault((source, target, kind, name), LineageEdge(source, target, kind, name))  # type: ignore[arg-type]

            frontier = [artifact_id]
            depth = 0
            while frontier and (max_depth is None or depth < max_depth):
                new_executions: list[int] = []
                for chunk in chunks(frontier):
                    rows = conn.execute(
                        sa.select(events.c.execution_id, events.c.artifact_id, events.c.name)
                        .join(executions, executions.c.id == events.c.execution_id)
                        .where(
                            events.c.kind == near_kind,
                            events.c.artifact_id.in_(chunk),
                            executions.c.status != "cached",
                        )
                        .order_by(events.c.id)
                    )
                    for exe, art, name in rows:
                        add_edge(art, exe, near_kind, name)
                        if exe not in seen_executions:
                            seen_executions.add(exe)
                            new_executions.append(exe)
                frontier = []
                for chunk in chunks(new_executions):
                    rows = conn.execute(
                        sa.select(events.c.execution_id, events.c.artifact_id, events.c.name)
                        .where(events.c.kind == far_kind, events.c.execution_id.in_(chunk))
                        .order_by(events.c.id)
                    )
                    for exe, art, name in rows:
                        add_edge(art, exe, far_kind, name)
                        if art not in seen_artifacts:
                            seen_artifacts.add(art)
                            frontier.append(art)
                depth += 1
            nodes = self._lineage_nodes(conn, sorted(seen_artifacts), sorted(seen_executions))
        return LineageGraph(
            root=artifact_key(artifact_id),
            direction=direction,  # type: ignore[arg-type]
            nodes=nodes,
            edges=tuple(edges.values()),
        )

    def _lineage_nodes(
        self, conn: Connection, artifact_ids: list[int], execution_ids: list[int]
    ) -> dict[str, LineageNode]:
        nodes: dict[str, LineageNode] = {}
        for chunk in chunks(artifact_ids):
            for row in conn.execute(sa.select(artifacts).where(artifacts.c.id.in_(chunk))):
                m = row._mapping
                props: dict[str, Any] = {
                    "type": m["type"],
                    "uri": m["uri"],
                    "digest": m["digest"],
                    "created_at": m["created_at"],
                    "properties": m["properties"],
                }
                node = LineageNode("artifact", m["id"], f"{m['type']} {m['digest'][:12]}", props)
                nodes[node.key] = node
        for chunk in chunks(execution_ids):
            for row in conn.execute(sa.select(executions).where(executions.c.id.in_(chunk))):
                m = row._mapping
                props = {
                    "run_id": m["run_id"],
                    "step": m["step"],
                    "component": m["component"],
                    "status": m["status"],
                    "started_at": m["started_at"],
                    "ended_at": m["ended_at"],
                    "cache_key": m["cache_key"],
                    "params": m["params"],
                }
                node = LineageNode("execution", m["id"], f"{m['step']} ({m['component']})", props)
                nodes[node.key] = node
        return nodes
