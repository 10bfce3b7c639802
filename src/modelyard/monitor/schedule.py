"""One tick of the loop: monitor the new windows, take the canary's verdict into account, decide, act.

``yard schedule --once`` is one tick (for cron or any orchestrator), ``yard schedule --every 10m`` repeats
it. The exit code of a tick says what happened, so a caller can branch without parsing output:

====  ===================================================================
0     nothing to do: no trigger, or nothing new to judge
10    something needs a person's eyes or time: alerts raised, or a retrain is due but waits
      (cool-down, a canary in progress, too few labels)
20    retrained: a challenger was pushed and is being canaried
21    a retrain was tried but gave no challenger (the new data failed validation, or the model
      was not blessed against the champion)
1     the retrain run failed; 2 a usage or configuration error
====  ===================================================================

Every decision other than "nothing to do" is recorded as a ``decision`` artifact in the metadata store
(and in the monitor state), with its reasons and figures, so ``yard history`` can tell it.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelyard.core.artifacts import ArtifactType
from modelyard.monitor.config import MonitorSettings
from modelyard.monitor.policy import Decision, decide
from modelyard.monitor.service import MonitorOutcome, run_monitor
from modelyard.monitor.state import exclusive, load_state, monitor_folder, save_state

EXIT_NOTHING, EXIT_ATTENTION, EXIT_RETRAINED, EXIT_NO_CHALLENGER, EXIT_FAILED = 0, 10, 20, 21, 1


@dataclass
class TickOutcome:
    monitor: MonitorOutcome
    decision: Decision | None = None
    retrain: dict[str, Any] | None = None
    verdicts: list[dict[str, Any]] = field(default_factory=list)  # canary decisions seen this tick

    @property
    def exit_code(self) -> int:
        if self.retrain is not None:
            status = self.retrain.get("status")
            if status == "challenger":
                return EXIT_RETRAINED
            return EXIT_FAILED if status == "failed" else EXIT_NO_CHALLENGER
        raised = any(a.state == "raised" for a in self.monitor.alerts)
        if raised or (self.decision is not None and self.decision.action == "wait"):
            return EXIT_ATTENTION
        return EXIT_NOTHING

    def to_dict(self) -> dict[str, Any]:
        return {
            "monitor": self.monitor.to_dict(),
            "decision": self.decision.to_dict() if self.decision is not None else None,
            "retrain": self.retrain,
            "canary_verdicts": self.verdicts,
            "exit_code": self.exit_code,
        }


def _record_decision(settings: Any, model: str, record: dict[str, Any]) -> None:
    """A decision artifact (decision.json) in the stores, so the history outlives the state file."""
    from modelyard.store.artifacts import ArtifactStore
    from modelyard.store.metadata.store import MetadataStore

    with tempfile.TemporaryDirectory(prefix="modelyard-decision-") as tmp:
        path = Path(tmp) / "decision.json"
        path.write_text(json.dumps(record, indent=1, sort_keys=True, default=str), encoding="utf-8")
        digest, uri = ArtifactStore.open(settings.store_url).put(path)
    store = MetadataStore.open(settings.db_url, create=False)
    try:
        props = {k: record.get(k) for k in ("model", "at", "action", "reasons", "outcome")}
        store.put_artifact(ArtifactType.DECISION, uri, digest, props)
    finally:
        store.close()


def _new_verdicts(settings: Any, model: str, state: dict[str, Any]) -> list[dict[str, Any]]:
    """Canary decisions the server's policy (or a person) took since the last tick."""
    from modelyard.serve.deployment import DeploymentStore

    found = DeploymentStore(settings.home / "deployments").find(model)
    last = found.last_decision if found is not None else None
    seen = state.setdefault("seen_verdicts", [])
    if not last:
        return []
    key = f"{last.get('at')}|{last.get('action')}|{last.get('version')}"
    if key in seen:
        return []
    seen.append(key)
    return [last]


def _champion(settings: Any, model: str) -> str | None:
    """The version the champion alias names now (it may have moved since the windows were judged)."""
    from modelyard.errors import NotFound
    from modelyard.registry.registry import Registry
    from modelyard.store.metadata.store import MetadataStore

    store = MetadataStore.open(settings.db_url, create=False)
    try:
        return Registry(store).resolve(model, "champion").version
    except NotFound:  # no champion yet: every window counts
        return None
    finally:
        store.close()


def _canary_active(settings: Any, model: str) -> bool:
    from modelyard.serve.deployment import DeploymentStore

    found = DeploymentStore(settings.home / "deployments").find(model)
    return bool(found is not None and found.active)


def tick(
    settings: Any,
    definition: Any,
    config: MonitorSettings,
    *,
    echo: Any | None = None,
    now: dt.datetime | None = None,
    observer: Any | None = None,
) -> TickOutcome:
    """Monitor, decide and act once for ``config.model``; every decision is recorded."""
    from modelyard.monitor.retrain import run_retrain

    folder = monitor_folder(settings.home, config.model)
    with exclusive(folder):
        outcome = TickOutcome(run_monitor(settings, config, echo=echo, now=now))
        state = load_state(folder)
        outcome.verdicts = _new_verdicts(settings, config.model, state)
        for verdict in outcome.verdicts:
            if echo is not None:
                echo(f"canary verdict: {verdict.get('action')} {verdict.get('version')} — {verdict.get('reason')}")
        if config.retrain is None:
            save_state(folder, state)
            return outcome
        decision = decide(state, config.retrain, canary_active=_canary_active(settings, config.model), now=now,
                          champion=_champion(settings, config.model))  # fmt: skip
        outcome.decision = decision
        stamp = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
        if decision.action == "retrain":
            if echo is not None:
                echo("retraining: " + "; ".join(decision.reasons))
            outcome.retrain = run_retrain(settings, definition, config, decision, observer=observer)
            last_end = max(w["end"] for w in state["windows"])
            state["last_retrain"] = {"at": stamp, "after": last_end, **outcome.retrain}
        record = {"model": config.model, "at": stamp, **decision.to_dict(), "outcome": outcome.retrain}
        previous = state["decisions"][-1] if state["decisions"] else None
        changed = previous is None or (previous.get("action"), previous.get("reasons")) != (
            record["action"], record["reasons"])  # fmt: skip
        # a decision is recorded when it is one (retrain, wait) and changed, or when it ends an earlier one
        worth = decision.action == "retrain" or (changed and (decision.action != "none" or previous is not None))
        if worth:
            state["decisions"].append(record)
            _record_decision(settings, config.model, record)
        save_state(folder, state)
    return outcome
