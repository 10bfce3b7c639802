"""Step caching: the key is the component's code fingerprint, its parameters and its input digests (as in TFX).

When a step is not reused, :func:`explain_miss` compares with the step's last successful execution and says
which of the three changed, so ``yard run`` can tell the user why.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from modelyard.pipeline.code_refs import fingerprint_ref
from modelyard.pipeline.plan import PlannedStep


def canonical_params(planned: PlannedStep) -> dict[str, Any]:
    params = planned.params
    if hasattr(params, "model_dump"):
        return params.model_dump(mode="json")
    return json.loads(json.dumps(params, sort_keys=True, default=str))


def code_fingerprint(planned: PlannedStep, base_dir: Any) -> str:
    """The component's source plus the source of any user code its parameters name."""
    digest = hashlib.sha256(planned.component.source_fingerprint().encode())
    params = canonical_params(planned)
    for name in planned.component.code_params:
        ref = params.get(name)
        if ref:
            digest.update(f"{name}={fingerprint_ref(str(ref), base_dir=base_dir)}".encode())
    return digest.hexdigest()


def cache_key(component: str, fingerprint: str, params: dict[str, Any], input_digests: dict[str, str]) -> str:
    payload = json.dumps(
        {"component": component, "code": fingerprint, "params": params, "inputs": input_digests},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def explain_miss(
    previous: Any | None, *, fingerprint: str, params: dict[str, Any], input_digests: dict[str, str]
) -> str:
    """One line: why the last successful execution of this step could not be reused."""
    if previous is None:
        return "first run of this step"
    reasons: list[str] = []
    if previous.code_fingerprint != fingerprint:
        reasons.append("code changed")
    old_params = previous.params or {}
    for key in sorted(set(old_params) | set(params)):
        if old_params.get(key) != params.get(key):
            reasons.append(f"param {key}: {_short(old_params.get(key))} -> {_short(params.get(key))}")
    old_inputs = previous.input_digests or {}
    for key in sorted(set(old_inputs) | set(input_digests)):
        if old_inputs.get(key) != input_digests.get(key):
            reasons.append(f"input {key} changed ({_digest(old_inputs.get(key))} -> {_digest(input_digests.get(key))})")
    return "; ".join(reasons) if reasons else "cached outputs are no longer in the artifact store"


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if value is not None else "unset"
    return text if len(text) <= 40 else text[:37] + "..."


def _digest(value: str | None) -> str:
    return value[:8] if value else "none"
