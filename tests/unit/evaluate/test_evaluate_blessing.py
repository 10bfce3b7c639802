"""The blessing verdict: thresholds, the baseline comparison, and mistakes in the thresholds."""

from __future__ import annotations

import pytest

from modelyard.errors import UsageError
from modelyard.evaluate.blessing import judge

METRICS = {"accuracy": 0.92, "f1_macro": 0.90, "log_loss": 0.25}


def test_all_thresholds_met_is_blessed_with_a_reason_per_check() -> None:
    verdict = judge(METRICS, {"accuracy": {"min": 0.9}, "log_loss": {"max": 0.3}})
    assert verdict["blessed"] is True
    assert verdict["checks"] == [
        {"metric": "accuracy", "value": 0.92, "bound": 0.9, "kind": "min", "passed": True,
         "reason": "accuracy 0.92 >= minimum 0.9"},
        {"metric": "log_loss", "value": 0.25, "bound": 0.3, "kind": "max", "passed": True,
         "reason": "log_loss 0.25 <= maximum 0.3"},
    ]  # fmt: skip
    assert verdict["summary"] == "blessed: all 2 checks passed"


def test_one_failure_is_not_blessed_and_says_why() -> None:
    verdict = judge(METRICS, {"accuracy": {"min": 0.95}, "log_loss": {"max": 0.3}})
    assert verdict["blessed"] is False
    failed = [c for c in verdict["checks"] if not c["passed"]]
    assert [c["reason"] for c in failed] == ["accuracy 0.92 is below the minimum 0.95"]
    assert verdict["summary"].startswith("not blessed: 1 of 2 checks failed; accuracy 0.92 is below")


def test_baseline_comparison_uses_each_metrics_direction() -> None:
    thresholds = {"accuracy": {"tolerance": 0.01}, "log_loss": {"tolerance": 0.0}}
    better = judge(METRICS, thresholds, baseline={"accuracy": 0.925, "log_loss": 0.3})
    assert better["blessed"] is True
    assert [c["reason"] for c in better["checks"]] == [
        "accuracy 0.92 is 0.005 worse than the baseline 0.925, within the tolerance 0.01",
        "log_loss 0.25 is 0.05 better than the baseline 0.3",
    ]
    worse = judge(METRICS, thresholds, baseline={"accuracy": 0.95, "log_loss": 0.2})
    assert worse["blessed"] is False
    assert [c["passed"] for c in worse["checks"]] == [False, False]
    assert worse["checks"][0]["bound"] == pytest.approx(0.94)
    assert "beyond the tolerance 0.01" in worse["checks"][0]["reason"]


def test_first_model_without_baseline_passes_its_baseline_checks() -> None:
    verdict = judge(METRICS, {"accuracy": {"min": 0.9, "tolerance": 0.0}}, baseline=None)
    assert verdict["blessed"] is True
    assert verdict["checks"][1]["kind"] == "baseline" and "comparison skipped" in verdict["checks"][1]["reason"]


def test_no_thresholds_blesses_with_a_note() -> None:
    verdict = judge(METRICS, {})
    assert verdict["blessed"] is True and verdict["checks"] == []
    assert "no thresholds" in verdict["note"]


def test_unknown_metric_suggests_the_computed_ones() -> None:
    with pytest.raises(UsageError) as caught:
        judge(METRICS, {"acuracy": {"min": 0.9}})
    assert "unknown metric 'acuracy'" in str(caught.value) and "did you mean 'accuracy'?" in str(caught.value)
    with pytest.raises(UsageError, match="known: accuracy, f1_macro, log_loss"):
        judge(METRICS, {"rmse": {"max": 3}})


def test_malformed_thresholds_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="did you mean 'min'"):
        judge(METRICS, {"accuracy": {"minimum": 0.9}})
    with pytest.raises(UsageError, match="sets no bound"):
        judge(METRICS, {"accuracy": {}})
    with pytest.raises(UsageError, match=r"min 0.9 above max 0.5"):
        judge(METRICS, {"accuracy": {"min": 0.9, "max": 0.5}})
    with pytest.raises(UsageError, match="must be a finite number"):
        judge(METRICS, {"accuracy": {"min": "high"}})
    with pytest.raises(UsageError, match="higher_is_better"):
        judge({"custom": 1.0}, {"custom": {"tolerance": 0.1}}, baseline={"custom": 1.0})
    custom = judge(
        {"custom": 1.0}, {"custom": {"tolerance": 0.1, "higher_is_better": False}}, baseline={"custom": 0.95}
    )
    assert custom["blessed"] is True


def test_relative_tolerance_is_a_fraction_of_the_baseline() -> None:
    # rmse: lower is better; baseline 100, 5% -> bound 105
    ok = judge({"rmse": 104.0}, {"rmse": {"relative_tolerance": 0.05}}, baseline={"rmse": 100.0})
    assert ok["blessed"] is True
    check = ok["checks"][0]
    assert check["kind"] == "baseline_relative" and check["bound"] == pytest.approx(105.0)
    assert check["baseline"] == 100.0 and check["change"] == pytest.approx(4.0)
    bad = judge({"rmse": 106.0}, {"rmse": {"relative_tolerance": 0.05}}, baseline={"rmse": 100.0})
    assert bad["blessed"] is False
    assert "6 worse than the baseline 100, beyond the tolerance 5% (5)" in bad["checks"][0]["reason"]


def test_gap_metrics_are_lower_is_better_against_a_baseline() -> None:
    verdict = judge({"gap.accuracy": 0.2}, {"gap.accuracy": {"tolerance": 0.05}}, baseline={"gap.accuracy": 0.1})
    assert verdict["blessed"] is False and "worse than the baseline 0.1" in verdict["checks"][0]["reason"]


def test_slice_thresholds_check_every_slice_big_enough_to_count() -> None:
    slices = {
        "min_rows": 10,
        "slicings": [
            {
                "name": "island",
                "slices": [
                    {"slice": "island=Biscoe", "rows": 40, "metrics": {"accuracy": 0.97}},
                    {"slice": "island=Dream", "rows": 30, "metrics": {"accuracy": 0.80}},
                    {"slice": "island=Torgersen", "rows": 3, "metrics": {"accuracy": 0.0}},  # too small
                ],
            }
        ],
    }
    verdict = judge(METRICS, {}, slices=slices, slice_thresholds={"accuracy": {"min": 0.85}})
    assert verdict["blessed"] is False
    assert [(c["slice"], c["passed"]) for c in verdict["checks"]] == [("island=Biscoe", True), ("island=Dream", False)]
    assert verdict["checks"][1]["reason"] == "slice island=Dream (30 rows): accuracy 0.8 is below the minimum 0.85"
    with pytest.raises(UsageError, match="unknown threshold 'tolerance'"):
        judge(METRICS, {}, slices=slices, slice_thresholds={"accuracy": {"tolerance": 0.1}})
