"""The retrain decision: given the judged windows, should the model be retrained now, and on what?

Triggers (any one), counted only over windows judged since the last retrain and, for drift and quality, only
over windows the current champion answered (windows the previous champion served while its successor was
trained and canaried are evidence about that version, not the new one: they must not retrain it at once):
- drift or skew in each of the last ``drift_windows`` windows (a single bad window is noise or an
  incident; a change that persists is the world moving);
- a quality metric of the latest labelled window outside its bound;
- at least ``new_labels`` labelled rows since the last retrain.
Vetoes: a challenger is still being canaried (its verdict comes first); the cool-down since the last
retrain has not passed; fewer than ``min_labels`` labelled rows to learn from.

The span to train on is "the data since the change": the trailing windows with drift or skew when
there are any (whichever trigger fired), else every window since the last retrain. The decision carries
its reasons and figures either
way, because "why did it not retrain?" is asked as often as "why did it?".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from modelyard.monitor.config import RetrainSettings


@dataclass
class Decision:
    action: str  # retrain | wait | none
    reasons: list[str]
    figures: dict[str, Any] = field(default_factory=dict)
    span: list[dict[str, Any]] = field(default_factory=list)  # the windows to train on

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "reasons": self.reasons,
            "figures": self.figures,
            "span": [{"start": w["start"], "end": w["end"], "rows": w["rows"], "labelled": w["labelled"]}
                     for w in self.span],
        }  # fmt: skip


def _since_retrain(state: dict[str, Any]) -> list[dict[str, Any]]:
    last = state.get("last_retrain")
    windows = state.get("windows", [])
    if not last:
        return list(windows)
    return [w for w in windows if w["start"] >= last["after"]]


def _moved(window: dict[str, Any]) -> bool:
    return bool(window.get("drifted") or window.get("skewed"))


def decide(
    state: dict[str, Any],
    policy: RetrainSettings,
    *,
    canary_active: bool,
    now: dt.datetime | None = None,
    champion: str | None = None,
) -> Decision:
    """What to do now, from the monitor state (see monitor.state) and the policy; ``champion`` is the version
    now serving (None: every window counts)."""
    now = now or dt.datetime.now(dt.UTC)
    recent = _since_retrain(state)
    figures: dict[str, Any] = {"windows_since_retrain": len(recent)}
    if not recent:
        return Decision("none", ["no window judged since the last retrain"], figures)
    judged = [w for w in recent if champion is None or w.get("version") in (None, champion)]
    if len(judged) < len(recent):
        figures["windows_of_other_versions"] = len(recent) - len(judged)
    reasons: list[str] = []
    span: list[dict[str, Any]] = []
    streak: list[dict[str, Any]] = []
    for window in reversed(judged):
        if not _moved(window):
            break
        streak.insert(0, window)
    figures["drift_streak"] = len(streak)
    if policy.drift_windows and len(streak) >= policy.drift_windows:
        moved = sorted({c for w in streak for c in w.get("drifted", [])})
        skewed = sorted({c for w in streak for c in w.get("skewed", [])})
        what = ", ".join(moved) or "none"
        reason = f"drift or skew in {len(streak)} consecutive windows (policy: {policy.drift_windows}); "
        reason += f"drifted features: {what}" + (f"; skewed: {len(skewed)} transformed features" if skewed else "")
        reasons.append(reason)
        figures["drifted_features"] = moved
        span = streak
    latest_quality = next((w["quality"] for w in reversed(judged) if w.get("quality")), None)
    for metric, bound in policy.quality.items():
        value = (latest_quality or {}).get(metric)
        if value is None:
            continue
        figures[f"quality.{metric}"] = value
        if (bound.min is not None and value < bound.min) or (bound.max is not None and value > bound.max):
            limit = f"min {bound.min:g}" if bound.min is not None and value < bound.min else f"max {bound.max:g}"
            reasons.append(f"{metric} on labelled traffic is {value:.3f} ({limit})")
    labelled = sum(int(w.get("labelled", 0)) for w in recent)
    figures["labelled_since_retrain"] = labelled
    if policy.new_labels is not None and labelled >= policy.new_labels:
        reasons.append(f"{labelled} new labelled rows since the last retrain (policy: {policy.new_labels})")
    if not reasons:
        text = "no trigger: no persistent drift, quality within bounds, too few new labels"
        if len(judged) < len(recent):
            text += f" ({len(recent) - len(judged)} window(s) served by an earlier champion not counted)"
        return Decision("none", [text], figures)
    # When the data moved, learn from the data since it moved (the trailing windows with drift or skew),
    # not from the mixture before and after; otherwise from everything since the last retrain.
    span = span or streak or recent
    span_labels = sum(int(w.get("labelled", 0)) for w in span)
    figures["span_labelled_rows"] = span_labels
    if canary_active:
        return Decision("wait", [*reasons, "but a challenger is being canaried: its verdict comes first"], figures)
    last = state.get("last_retrain")
    if last and policy.cooldown_seconds:
        elapsed = (now - dt.datetime.fromisoformat(last["at"])).total_seconds()
        figures["seconds_since_retrain"] = round(elapsed)
        if elapsed < policy.cooldown_seconds:
            return Decision("wait", [*reasons, f"but the last retrain was {elapsed:.0f}s ago "
                                     f"(cool-down {policy.cooldown})"], figures)  # fmt: skip
    if span_labels < policy.min_labels:
        return Decision("wait", [*reasons, f"but only {span_labels} labelled rows in the span "
                                 f"(policy min_labels: {policy.min_labels})"], figures)  # fmt: skip
    return Decision("retrain", reasons, figures, span)
