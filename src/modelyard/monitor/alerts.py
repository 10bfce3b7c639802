"""Alerts: one per condition when it starts and one when it clears, to the console, a log file and a webhook.

Why deduplicated by condition: a feature that drifted stays drifted for many windows, and an alert every
hour for the same thing teaches people to ignore alerts. A condition (``drift:body_mass_g``,
``quality:accuracy``, ...) is raised once, stays open in the monitor state while it holds, and a
"cleared" alert closes it. Why a webhook failure does not stop the monitor: the alert is also in the log
file, and the next decision must not wait for someone's chat server.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WEBHOOK_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Condition:
    """Something wrong in a window: its key, what it is about and the figures that show it."""

    key: str  # kind:subject, e.g. drift:body_mass_g
    kind: str  # drift | skew | prediction_drift | quality | anomaly
    subject: str
    message: str
    figures: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Alert:
    model: str
    state: str  # raised | cleared
    condition: Condition
    window: dict[str, Any]
    report: str | None
    at: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "state": self.state,
            "condition": self.condition.key,
            "kind": self.condition.kind,
            "subject": self.condition.subject,
            "message": self.condition.message,
            "figures": self.condition.figures,
            "window": self.window,
            "report": self.report,
            "at": self.at,
        }


def conditions_of(checks: Any, quality_bounds: dict[str, Any]) -> list[Condition]:
    """The conditions a window's checks show (see monitor.checks.WindowChecks)."""
    found: list[Condition] = []
    for column in checks.drift.drifted:
        found.append(Condition(f"drift:{column.column}", "drift", column.column,
                               f"feature '{column.column}' drifted from the training data "
                               f"({column.metric} {column.value:.3g}, threshold {column.threshold:g})",
                               {"metric": column.metric, "value": column.value, "threshold": column.threshold,
                                **column.distances}))  # fmt: skip
    if checks.skew is not None:
        for column in checks.skew.drifted:
            found.append(Condition(f"skew:{column.column}", "skew", column.column,
                                   f"transformed feature '{column.column}' differs from training "
                                   f"({column.metric} {column.value:.3g}, threshold {column.threshold:g})",
                                   {"metric": column.metric, "value": column.value,
                                    "threshold": column.threshold}))  # fmt: skip
    if checks.prediction_drifted:
        column = checks.prediction_drift.drifted[0]
        found.append(Condition("prediction_drift", "prediction_drift", "prediction",
                               f"predictions drifted from their training distribution "
                               f"({column.metric} {column.value:.3g}, threshold {column.threshold:g})",
                               {"metric": column.metric, "value": column.value}))  # fmt: skip
    for metric, bound in quality_bounds.items():
        value = (checks.quality or {}).get(metric)
        if value is None:
            continue
        low, high = getattr(bound, "min", None), getattr(bound, "max", None)
        if (low is not None and value < low) or (high is not None and value > high):
            limit = f"min {low:g}" if low is not None and value < low else f"max {high:g}"
            found.append(Condition(f"quality:{metric}", "quality", metric,
                                   f"{metric} on labelled traffic is {value:.3f} ({limit})",
                                   {"value": value, "min": low, "max": high,
                                    "labelled_rows": (checks.quality or {}).get("labelled_rows")}))  # fmt: skip
    for anomaly in checks.anomalies:
        if str(anomaly.severity) == "error":
            key = f"anomaly:{anomaly.code}:{anomaly.column or '*'}"
            found.append(Condition(key, "anomaly", anomaly.column or "*", anomaly.message, dict(anomaly.details or {})))
    return found


class AlertSinks:
    """Where alerts go. Console output goes through ``echo`` (the CLI passes its Rich console)."""

    def __init__(self, *, log_file: Path | None, webhook: str | None, echo: Any | None) -> None:
        self.log_file = log_file
        self.webhook = webhook
        self.echo = echo
        self.problems: list[str] = []

    def send(self, alert: Alert) -> None:
        payload = alert.to_dict()
        if self.echo is not None:
            mark = "ALERT" if alert.state == "raised" else "cleared"
            self.echo(f"[{mark}] {alert.model}: {alert.condition.message}"
                      + (f" — report: {alert.report}" if alert.report and alert.state == "raised" else ""))  # fmt: skip
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            with self.log_file.open("a", encoding="utf-8") as out:
                out.write(json.dumps(payload, default=str) + "\n")
        if self.webhook:
            self._post(payload)

    def _post(self, payload: dict[str, Any]) -> None:
        request = urllib.request.Request(
            self.webhook or "",
            data=json.dumps(payload, default=str).encode(),
            headers={"content-type": "application/json", "user-agent": "modelyard-monitor"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
                response.read()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            self.problems.append(f"webhook {self.webhook}: {exc}")


def update_alerts(
    model: str,
    open_conditions: dict[str, Any],
    found: list[Condition],
    window: dict[str, Any],
    report: str | None,
) -> tuple[dict[str, Any], list[Alert]]:
    """New open set and the alerts to send: raised for new conditions, cleared for those that went away."""
    at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    now_keys = {c.key: c for c in found}
    alerts: list[Alert] = []
    still: dict[str, Any] = {}
    for key, condition in now_keys.items():
        if key in open_conditions:
            still[key] = open_conditions[key]
        else:
            alerts.append(Alert(model, "raised", condition, window, report, at))
            still[key] = {"since": window.get("start"), "message": condition.message, "kind": condition.kind}
    for key, info in open_conditions.items():
        if key not in now_keys:
            gone = Condition(key, str(info.get("kind", "")), key.split(":", 1)[-1],
                             f"cleared: {info.get('message', key)}")  # fmt: skip
            alerts.append(Alert(model, "cleared", gone, window, report, at))
    return still, alerts
