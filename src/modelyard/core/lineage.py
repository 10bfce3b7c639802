"""The lineage graph: artifacts and executions joined by input/output events, as in ML Metadata.

The metadata store builds it, the CLI prints it and the UI draws it; keeping it a plain value here means
those three never disagree about what an edge means. Edges follow the data: an input event is an edge
from the artifact to the execution that read it, an output event an edge from the execution to the
artifact it wrote. Node keys are strings (``"a:<id>"``, ``"e:<id>"``) so that artifact 7 and execution 7
can live in one mapping and survive a round trip through JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

NodeKind = Literal["artifact", "execution"]
EdgeKind = Literal["input", "output"]
Direction = Literal["upstream", "downstream"]

_PREFIX = {"artifact": "a", "execution": "e"}


def artifact_key(artifact_id: int) -> str:
    return f"a:{artifact_id}"


def execution_key(execution_id: int) -> str:
    return f"e:{execution_id}"


@dataclass(frozen=True)
class LineageNode:
    """One artifact or execution; ``properties`` holds what a viewer shows next to the label."""

    kind: NodeKind
    id: int
    label: str
    properties: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def key(self) -> str:
        return f"{_PREFIX[self.kind]}:{self.id}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "label": self.label, "properties": dict(self.properties)}


@dataclass(frozen=True)
class LineageEdge:
    """A data-flow edge between two node keys; ``name`` is the step's input or output name."""

    source: str
    target: str
    kind: EdgeKind
    name: str

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "target": self.target, "kind": self.kind, "name": self.name}


@dataclass(frozen=True)
class LineageGraph:
    """The part of the lineage reachable from ``root`` walking ``direction``.

    Upstream graphs answer "where did this come from", downstream graphs "what was built from this";
    either way the edges keep pointing along the data flow, so a drawing needs no special cases.
    """

    root: str
    direction: Direction
    nodes: dict[str, LineageNode] = field(hash=False)
    edges: tuple[LineageEdge, ...] = ()

    def parents(self, key: str) -> list[LineageNode]:
        """Nodes with an edge into ``key`` (an artifact's producer, an execution's inputs)."""
        return [self.nodes[e.source] for e in self.edges if e.target == key and e.source in self.nodes]

    def children(self, key: str) -> list[LineageNode]:
        """Nodes ``key`` has an edge to (an artifact's consumers, an execution's outputs)."""
        return [self.nodes[e.target] for e in self.edges if e.source == key and e.target in self.nodes]

    def artifacts(self) -> list[LineageNode]:
        return [n for n in self.nodes.values() if n.kind == "artifact"]

    def executions(self) -> list[LineageNode]:
        return [n for n in self.nodes.values() if n.kind == "execution"]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form; nodes are a list (artifacts, then executions, by id) because JSON consumers expect one."""
        return {
            "root": self.root,
            "direction": self.direction,
            "nodes": [n.to_dict() for n in sorted(self.nodes.values(), key=lambda n: (n.kind, n.id))],
            "edges": [e.to_dict() for e in self.edges],
        }
