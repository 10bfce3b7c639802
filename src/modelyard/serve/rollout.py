"""Promote or roll back a challenger: the registry move (with reason and figures) and the deployment update.

One function per outcome, shared by the automatic policy in the server and by ``yard deploy promote |
rollback``, so that a decision taken by a person and one taken by the policy leave the same trail: the
alias history says who, why and on which figures, and the deployment record keeps the last decision.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, replace
from typing import Any

from modelyard.errors import UsageError
from modelyard.serve.deployment import CHALLENGER, CHAMPION, Deployment, DeploymentStore

POLICY_ACTOR = "modelyard-policy"


def _finish(deployments: DeploymentStore, deployment: Deployment, record: dict[str, Any]) -> Deployment:
    """Stop the comparison (no more canary or shadow traffic) and remember the decision."""
    done = replace(deployment, canary_percent=0.0, shadow_percent=0.0, last_decision=record)
    return deployments.put(done)


def promote_challenger(
    store: Any, deployments: DeploymentStore, name: str, *, actor: str, reason: str, figures: dict[str, Any] | None
) -> dict[str, Any]:
    """The challenger becomes champion; the challenger alias is removed (it has nothing left to prove)."""
    challenger = store.get_alias(name, CHALLENGER)
    if challenger is None:
        raise UsageError(f"model '{name}' has no challenger to promote", hint=f"yard models promote {name} VERSION")
    deployment = deployments.find(name) or Deployment(name=name)
    details = {
        "decision": "promote",
        "figures": figures or {},
        "policy": asdict(deployment.policy),
        "epoch": deployment.epoch,
    }
    version = store.get_model_version(name, challenger)
    previous = store.get_alias(name, CHAMPION)
    store.set_alias(name, CHAMPION, challenger, actor=actor, reason=reason, run_id=version.run_id, details=details)
    store.set_alias(name, CHALLENGER, None, actor=actor, reason=f"promoted to {CHAMPION}", details=details)
    record = {
        "action": "promote",
        "version": challenger,
        "previous_champion": previous,
        "reason": reason,
        "figures": figures or {},
        "actor": actor,
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    _finish(deployments, deployment, record)
    return record


def rollback_challenger(
    store: Any, deployments: DeploymentStore, name: str, *, actor: str, reason: str, figures: dict[str, Any] | None
) -> dict[str, Any]:
    """The challenger loses its traffic and its alias; the champion stays. The history keeps the figures."""
    challenger = store.get_alias(name, CHALLENGER)
    if challenger is None:
        raise UsageError(f"model '{name}' has no challenger to roll back")
    deployment = deployments.find(name) or Deployment(name=name)
    details = {
        "decision": "rollback",
        "rollback": True,
        "from": challenger,
        "figures": figures or {},
        "policy": asdict(deployment.policy),
        "epoch": deployment.epoch,
    }
    store.set_alias(name, CHALLENGER, None, actor=actor, reason=reason, details=details)
    record = {
        "action": "rollback",
        "version": challenger,
        "reason": reason,
        "figures": figures or {},
        "actor": actor,
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    _finish(deployments, deployment, record)
    return record
