"""``diff``: what changed between two versions of a model, in the terms a reviewer asks about.

Signature (could a client break?), estimator and its parameters, the transform, the data and code it
was trained from, and the evaluation metrics side by side. Each section lists only differences, so an
empty section means "the same".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from modelyard.registry import semver


def _manifest(artifacts: Any, digest: str) -> dict[str, Any]:
    path = Path(artifacts.local_path(digest)) / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _changed(a: dict[str, Any], b: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: {"from": a.get(k), "to": b.get(k)} for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def _signature_changes(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    before = {f["name"]: f for f in (old or {}).get("inputs", [])}
    after = {f["name"]: f for f in (new or {}).get("inputs", [])}
    changed = {n: {"from": before[n], "to": after[n]} for n in before if n in after and before[n] != after[n]}
    return {
        "added": sorted(set(after) - set(before)),
        "removed": sorted(set(before) - set(after)),
        "changed": changed,
        "breaking": semver.incompatible(old, new),
    }


def diff_versions(store: Any, artifacts: Any, name: str, first: str, second: str) -> dict[str, Any]:
    """Differences between versions ``first`` and ``second`` of model ``name``."""
    from modelyard.registry.provenance import version_provenance

    a, b = store.get_model_version(name, first), store.get_model_version(name, second)
    ma, mb = _manifest(artifacts, a.digest), _manifest(artifacts, b.digest)
    pa, pb = version_provenance(store, a, artifacts), version_provenance(store, b, artifacts)
    ea, eb = ma.get("estimator", {}), mb.get("estimator", {})
    metrics_a = (pa["evaluation"] or {}).get("metrics") or {}
    metrics_b = (pb["evaluation"] or {}).get("metrics") or {}
    metrics = {
        k: {"from": metrics_a.get(k), "to": metrics_b.get(k),
            "change": None if k not in metrics_a or k not in metrics_b else metrics_b[k] - metrics_a[k]}
        for k in sorted(set(metrics_a) | set(metrics_b))
    }  # fmt: skip

    def digest_of(p: dict[str, Any], key: str) -> str | None:
        return (p.get(key) or {}).get("digest")

    lineage = {
        "data": {
            "from": [d["digest"] for d in pa["data"]],
            "to": [d["digest"] for d in pb["data"]],
        },
        "schema": {"from": digest_of(pa, "schema"), "to": digest_of(pb, "schema")},
        "transform": {"from": digest_of(pa, "transform"), "to": digest_of(pb, "transform")},
        "code_fingerprint": {
            "from": (pa["training"] or {}).get("code_fingerprint"),
            "to": (pb["training"] or {}).get("code_fingerprint"),
        },
    }
    return {
        "name": name,
        "from": first,
        "to": second,
        "digest": {"from": a.digest, "to": b.digest},
        "signature": _signature_changes(a.signature, b.signature),
        "estimator": {
            "class": {"from": ea.get("class"), "to": eb.get("class")} if ea.get("class") != eb.get("class") else {},
            "params": _changed(ea.get("params", {}), eb.get("params", {})),
        },
        "lineage": {k: v for k, v in lineage.items() if v["from"] != v["to"]},
        "metrics": metrics,
    }
