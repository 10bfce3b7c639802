"""Where a registered version came from: its data, schema, transform, training code and evaluation.

A version row only points at a model artifact; everything else is found by walking the lineage the
pipeline recorded (ML Metadata style): upstream from the model for the data, schema, transform and the
training execution (whose code fingerprint pins the code), downstream for the evaluation and blessing
that judged it. Nothing here is stored twice, so it cannot disagree with ``yard lineage``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_UPSTREAM_TYPES = ("file", "dataset", "statistics", "schema", "transform")


def _artifact(node: Any) -> dict[str, Any]:
    props = node.properties
    out = {"id": node.id, "type": props.get("type"), "digest": props.get("digest"), "uri": props.get("uri")}
    if props.get("properties"):
        out["properties"] = props["properties"]
    return out


def _read_json(artifacts: Any, digest: str, name: str) -> Any:
    if artifacts is None:
        return None
    path = Path(artifacts.local_path(digest)) / name
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def version_provenance(store: Any, version: Any, artifacts: Any | None = None) -> dict[str, Any]:
    """``{"model", "training", "data": [...], "schema", "transform", "evaluation", "blessing"}``.

    ``artifacts`` (an ArtifactStore) is optional; with it the evaluation's metrics and the blessing's
    verdict are read from their files. Parts the lineage does not have (a package registered by hand)
    are None.
    """
    out: dict[str, Any] = {"model": {"id": version.artifact_id, "digest": version.digest}}
    upstream = store.lineage(version.artifact_id, direction="upstream")
    found: dict[str, list[dict[str, Any]]] = {}
    for node in upstream.artifacts():
        kind = node.properties.get("type")
        if kind in _UPSTREAM_TYPES and node.id != version.artifact_id:
            found.setdefault(kind, []).append(_artifact(node))
    out["data"] = found.get("file", []) + found.get("dataset", [])
    out["schema"] = (found.get("schema") or [None])[0]
    out["transform"] = (found.get("transform") or [None])[0]
    producer = store.producer_of(version.artifact_id)
    out["training"] = (
        None
        if producer is None
        else {
            "execution": producer.id,
            "run_id": producer.run_id,
            "step": producer.step,
            "code_fingerprint": producer.code_fingerprint,
            "params": producer.params,
        }
    )
    out["evaluation"], out["blessing"] = _judgement(store, version, artifacts)
    return out


def _judgement(store: Any, version: Any, artifacts: Any) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The evaluation and blessing made from this model, preferring the run that registered it."""
    downstream = store.lineage(version.artifact_id, direction="downstream", max_depth=1)
    candidates: dict[str, list[tuple[bool, int, Any]]] = {}
    for node in downstream.artifacts():
        kind = node.properties.get("type")
        if kind not in ("evaluation", "blessing"):
            continue
        producers = downstream.parents(node.key)
        same_run = any(p.properties.get("run_id") == version.run_id for p in producers)
        candidates.setdefault(kind, []).append((same_run, node.id, node))
    picked: dict[str, dict[str, Any] | None] = {"evaluation": None, "blessing": None}
    for kind, options in candidates.items():
        _, _, node = max(options, key=lambda option: (option[0], option[1]))
        entry = _artifact(node)
        if kind == "evaluation":
            data = _read_json(artifacts, entry["digest"], "metrics.json") or {}
            entry["metrics"] = data.get("metrics")
            entry["champion"] = data.get("champion")
        else:
            data = _read_json(artifacts, entry["digest"], "blessing.json") or {}
            entry["blessed"] = data.get("blessed")
            entry["summary"] = data.get("summary")
        picked[kind] = entry
    return picked["evaluation"], picked["blessing"]
