"""Anomalies sort themselves into errors and warnings, round-trip through JSON and can stop a step."""

from __future__ import annotations

import json

import pytest

from modelyard.core.anomalies import Anomalies, Anomaly, AnomalyCode, Severity
from modelyard.errors import ValidationFailed


def _anomalies() -> Anomalies:
    return Anomalies(
        items=(
            Anomaly("missing_column", "error", "mass", "column 'mass' is missing", {"expected_type": "float"}),
            Anomaly("unexpected_column", "warning", "extra", "column 'extra' is new", {}),
        )
    )


def test_errors_and_warnings_are_told_apart() -> None:
    anomalies = _anomalies()
    assert anomalies.has_errors
    assert [a.column for a in anomalies.errors] == ["mass"]
    assert [a.column for a in anomalies.warnings] == ["extra"]
    assert anomalies.codes == {"missing_column", "unexpected_column"}
    assert not Anomalies().has_errors and len(Anomalies()) == 0


def test_codes_are_the_stable_strings() -> None:
    assert AnomalyCode.VALUE_OUTSIDE_DOMAIN == "value_outside_domain"
    assert Severity.WARNING == "warning"


def test_json_round_trip_gives_equal_anomalies() -> None:
    anomalies = _anomalies()
    restored = Anomalies.from_dict(json.loads(json.dumps(anomalies.to_dict())))
    assert restored == anomalies
    assert restored.items[0].details == {"expected_type": "float"}


def test_raise_if_errors_lists_every_error_but_ignores_warnings() -> None:
    with pytest.raises(ValidationFailed) as caught:
        _anomalies().raise_if_errors("eval split")
    assert "eval split failed validation with 1 error" in str(caught.value)
    assert caught.value.problems == ["column 'mass' is missing"]
    Anomalies(items=_anomalies().warnings).raise_if_errors()


def test_drift_report_round_trip() -> None:
    from modelyard.core.anomalies import ColumnDistance, DriftReport

    report = DriftReport(
        "skew",
        (
            ColumnDistance("x", "numeric", "jensen_shannon", 0.2, 0.05, True, {"psi": 0.9}, 1000, 1200),
            ColumnDistance("c", "categorical", "chi2_test", 0.4, 0.025, False, {"p_value": 0.4}, 50, 60),
        ),
        1000,
        1200,
    )
    again = DriftReport.from_dict(report.to_dict())
    assert again == report and [c.column for c in again.drifted] == ["x"] and again.find("c").kind == "categorical"
