"""The runner's writes to the metadata store: executions, their events and artifacts, in one place.

Only the parent process records outcomes, so the lineage of a run is written by one writer in order, and
an artifact row appears only after its content is complete in the store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelyard.core.artifacts import ArtifactRef, ArtifactType
from modelyard.pipeline.plan import PlannedStep
from modelyard.pipeline.worker import StepOutcome


def record_external_inputs(store: Any, planned: PlannedStep) -> dict[str, ArtifactRef]:
    """Files read from outside the store become FILE artifacts with their sha256 (the start of every lineage)."""
    from modelyard.store.artifacts import sha256_file, sha256_tree

    refs: dict[str, ArtifactRef] = {}
    for name, path in planned.external.items():
        resolved = Path(path).resolve()
        digest = sha256_tree(resolved) if resolved.is_dir() else sha256_file(resolved)
        props = {"name": resolved.name, "bytes": _size(resolved)}
        refs[name] = store.put_artifact(ArtifactType.FILE, str(resolved), digest, props)
    return refs


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


def record_reuse(
    store: Any,
    *,
    run_id: str,
    planned: PlannedStep,
    cached: Any,
    fingerprint: str,
    key: str,
    params: dict[str, Any],
    inputs: dict[str, ArtifactRef],
    environment: dict[str, Any],
    context_ids: list[int],
) -> int:
    """A reused step still gets an execution in this run, linked to the same outputs, so lineage stays whole."""
    with store.transaction():
        execution_id = store.create_execution(
            run_id=run_id,
            step=planned.name,
            component=planned.spec.component,
            params=params,
            code_fingerprint=fingerprint,
            cache_key=key,
            input_digests={name: ref.digest for name, ref in inputs.items()},
            environment=environment,
            status="cached",
        )
        store.add_events(
            execution_id,
            inputs={name: ref.id for name, ref in inputs.items()},
            outputs={name: ref.id for name, ref in cached.outputs.items()},
        )
        store.finish_execution(execution_id, "cached", cached_from=cached.cached_from or cached.id, wall_seconds=0.0)
        for context_id in context_ids:
            store.attribute(context_id, execution_ids=[execution_id])
        return execution_id


def record_outcome(
    store: Any,
    *,
    execution_id: int,
    planned: PlannedStep,
    outcome: StepOutcome,
    attempts: int,
    context_ids: list[int],
) -> dict[str, ArtifactRef]:
    """Artifacts and output events of a finished step, then its status and resource use, in one transaction."""
    with store.transaction():
        outputs: dict[str, ArtifactRef] = {}
        for name, (digest, uri, properties) in outcome.outputs.items():
            outputs[name] = store.put_artifact(planned.component.outputs[name], uri, digest, properties)
        if outputs:
            store.add_events(execution_id, outputs={name: ref.id for name, ref in outputs.items()})
            for context_id in context_ids:
                store.attribute(context_id, artifact_ids=[ref.id for ref in outputs.values()])
        store.finish_execution(
            execution_id,
            "failed" if outcome.error else "complete",
            cpu_seconds=outcome.cpu_seconds,
            peak_memory_bytes=outcome.peak_memory_bytes,
            wall_seconds=outcome.wall_seconds,
            error=_error_text(outcome),
            attempts=attempts,
        )
        return outputs


def _error_text(outcome: StepOutcome) -> str | None:
    if outcome.error is None:
        return None
    return outcome.error + (f"\n{outcome.traceback}" if outcome.traceback else "")
