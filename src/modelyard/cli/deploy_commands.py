"""``yard deploy``: change what running servers do with a model's challenger, and see how it is doing.

The command only writes the deployment record and the registry; every server worker polls both about once a
second, so a change reaches live traffic without a restart (see serve/deployment.py).
"""

from __future__ import annotations

import getpass
from typing import Any

import typer

from modelyard.cli.context import metadata, settings_of
from modelyard.cli.output import console, emit_json
from modelyard.errors import UsageError, did_you_mean

ACTIONS = ("status", "promote", "rollback")


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy)


def _actor() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def deploy(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The registered model."),
    action: str | None = typer.Argument(None, metavar="[status|promote|rollback]", help="Default: status."),
    canary: float | None = typer.Option(
        None, "--canary", min=0, max=100, help="Percent of requests for the challenger."
    ),
    shadow: float | None = typer.Option(None, "--shadow", min=0, max=100, help="Percent of requests mirrored to it."),
    min_requests: int | None = typer.Option(None, "--min-requests", min=1, help="Decide after this many requests."),
    max_error_rate: float | None = typer.Option(None, "--max-error-rate", min=0, max=1, help="Roll back above it."),
    max_latency_ratio: float | None = typer.Option(None, "--max-latency-ratio", help="p95 challenger/champion."),
    max_distance: float | None = typer.Option(None, "--max-distance", min=0, max=1, help="JS distance of predictions."),
    manual: bool = typer.Option(False, "--manual", help="No automatic decision: promote or roll back by hand."),
    reason: str | None = typer.Option(None, "--reason", help="Why (recorded in the alias history)."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Canary, shadow, promote or roll back a model's challenger on the running servers.

    Example: yard deploy penguins --canary 10            (10% of requests to penguins@challenger)
    Shadow:  yard deploy penguins --shadow 100           (every request mirrored, answers only logged)
    Then:    yard deploy penguins status | promote | rollback
    """
    from dataclasses import replace

    from modelyard.serve.deployment import CHALLENGER, DecisionPolicy, Deployment, DeploymentStore
    from modelyard.serve.rollout import promote_challenger, rollback_challenger

    action = action or "status"
    if action not in ACTIONS:
        raise UsageError(
            f"unknown action '{action}'", hint=did_you_mean(action, ACTIONS) or "status, promote, rollback"
        )
    settings = settings_of(ctx)
    deployments = DeploymentStore(settings.home / "deployments")
    with metadata(ctx) as store:
        aliases = store.aliases(name) if name in store.list_registered_models() else None
        if aliases is None:
            raise UsageError(f"no model named '{name}'", hint=did_you_mean(name, store.list_registered_models()))
        record = deployments.find(name) or Deployment(name=name)
        changes: dict[str, Any] = {}
        if canary is not None:
            changes["canary_percent"] = canary
        if shadow is not None:
            changes["shadow_percent"] = shadow
        limits = {
            "min_requests": min_requests,
            "max_error_rate": max_error_rate,
            "max_latency_ratio": max_latency_ratio,
            "max_distance": max_distance,
        }
        policy_changes: dict[str, Any] = {k: v for k, v in limits.items() if v is not None}
        if manual:
            policy_changes["auto"] = False
        if (changes or policy_changes) and action != "status":
            raise UsageError("give traffic options or an action, not both", hint=f"yard deploy {name} --canary 10")
        outcome: dict[str, Any] | None = None
        if changes or policy_changes:
            if CHALLENGER not in aliases and (canary or shadow):
                raise UsageError(
                    f"model '{name}' has no challenger to send traffic to",
                    hint=f"yard models promote {name} VERSION --alias {CHALLENGER}",
                )
            policy = replace(record.policy, **policy_changes) if policy_changes else record.policy
            DecisionPolicy(**policy.__dict__)  # validates the new limits
            record = deployments.put(record.restarted(**changes, policy=policy))
        elif action == "promote":
            outcome = promote_challenger(
                store,
                deployments,
                name,
                actor=_actor(),
                reason=reason or "promoted by hand",
                figures=_figures(deployments, store, name),
            )
        elif action == "rollback":
            outcome = rollback_challenger(
                store,
                deployments,
                name,
                actor=_actor(),
                reason=reason or "rolled back by hand",
                figures=_figures(deployments, store, name),
            )
        status = _status(deployments, store, name)
    if outcome is not None:
        status["outcome"] = outcome
    if json_out:
        emit_json(status)
        return
    _print(status)


def _figures(deployments: Any, store: Any, name: str) -> dict[str, Any]:
    return _status(deployments, store, name)["figures"]


def _status(deployments: Any, store: Any, name: str) -> dict[str, Any]:
    from modelyard.serve.deployment import CHALLENGER, CHAMPION, Deployment
    from modelyard.serve.policy import VersionCounters, decide

    record = deployments.find(name) or Deployment(name=name)
    aliases = store.aliases(name)
    champion, challenger = aliases.get(CHAMPION), aliases.get(CHALLENGER)
    snapshots = deployments.read_stats(name, record.epoch) if record.epoch else []
    first = VersionCounters.merged([s[champion] for s in snapshots if champion in s])
    second = VersionCounters.merged([s[challenger] for s in snapshots if challenger in s])
    verdict = decide(first, second, record.policy)
    return {
        "name": name,
        "champion": champion,
        "challenger": challenger,
        "canary_percent": record.canary_percent,
        "shadow_percent": record.shadow_percent,
        "policy": record.policy.__dict__,
        "epoch": record.epoch,
        "figures": verdict.figures,
        "verdict_now": {"action": verdict.action, "reasons": list(verdict.reasons)},
        "last_decision": record.last_decision,
        "updated_at": record.updated_at,
    }


def _print(status: dict[str, Any]) -> None:
    console.print(
        f"[bold]{status['name']}[/]  champion {status['champion'] or '-'}  challenger {status['challenger'] or '-'}"
    )
    console.print(f"traffic: canary {status['canary_percent']:g}%, shadow {status['shadow_percent']:g}%")
    policy = status["policy"]
    mode = "automatic" if policy["auto"] else "manual"
    console.print(
        f"policy ({mode}): min {policy['min_requests']} requests, error rate <= {policy['max_error_rate']:g}, "
        f"p95 ratio <= {policy['max_latency_ratio']:g}, distance <= {policy['max_distance']:g}"
    )
    figures = status["figures"]
    console.print("live: " + ", ".join(f"{k} {v}" for k, v in figures.items() if v is not None))
    console.print(f"now: {status['verdict_now']['action']} ({'; '.join(status['verdict_now']['reasons'])})")
    if status["last_decision"]:
        last = status["last_decision"]
        console.print(
            f"last decision: {last['action']} {last['version']} at {last['at']} by {last['actor']}: {last['reason']}"
        )
