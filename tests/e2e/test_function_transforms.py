"""A user's Python functions as transforms, through the `yard` command: the penguins project gains a row and a
batch function, trains, and its registered model predicts in a fresh process in another folder exactly what
the evaluation saw; editing the function re-runs transform and every step after it, and nothing before."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.e2e.conftest import Yard, as_json, spawn_env

FEATURES = """
import numpy as np


def mass_per_flipper(body_mass_g, flipper_length_mm):
    if body_mass_g is None or flipper_length_mm is None:
        return None
    return body_mass_g / flipper_length_mm


def bill_shape(columns):
    return np.log(columns["bill_length_mm"]) - np.log(columns["bill_depth_mm"])
"""
FUNCTIONS = """      functions:
        - {function: features.py:mass_per_flipper, columns: [body_mass_g, flipper_length_mm], output: mass_per_flipper}
        - {function: features.py:bill_shape, mode: batch, columns: [bill_length_mm, bill_depth_mm], output: bill_shape}
"""


def _run(root: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "modelyard", "run", "--json"], cwd=root, env=spawn_env(), capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def _states(report: dict[str, Any]) -> dict[str, str]:
    return {step["name"]: step["state"] for step in report["steps"]}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("functions") / "shop"
    subprocess.run([sys.executable, "-m", "modelyard", "init", str(root), "--example", "penguins"], check=True,
                   env=spawn_env(), capture_output=True)  # fmt: skip
    (root / "features.py").write_text(FEATURES)
    pipeline = root / "pipeline.yaml"
    text = pipeline.read_text()
    anchor = "      crosses:\n"
    assert anchor in text
    pipeline.write_text(text.replace(anchor, FUNCTIONS + anchor, 1))
    return {"root": root, "first": _run(root)}


def _path(uri: str) -> Path:
    return Path(urlparse(uri).path)


def test_the_model_trains_with_the_function_features(yard: Yard, project: dict[str, Any]) -> None:
    states = _states(project["first"])
    assert states["transform"] == "done" and states["push"] == "done", states
    root = project["root"]
    shown = as_json(yard("models", "show", "penguins@champion", "--json", cwd=root))
    models = as_json(yard("artifacts", "list", "--type", "model", "--json", cwd=root))
    package = _path(next(m["uri"] for m in models if m["digest"] == shown["version"]["digest"]))
    manifest = json.loads((package / "manifest.json").read_text())
    assert {"mass_per_flipper", "bill_shape"} <= set(manifest["features"])
    assert (package / "code" / "features.py").read_text() == FEATURES
    assert "code/features.py" in manifest["files"]


def test_a_fresh_process_in_another_folder_predicts_what_the_evaluation_saw(
    yard: Yard, project: dict[str, Any], tmp_path: Path
) -> None:
    root = project["root"]
    shown = as_json(yard("models", "show", "penguins@champion", "--json", cwd=root))
    models = as_json(yard("artifacts", "list", "--type", "model", "--json", cwd=root))
    package = _path(next(m["uri"] for m in models if m["digest"] == shown["version"]["digest"]))
    predictions = _path(shown["lineage"]["evaluation"]["uri"]) / "predictions.json"
    dataset = next(d for d in shown["lineage"]["data"] if d["type"] == "dataset")
    code = f"""
import json, pyarrow.parquet as pq, modelyard
rows = pq.read_table({str(_path(dataset["uri"]) / "eval.parquet")!r}).to_pylist()
saved = json.load(open({str(predictions)!r}))
records = [{{k: v for k, v in rows[i].items() if k != "species"}} for i in saved["positions"]]
model = modelyard.load_model({str(package)!r})
print(json.dumps({{"saved": saved["predictions"], "batch": model.predict(records),
                  "one_by_one": [model.predict([r])[0] for r in records]}}))
"""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=spawn_env(), capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert len(got["saved"]) > 50
    assert got["batch"] == got["saved"] and got["one_by_one"] == got["saved"]


def test_editing_the_function_reruns_transform_and_downstream_only(project: dict[str, Any]) -> None:
    root = project["root"]
    again = _states(_run(root))
    assert again["transform"] == again["train"] == "reused", again  # nothing changed
    features = root / "features.py"
    features.write_text(FEATURES.replace("return body_mass_g / flipper_length_mm", "return body_mass_g / 2"))
    states = _states(_run(root))
    assert states["ingest"] == states["statistics"] == states["schema"] == "reused", states
    assert states["transform"] == "done" and states["train"] == "done" and states["evaluate"] == "done", states


def test_an_unknown_function_fails_before_any_step_runs(yard: Yard, tmp_path: Path) -> None:
    root = tmp_path / "shop"
    yard("init", str(root), "--example", "penguins", cwd=tmp_path)
    (root / "features.py").write_text(FEATURES)
    pipeline = root / "pipeline.yaml"
    text = pipeline.read_text().replace(
        "      crosses:\n", FUNCTIONS.replace(":bill_shape", ":bill_shap") + "      crosses:\n"
    )
    pipeline.write_text(text)
    done = yard("run", cwd=root, check=2)
    output = done.stdout + done.stderr
    assert "'bill_shap' is not a function defined in features.py" in output and "did you mean 'bill_shape'?" in output
    assert as_json(yard("runs", "list", "--json", cwd=root)) == []  # planned, refused, nothing ran
