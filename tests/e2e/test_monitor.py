"""``yard monitor`` on replayed traffic: a known shift in two features is flagged, and only those; clean traffic
over twenty windows of 10,000 rows raises no alert.

The model is trained by a real pipeline on generated data (20,000 rows, five numbers, two categories); the
traffic is written through the server's own prediction-log writer, ten records per request, with the model's
real predictions, so the monitor reads exactly what a server would have written.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.e2e.conftest import Yard, as_json

PIPELINE = """
pipeline: shop
workers: 2
steps:
  ingest: {component: ingest, params: {path: data/train.csv}}
  statistics: {component: statistics, inputs: {dataset: ingest.dataset}}
  schema: {component: schema, inputs: {statistics: statistics.statistics}, params: {label: label}}
  transform:
    component: transform
    inputs: {dataset: ingest.dataset, schema: schema.schema}
    params: {label: label}
  train:
    component: train
    inputs: {dataset: ingest.dataset, transform: transform.transform, schema: schema.schema}
    params: {label: label, estimator_params: {max_iter: 500}}
  push: {component: push, inputs: {model: train.model}, params: {model_name: shop}}
"""
NUMBERS = ("x1", "x2", "x3", "x4", "x5")
WINDOW = 10_000
SHIFTED = {"x2": 0.6, "x4": 0.6}  # mean shift in standard deviations


def generate(rng: np.random.Generator, n: int, shift: dict[str, float] | None = None) -> dict[str, np.ndarray]:
    columns: dict[str, np.ndarray] = {name: rng.normal(0.0, 1.0, n) for name in NUMBERS}
    columns["x3"] = np.round(columns["x3"] * 20 + 100)  # an integer-valued measurement
    columns["c1"] = rng.choice(np.array(["north", "south", "east", "west"]), n, p=[0.4, 0.3, 0.2, 0.1])
    columns["c2"] = rng.choice(np.array(["web", "store", "phone"]), n, p=[0.5, 0.3, 0.2])
    for name, delta in (shift or {}).items():
        columns[name] = columns[name] + delta * (20 if name == "x3" else 1)
    score = columns["x1"] + 0.8 * columns["x2"] - 0.5 * columns["x4"] + (columns["c1"] == "north") * 0.7
    columns["label"] = np.where(score > 0.3, "buy", "skip")
    return columns


def records_of(columns: dict[str, np.ndarray]) -> list[dict]:
    names = [*NUMBERS, "c1", "c2"]
    return [
        {name: (int(columns[name][i]) if name == "x3" else columns[name][i].item()) for name in names}
        for i in range(len(columns["x1"]))
    ]


def replay(project: Path, batches: list[dict[str, np.ndarray]]) -> None:
    """Write traffic the way a server does: the model's predictions, ten records per logged request."""
    from modelyard.registry.loader import load_model
    from modelyard.serve.predlog import PredictionLog
    from modelyard.settings import Settings

    package = load_model("models:/shop@champion", settings=Settings.for_project(project))
    log = PredictionLog(project / ".modelyard" / "predictions")
    count = 0
    for columns in batches:
        records = records_of(columns)
        predicted = package.predict(records)
        for start in range(0, len(records), 10):
            count += 1
            log.record(f"r{count}", "shop", "1.0.0", "primary", "invocations", 200, 0.002,
                       records[start : start + 10], predicted[start : start + 10])  # fmt: skip
        log.flush()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import csv
    import subprocess
    import sys

    from tests.e2e.conftest import spawn_env

    project = tmp_path_factory.mktemp("monitor") / "shop"
    subprocess.run([sys.executable, "-m", "modelyard", "init", str(project)], check=True, env=spawn_env(),
                   capture_output=True)  # fmt: skip
    (project / "pipeline.yaml").write_text(PIPELINE)
    training = generate(np.random.default_rng(1), 20_000)
    with (project / "data" / "train.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(list(training))
        writer.writerows(zip(*(training[c].tolist() for c in training), strict=True))
    done = subprocess.run([sys.executable, "-m", "modelyard", "run", "--json"], cwd=project, env=spawn_env(),
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return project


def test_a_shift_in_two_features_is_flagged_in_the_first_window_after_it_and_nothing_else(
    shop: Path, yard: Yard
) -> None:
    rng = np.random.default_rng(7)
    clean = [generate(rng, WINDOW) for _ in range(3)]
    shifted = [generate(rng, WINDOW, SHIFTED) for _ in range(2)]
    replay(shop, [*clean, *shifted])

    result = as_json(yard("monitor", "shop", "--window", str(WINDOW), "--json", cwd=shop))

    judged = result["judged"]
    assert [w["rows"] for w in judged] == [WINDOW] * 5
    assert [w["drifted"] for w in judged[:3]] == [[], [], []]
    assert [sorted(w["drifted"]) for w in judged[3:]] == [sorted(SHIFTED)] * 2  # the first window after the shift
    raised = [a for a in result["alerts"] if a["state"] == "raised" and a["kind"] == "drift"]
    assert sorted(a["subject"] for a in raised) == sorted(SHIFTED)  # once each, not again in the next window
    assert all(a["window"]["index"] == 3 for a in raised)
    report = Path(judged[3]["report"])
    assert report.is_file() and "x2" in report.read_text()
    alert_log = [json.loads(line) for line in (shop / ".modelyard" / "monitor" / "alerts.log").read_text().splitlines()]
    assert {a["condition"] for a in alert_log if a["kind"] == "drift"} == {"drift:x2", "drift:x4"}

    again = as_json(yard("monitor", "shop", "--window", str(WINDOW), "--json", cwd=shop))
    assert again["judged"] == [] and again["alerts"] == []  # judged windows are not judged twice

    history = yard("history", "shop", cwd=shop).stdout
    assert "drift in x2, x4" in history and "after 3 clean" in history


def test_twenty_clean_windows_of_ten_thousand_rows_raise_no_alert(shop: Path, yard: Yard, tmp_path: Path) -> None:
    import shutil

    for folder in ("predictions", "monitor"):
        shutil.rmtree(shop / ".modelyard" / folder, ignore_errors=True)
    rng = np.random.default_rng(11)
    replay(shop, [generate(rng, WINDOW) for _ in range(20)])

    result = as_json(yard("monitor", "shop", "--window", str(WINDOW), "--json", cwd=shop, timeout=600))

    assert len(result["judged"]) == 20
    assert result["alerts"] == []
    assert all(not w["drifted"] and not w["skewed"] and not w["prediction_drifted"] for w in result["judged"])
