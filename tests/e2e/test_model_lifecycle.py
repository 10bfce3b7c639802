"""A model's life through the `yard` command: trained with transforms, evaluated per slice against
thresholds and the champion, registered 1.0.0 then 1.1.0, loaded in a fresh process where it predicts
exactly what the evaluation saw, and moved around the registry (promote, rollback, diff, show)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.e2e.conftest import Yard, as_json, spawn_env


def _path(uri: str) -> Path:
    return Path(urlparse(uri).path)


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter, as a separate serving process would."""
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=spawn_env(), capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The penguins example run twice: as shipped (1.0.0), then with a changed parameter (1.1.0)."""
    root = tmp_path_factory.mktemp("lifecycle") / "shop"
    run = subprocess.run
    env = spawn_env()
    run([sys.executable, "-m", "modelyard", "init", str(root), "--example", "penguins"], check=True, env=env,
        capture_output=True)  # fmt: skip
    first = run([sys.executable, "-m", "modelyard", "run", "--json"], cwd=root, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stdout + first.stderr
    pipeline = root / "pipeline.yaml"
    text = pipeline.read_text()
    assert "{C: 1.0, max_iter: 1000}" in text
    pipeline.write_text(text.replace("{C: 1.0, max_iter: 1000}", "{C: 0.3, max_iter: 1000}"))
    second = run(
        [sys.executable, "-m", "modelyard", "run", "--json"], cwd=root, env=env, capture_output=True, text=True
    )
    assert second.returncode == 0, second.stdout + second.stderr
    return {"root": root, "first": json.loads(first.stdout), "second": json.loads(second.stdout)}


def _step(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in report["steps"] if s["name"] == name)


def test_first_run_trains_with_transforms_and_registers_1_0_0(yard: Yard, project: dict[str, Any]) -> None:
    assert "penguins registered 1.0.0 -> champion" in _step(project["first"], "push")["note"]
    assert _step(project["first"], "transform")["state"] == "done"
    shown = as_json(yard("models", "show", "penguins@champion", "--json", cwd=project["root"]))
    assert shown["version"]["version"] == "1.0.0" and shown["aliases"] == ["champion"]
    models = as_json(yard("artifacts", "list", "--type", "model", "--json", cwd=project["root"]))
    package = _path(next(m["uri"] for m in models if m["digest"] == shown["version"]["digest"]))
    manifest = json.loads((package / "manifest.json").read_text())
    assert "island=Biscoe" in manifest["features"] and (package / "transform.json").is_file()
    transform = shown["lineage"]["transform"]
    assert transform is not None and transform["properties"]["features_out"] > 6  # one-hot columns were added


def test_evaluation_is_per_island_and_sex_against_thresholds(yard: Yard, project: dict[str, Any]) -> None:
    shown = as_json(yard("models", "show", "penguins/1.0.0", "--json", cwd=project["root"]))
    folder = _path(shown["lineage"]["evaluation"]["uri"])
    evaluation = json.loads((folder / "metrics.json").read_text())
    for metric in ("accuracy", "f1_weighted", "roc_auc", "pr_auc", "log_loss", "ece", "gap.accuracy"):
        assert metric in evaluation["metrics"]
    slicings = {s["name"]: s["slices"] for s in evaluation["slices"]["slicings"]}
    assert [s["slice"] for s in slicings["island"]] == ["island=Biscoe", "island=Dream", "island=Torgersen"]
    assert sum(s["rows"] for s in slicings["island"]) == evaluation["rows"]
    assert {s["slice"] for s in slicings["sex"]} >= {"sex=female", "sex=male"}
    assert "island x sex" in slicings
    blessing = json.loads((_path(shown["lineage"]["blessing"]["uri"]) / "blessing.json").read_text())
    assert blessing["blessed"] is True
    sliced = {c["slice"] for c in blessing["checks"] if c["kind"] == "slice_min"}
    assert {"island=Biscoe", "island=Dream", "sex=female", "sex=male"} <= sliced
    first_baseline = [c for c in blessing["checks"] if c["kind"].startswith("baseline")]
    assert first_baseline and all("comparison skipped" in c["reason"] for c in first_baseline)
    report = (folder / "report.html").read_text()
    assert (
        "island=Dream" in report
        and report.count("<svg") >= 4
        and "http://" not in report.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )


def test_changed_parameter_registers_1_1_0_compared_with_champion(yard: Yard, project: dict[str, Any]) -> None:
    evaluate = _step(project["second"], "evaluate")
    assert evaluate["state"] == "done" and "vs champion 1.0.0" in evaluate["note"]
    assert "penguins registered 1.1.0 -> challenger" in _step(project["second"], "push")["note"]
    shown = as_json(yard("models", "show", "penguins/1.1.0", "--json", cwd=project["root"]))
    evaluation = json.loads((_path(shown["lineage"]["evaluation"]["uri"]) / "metrics.json").read_text())
    assert evaluation["champion"] == "1.0.0"
    assert evaluation["baseline"]["accuracy"] > 0.9
    blessing = json.loads((_path(shown["lineage"]["blessing"]["uri"]) / "blessing.json").read_text())
    compared = [c for c in blessing["checks"] if c["kind"].startswith("baseline")]
    assert {c["metric"] for c in compared} == {"accuracy", "f1_macro"}
    assert all(c["baseline"] == evaluation["baseline"][c["metric"]] for c in compared)
    assert all("baseline" in c["reason"] and "skipped" not in c["reason"] for c in compared)


def test_fresh_process_predicts_exactly_what_the_evaluation_saw(yard: Yard, project: dict[str, Any]) -> None:
    root = project["root"]
    shown = as_json(yard("models", "show", "penguins@champion", "--json", cwd=root))
    predictions = _path(shown["lineage"]["evaluation"]["uri"]) / "predictions.json"
    saved = json.loads(predictions.read_text())
    dataset = next(d for d in shown["lineage"]["data"] if d["type"] == "dataset")
    assert dataset["digest"] == saved["dataset_digest"]
    eval_split = _path(dataset["uri"]) / "eval.parquet"
    code = f"""
