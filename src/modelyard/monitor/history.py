"""``yard history NAME``: the story of a model in plain words, oldest first.

Told from the records, not from the monitor's state file, so it is the same on any machine that shares
the metadata store: versions registered (with the run that built them), alias moves (who, why, and the
canary figures when the policy decided), windows in which the monitor found something (and how many were
clean in between), and every retrain decision with its reasons.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from modelyard.core.artifacts import ArtifactType

_PAGE = 500


@dataclass(frozen=True)
class Event:
    at: float
    kind: str  # registered | alias | window | decision
    text: str
    details: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        when = dt.datetime.fromtimestamp(self.at, dt.UTC).isoformat(timespec="seconds")
        return {"at": when, "kind": self.kind, "text": self.text, "details": self.details}


def _stamp(text: str | None) -> float:
    if not text:
        return 0.0
    value = dt.datetime.fromisoformat(text)
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).timestamp()


def _artifacts(store: Any, kind: ArtifactType, model: str) -> list[Any]:
    found, offset = [], 0
    while True:
        page = store.list_artifacts(type=kind, limit=_PAGE, offset=offset)
        found += [a for a in page if (a.properties or {}).get("model") == model]
        if len(page) < _PAGE:
            return found
        offset += _PAGE


def _figures(details: dict[str, Any]) -> str:
    figures = details.get("figures") or {}
    parts = []
    for key in ("challenger_requests", "requests", "error_rate", "latency_ratio", "distance"):
        if key in figures and figures[key] is not None:
            value = figures[key]
            parts.append(f"{key.replace('_', ' ')} {value:.3g}" if isinstance(value, float) else f"{key} {value}")
    return f" ({', '.join(parts)})" if parts else ""


def _alias_text(move: Any) -> str:
    details = move.details or {}
    if move.to_version is None:
        return f"{move.alias} alias removed from {move.from_version} by {move.actor}: {move.reason}{_figures(details)}"
    if details.get("rollback"):
        return f"{move.alias} rolled back to {move.to_version} by {move.actor}: {move.reason}{_figures(details)}"
    return f"{move.to_version} became {move.alias} (by {move.actor}): {move.reason}{_figures(details)}"


def _window_text(props: dict[str, Any], clean_before: int) -> str:
    found = []
    if props.get("drifted"):
        found.append(f"drift in {', '.join(props['drifted'])}")
    if props.get("skewed"):
        found.append(f"skew in {len(props['skewed'])} transformed feature(s)")
    if props.get("prediction_drifted"):
        found.append("prediction drift")
    quality = props.get("quality") or {}
    if "accuracy" in quality:
        found.append(f"accuracy {quality['accuracy']:.3f} on {int(quality.get('labelled_rows', 0))} labels")
    elif "rmse" in quality:
        found.append(f"RMSE {quality['rmse']:.4g}")
    lead = f" (after {clean_before} clean)" if clean_before else ""
    return f"monitor{lead}: window of {props.get('rows')} rows served by {props.get('version')}: " + "; ".join(found)


def model_history(store: Any, name: str) -> list[Event]:
    """Every recorded event of model ``name``, oldest first."""
    from modelyard.errors import NotFound, did_you_mean

    if name not in store.list_registered_models():
        raise NotFound(f"no model named '{name}'", hint=did_you_mean(name, store.list_registered_models()))
    events = []
    for v in store.list_model_versions(name):
        text = f"{v.version} registered" + (f" from run {v.run_id}" if v.run_id else "")
        events.append(Event(v.created_at, "registered", text, {"version": v.version, "run_id": v.run_id}))
    for alias in sorted(set(store.aliases(name)) | {"champion", "challenger"}):
        for move in store.alias_history(name, alias):
            events.append(Event(move.at, "alias", _alias_text(move),
                                {"alias": alias, "from": move.from_version, "to": move.to_version,
                                 **(move.details or {})}))  # fmt: skip
    clean = 0
    for report in sorted(_artifacts(store, ArtifactType.DRIFT_REPORT, name), key=lambda a: a.properties.get("end")):
        props = report.properties
        noteworthy = props.get("drifted") or props.get("skewed") or props.get("prediction_drifted")
        if not noteworthy:
            clean += 1
            continue
        text = _window_text(props, clean)
        events.append(Event(_stamp(props.get("end")), "window", text, {**props, "uri": report.uri}))
        clean = 0
    if clean:
        events.append(Event(float("inf"), "window", f"monitor: {clean} clean window(s) since", {"clean": clean}))
    for decision in _artifacts(store, ArtifactType.DECISION, name):
        props = decision.properties
        action = props.get("action")
        outcome = props.get("outcome") or {}
        text = {"retrain": "decided to retrain", "wait": "retrain due but waiting", "none": "no retrain needed"}.get(
            str(action), str(action)
        )
        text = f"policy {text}: " + "; ".join(props.get("reasons") or [])
        if outcome:
            text += f" -> {_outcome_text(outcome)}"
        events.append(Event(_stamp(props.get("at")), "decision", text, props))
    events.sort(key=lambda e: e.at)
    return events


def _outcome_text(outcome: dict[str, Any]) -> str:
    status = outcome.get("status")
    if status == "challenger":
        canary = (outcome.get("canary") or {}).get("percent")
        return (f"run {outcome.get('run_id')} trained on {outcome.get('span_rows')} labelled rows and pushed "
                f"{outcome.get('challenger')} as challenger, canary {canary}%")  # fmt: skip
    return f"{status}: {outcome.get('why')}"
