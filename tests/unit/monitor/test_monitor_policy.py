"""The retrain decision and the alert deduplication, on hand-made monitor state."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from modelyard.errors import ConfigError, UsageError
from modelyard.monitor.alerts import AlertSinks, Condition, update_alerts
from modelyard.monitor.config import MonitorSettings, RetrainSettings, monitor_settings
from modelyard.monitor.logwindow import WindowSpec
from modelyard.monitor.policy import decide

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def window(i: int, *, drifted: tuple[str, ...] = (), accuracy: float | None = None, labelled: int = 300) -> dict:
    start = T0 + dt.timedelta(hours=i)
    return {
        "index": i,
        "start": start.isoformat(),
        "end": (start + dt.timedelta(hours=1)).isoformat(),
        "rows": 1000,
        "labelled": labelled,
        "drifted": list(drifted),
        "skewed": [],
        "quality": {"accuracy": accuracy} if accuracy is not None else None,
    }


def state_of(*windows: dict, last_retrain: dict | None = None) -> dict:
    return {"windows": list(windows), "open": {}, "last_retrain": last_retrain, "decisions": []}


def test_drift_must_persist_for_the_declared_number_of_windows() -> None:
    policy = RetrainSettings(drift_windows=2, min_labels=100)
    one = decide(state_of(window(0), window(1, drifted=("x",))), policy, canary_active=False)
    assert one.action == "none"
    two = decide(state_of(window(0), window(1, drifted=("x",)), window(2, drifted=("x", "y"))), policy,
                 canary_active=False)  # fmt: skip
    assert two.action == "retrain"
    assert "2 consecutive windows" in two.reasons[0] and "x, y" in two.reasons[0]
    assert [w["index"] for w in two.span] == [1, 2]  # the data since the change, not the clean window before


def test_quality_below_its_bound_triggers_and_the_span_is_the_drifted_tail_when_there_is_one() -> None:
    policy = RetrainSettings(drift_windows=3, quality={"accuracy": {"min": 0.9}}, min_labels=100)
    decision = decide(state_of(window(0, accuracy=0.97), window(1, drifted=("x",), accuracy=0.8)), policy,
                      canary_active=False)  # fmt: skip
    assert decision.action == "retrain"
    assert decision.reasons == ["accuracy on labelled traffic is 0.800 (min 0.9)"]
    assert [w["index"] for w in decision.span] == [1]


def test_vetoes_are_reasons_too() -> None:
    policy = RetrainSettings(drift_windows=1, min_labels=500, cooldown="2h")
    drifted = state_of(window(0, drifted=("x",)))
    canary = decide(drifted, policy, canary_active=True)
    assert canary.action == "wait" and "canaried" in canary.reasons[-1]
    few = decide(drifted, policy, canary_active=False)
    assert few.action == "wait" and "only 300 labelled rows" in few.reasons[-1]
    recent = {"at": (T0 + dt.timedelta(hours=3)).isoformat(), "after": T0.isoformat()}
    cooling = decide(state_of(window(0, drifted=("x",), labelled=900), last_retrain=recent), policy,
                     canary_active=False, now=T0 + dt.timedelta(hours=4))  # fmt: skip
    assert cooling.action == "wait" and "cool-down 2h" in cooling.reasons[-1]


def test_windows_before_the_last_retrain_do_not_count() -> None:
    policy = RetrainSettings(drift_windows=2, min_labels=10)
    retrained = {"at": T0.isoformat(), "after": window(1)["end"]}
    state = state_of(window(0, drifted=("x",)), window(1, drifted=("x",)), window(2), last_retrain=retrained)
    assert decide(state, policy, canary_active=False).action == "none"


def test_enough_new_labels_trigger() -> None:
    policy = RetrainSettings(drift_windows=0, new_labels=500, min_labels=10)
    decision = decide(state_of(window(0), window(1)), policy, canary_active=False)
    assert decision.action == "retrain" and "600 new labelled rows" in decision.reasons[0]
    assert len(decision.span) == 2


def test_an_alert_is_raised_once_per_condition_and_cleared_once() -> None:
    drift = Condition("drift:x", "drift", "x", "feature 'x' drifted")
    opened, first = update_alerts("m", {}, [drift], {"start": "a"}, None)
    assert [(a.state, a.condition.key) for a in first] == [("raised", "drift:x")]
    still, second = update_alerts("m", opened, [drift], {"start": "b"}, None)
    assert second == [] and "drift:x" in still
    closed, third = update_alerts("m", still, [], {"start": "c"}, None)
    assert [(a.state, a.condition.key) for a in third] == [("cleared", "drift:x")] and closed == {}


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


def test_alerts_reach_the_log_file_and_a_webhook_and_a_dead_webhook_is_only_a_problem(tmp_path: Path) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _, alerts = update_alerts("m", {}, [Condition("drift:x", "drift", "x", "moved", {"value": 0.3})],
                                  {"start": "a"}, "/r.html")  # fmt: skip
        lines: list[str] = []
        sinks = AlertSinks(log_file=tmp_path / "alerts.log", webhook=f"http://127.0.0.1:{server.server_port}/hook",
                           echo=lines.append)  # fmt: skip
        sinks.send(alerts[0])
    finally:
        server.shutdown()
    assert _Hook.received[-1]["condition"] == "drift:x" and _Hook.received[-1]["figures"] == {"value": 0.3}
    assert json.loads((tmp_path / "alerts.log").read_text())["report"] == "/r.html"
    assert lines and "moved" in lines[0]
    dead = AlertSinks(log_file=None, webhook=f"http://127.0.0.1:{server.server_port}/gone", echo=None)
    dead.send(alerts[0])
    assert dead.problems and "webhook" in dead.problems[0]


def test_window_specs() -> None:
    assert WindowSpec.parse("1h").seconds == 3600
    assert WindowSpec.parse(10000).rows == 10000
    assert WindowSpec.parse("10000rows").rows == 10000
    assert WindowSpec.parse("15m").describe() == "15m"
    for bad in ("soon", "0", "5w", "-3"):
        with pytest.raises(UsageError, match="window"):
            WindowSpec.parse(bad)


class _Definition:
    def __init__(self, monitor: Any) -> None:
        self.spec = type("Spec", (), {"monitor": monitor})()

    def where(self, path: Any, step: Any = None) -> Any:
        from modelyard.errors import Location

        return Location(file="pipeline.yaml", field=".".join(map(str, path)))


def test_monitor_section_errors_name_the_key_and_suggest() -> None:
    assert monitor_settings(_Definition(None)) is None
    good = monitor_settings(_Definition({"model": "m", "window": 500, "retrain": {"cooldown": "30m"}}))
    assert isinstance(good, MonitorSettings) and good.window_spec.rows == 500
    assert good.retrain is not None and good.retrain.cooldown_seconds == 1800
    with pytest.raises(ConfigError, match="unknown key 'drift_window'") as typo:
        monitor_settings(_Definition({"model": "m", "retrain": {"drift_window": 2}}))
    assert "drift_windows" in str(typo.value.hint)
    with pytest.raises(ConfigError, match="needs 'model'"):
        monitor_settings(_Definition({"window": "1h"}))
    with pytest.raises(ConfigError, match="window"):
        monitor_settings(_Definition({"model": "m", "window": "often"}))


def test_windows_the_previous_champion_served_do_not_retrain_its_successor() -> None:
    """1.0.0 drifted while 1.1.0 was trained and canaried; once 1.1.0 is champion those windows are about
    1.0.0, so they must not trigger a retrain of 1.1.0 at once. Its own drifted windows do."""
    policy = RetrainSettings(drift_windows=2, min_labels=100, quality={"accuracy": {"min": 0.9}})
    old = [{**window(i, drifted=("x",), accuracy=0.8), "version": "1.0.0"} for i in range(3)]
    state = state_of(*old)
    assert decide(state, policy, canary_active=False, champion="1.0.0").action == "retrain"
    after = decide(state, policy, canary_active=False, champion="1.1.0")
    assert after.action == "none" and after.figures["windows_of_other_versions"] == 3
    own = [{**window(3 + i, drifted=("x",), accuracy=0.95), "version": "1.1.0"} for i in range(2)]
    again = decide(state_of(*old, *own), policy, canary_active=False, champion="1.1.0")
    assert again.action == "retrain" and again.figures["drift_streak"] == 2
    assert "accuracy" not in " ".join(again.reasons)  # 1.1.0's own accuracy (0.95) is within bounds
