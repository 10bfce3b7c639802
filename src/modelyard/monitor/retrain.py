"""Acting on a retrain decision: the new data span, its validation, the pipeline run, the canary.

The span is the labelled traffic of the chosen windows (raw inputs as the clients sent them, with the
label posted later as the label column), written as one Parquet file under ``.modelyard/spans/NAME/``.
It is validated against the champion's schema first (contract checks only: a drifted distribution is
the reason to retrain, a broken contract — a missing column, a type change, values out of domain — is a
reason not to). Then the project's own pipeline runs with its ingest step pointed at the span: the same
steps, caching, evaluation against the champion and push as a normal run. When the push leaves a new
challenger, a canary starts with the monitor's canary settings and the server's policy decides.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from modelyard.core.anomalies import AnomalyCode
from modelyard.errors import UsageError
from modelyard.monitor.config import MonitorSettings
from modelyard.monitor.policy import Decision

#: Codes that describe distributions, not the contract: expected in a span that exists because data moved.
_DISTRIBUTION_CODES = {AnomalyCode.DRIFT, AnomalyCode.SKEW}


def contract_errors(span: Path, schema: Any, carried: set[str]) -> list[str]:
    """Error-severity contract anomalies of the span, as messages. Drift codes are left out, and so is the
    absence of a column the traffic cannot carry (one the model does not take: ``carried`` lists those it has)."""
    from modelyard.data.statistics import compute_statistics
    from modelyard.data.validation import validate_statistics

    found = validate_statistics(compute_statistics(span), schema)
    return [
        f"{a.code}: {a.message}"
        for a in found
        if str(a.severity) == "error"
        and a.code not in _DISTRIBUTION_CODES
        and not (a.code == AnomalyCode.MISSING_COLUMN and a.column not in carried)
    ]


def run_retrain(
    settings: Any, definition: Any, config: MonitorSettings, decision: Decision, *, observer: Any | None = None
) -> dict[str, Any]:
    """Span -> validation -> pipeline run -> canary. Returns what happened, with figures, for the record."""
    from modelyard.pipeline.events import SilentObserver
    from modelyard.pipeline.plan import plan_pipeline
    from modelyard.pipeline.runner import LocalRunner
    from modelyard.registry.registry import Registry
    from modelyard.serve.deployment import CHALLENGER
    from modelyard.store.artifacts import ArtifactStore
    from modelyard.store.metadata.store import MetadataStore

    name = config.model
    policy = config.retrain
    if policy is None:
        raise UsageError(f"model '{name}' has no retrain policy (monitor.retrain in pipeline.yaml)")
    artifacts = ArtifactStore.open(settings.store_url)
    store = MetadataStore.open(settings.db_url, create=False)
    try:
        registry = Registry(store)
        champion = registry.resolve(name, "champion")
        package_dir = artifacts.local_path(store.get_artifact(champion.artifact_id).digest)
        before = store.get_alias(name, CHALLENGER)
    finally:
        store.close()
    from modelyard.models.package import load_package
    from modelyard.models.reference import read_reference
    from modelyard.monitor.logwindow import write_labelled_span

    package = load_package(package_dir)
    inputs = [c["name"] for c in package.signature.get("inputs", [])]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    span = settings.home / "spans" / name / f"span-{stamp}.parquet"
    predictions = config.log_source(settings.home)
    first = dt.datetime.fromisoformat(decision.span[0]["start"])
    last = dt.datetime.fromisoformat(decision.span[-1]["end"])
    rows = write_labelled_span(predictions, settings.home / "feedback", name, package.signature,
                               package.label, first, last, span)  # fmt: skip
    result: dict[str, Any] = {"span": str(span), "span_rows": rows}
    if rows < policy.min_labels:
        return {**result, "status": "refused", "why": f"only {rows} labelled rows in the span"}
    schema = read_reference(package_dir).schema
    if schema is not None:
        problems = contract_errors(span, schema, {*inputs, package.label})
        if problems:
            return {**result, "status": "refused", "why": "the new data fails validation", "anomalies": problems}
    retrain_definition = _pointed_at(definition, policy.ingest_step, span)
    report = LocalRunner(settings, observer=observer or SilentObserver()).run(plan_pipeline(retrain_definition))
    result.update(run_id=report.run_id, run_status=report.status)
    if report.status != "complete":
        return {**result, "status": "failed", "why": f"the retrain run {report.run_id} ended {report.status}"}
    store = MetadataStore.open(settings.db_url, create=False)
    try:
        after = store.get_alias(name, CHALLENGER)
    finally:
        store.close()
    if not after or after == before:
        return {**result, "status": "not_pushed", "why": "the retrained model was not blessed against the champion"}
    result.update(challenger=after, status="challenger", canary=_start_canary(settings, config))
    return result


def _pointed_at(definition: Any, step: str, span: Path) -> Any:
    """The same pipeline with ``step``'s ``path`` parameter replaced by the span file."""
    from dataclasses import replace

    from modelyard.errors import ConfigError, did_you_mean

    steps = dict(definition.spec.steps)
    if step not in steps:
        raise ConfigError(f"monitor.retrain.ingest_step: no step '{step}' in the pipeline",
                          hint=did_you_mean(step, steps))  # fmt: skip
    spec = steps[step]
    steps[step] = spec.model_copy(update={"params": {**spec.params, "path": str(span)}})
    return replace(definition, spec=definition.spec.model_copy(update={"steps": steps}))


def _start_canary(settings: Any, config: MonitorSettings) -> dict[str, Any]:
    from modelyard.serve.deployment import DecisionPolicy, Deployment, DeploymentStore

    canary = config.canary
    deployments = DeploymentStore(settings.home / "deployments")
    record = deployments.find(config.model) or Deployment(name=config.model)
    policy = DecisionPolicy(auto=True, min_requests=canary.min_requests, max_error_rate=canary.max_error_rate,
                            max_latency_ratio=canary.max_latency_ratio, max_distance=canary.max_distance)  # fmt: skip
    deployments.put(record.restarted(canary_percent=canary.percent, shadow_percent=0.0, policy=policy))
    return {"percent": canary.percent, "min_requests": canary.min_requests}