import json, pyarrow.parquet as pq, modelyard
rows = pq.read_table({str(eval_split)!r}).to_pylist()
saved = json.load(open({str(predictions)!r}))
records = [{{k: v for k, v in rows[i].items() if k != "species"}} for i in saved["positions"]]
model = modelyard.load_model("models:/penguins@champion")
print(json.dumps({{"predictions": model.predict(records), "proba": model.predict_proba(records),
                  "one_by_one": [model.predict([r])[0] for r in records]}}))
"""
    done = _python(code, root)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert len(saved["predictions"]) > 50
    assert got["predictions"] == saved["predictions"]
    assert got["one_by_one"] == saved["predictions"]
    assert got["proba"] == saved["probabilities"]


def test_a_bad_record_names_its_index_and_field(project: dict[str, Any]) -> None:
    code = """
import modelyard
from modelyard.errors import ValidationFailed
model = modelyard.load_model("models:/penguins@champion")
good = {"island": "Biscoe", "bill_length_mm": 45.1, "bill_depth_mm": 14.5, "flipper_length_mm": 215,
        "body_mass_g": 5000, "sex": "female"}
bad_missing = {k: v for k, v in good.items() if k != "island"}
bad_string = {**good, "bill_length_mm": "long"}
try:
    model.predict([good, bad_missing, bad_string])
except ValidationFailed as exc:
    print("\\n".join(exc.problems))
    print("MESSAGE", exc)
else:
    print("NO ERROR")
"""
    done = _python(code, project["root"])
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "NO ERROR" not in out and "Traceback" not in out
    assert "record 1, field 'island': required field is missing" in out
    assert "record 2, field 'bill_length_mm': expected a number, got 'long'" in out
    assert "record 0" not in out.split("MESSAGE")[0]


def test_registry_promote_rollback_diff_and_lineage(yard: Yard, project: dict[str, Any]) -> None:
    root = project["root"]
    diff = as_json(yard("models", "diff", "penguins", "1.0.0", "1.1.0", "--json", cwd=root))
    assert diff["estimator"]["params"]["C"] == {"from": 1.0, "to": 0.3}
    assert diff["signature"]["breaking"] == [] and "accuracy" in diff["metrics"]
    assert "param C: 1 -> 0.3" in yard("models", "diff", "penguins", "1.0.0", "1.1.0", cwd=root).stdout

    lineage = as_json(yard("models", "show", "penguins/1.1.0", "--json", cwd=root))["lineage"]
    csv = root / "data" / "penguins.csv"
    assert hashlib.sha256(csv.read_bytes()).hexdigest() in [d["digest"] for d in lineage["data"]]
    assert lineage["schema"]["digest"] and lineage["transform"]["digest"]
    assert len(lineage["training"]["code_fingerprint"]) >= 12

    moved = as_json(yard("models", "promote", "penguins", "1.1.0", "--reason", "better calibrated", "--json",
                         cwd=root))  # fmt: skip
    assert (moved["from_version"], moved["to_version"]) == ("1.0.0", "1.1.0")
    back = as_json(yard("models", "rollback", "penguins", "--json", cwd=root))
    assert (back["from_version"], back["to_version"]) == ("1.1.0", "1.0.0")
    history = as_json(yard("models", "show", "penguins", "--json", cwd=root))["history"]
    champion_moves = [(h["from_version"], h["to_version"], h["reason"]) for h in history if h["alias"] == "champion"]
    assert champion_moves == [
        (None, "1.0.0", "first blessed version"),
        ("1.0.0", "1.1.0", "better calibrated"),
        ("1.1.0", "1.0.0", "rolled back by hand"),
    ]
    assert all(h["actor"] and h["at"] for h in history)
    failed = yard("models", "rollback", "penguins", cwd=root, check=2)
    assert "no earlier version" in failed.stderr
    unknown = yard("models", "show", "pengiuns", cwd=root, check=2)
    assert "did you mean 'penguins'" in unknown.stderr


def test_every_models_command_has_help_with_an_example(yard: Yard, tmp_path: Path) -> None:
    for command in ("list", "show", "promote", "rollback", "diff"):
        out = yard("models", command, "--help", cwd=tmp_path).stdout
        assert f"yard models {command}" in out and "--json" in out
