"""The penguins example end to end: run, reuse, change one parameter, lineage back to the CSV."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.e2e.conftest import Yard, as_json, latest_run

STEPS = ["ingest", "statistics", "schema", "validate", "transform", "train", "evaluate", "push"]


def test_second_run_reuses_every_step(yard: Yard, penguins: Path) -> None:
    report = as_json(yard("run", "--json", cwd=penguins))
    assert report["status"] == "complete"
    states = {s["name"]: s["state"] for s in report["steps"]}
    assert [name for name in STEPS if name != "push"] == [n for n, s in states.items() if s == "reused"]
    assert states["push"] == "done"  # push never caches; registering the same package again is a no-op
    assert "already registered as 1.0.0" in next(s["note"] for s in report["steps"] if s["name"] == "push")


def test_human_output_says_reused_and_where_things_are(yard: Yard, penguins: Path) -> None:
    out = yard("run", cwd=penguins).stdout
    assert out.count("reused") >= 7
    assert "model (train.model):" in out and "report (statistics.statistics):" in out


def test_lineage_goes_back_to_the_csv_and_its_sha256(yard: Yard, penguins: Path) -> None:
    csv = penguins / "data" / "penguins.csv"
    digest = hashlib.sha256(csv.read_bytes()).hexdigest()
    out = yard("lineage", "penguins", cwd=penguins).stdout
    assert "model penguins 1.0.0 (champion)" in out
    assert f"sha256:{digest}" in out and str(csv.resolve()) in out
    for step in ("train", "transform", "schema", "statistics", "ingest"):
        assert f"step {step}" in out
    graph = as_json(yard("lineage", "penguins", "--json", cwd=penguins))
    files = [n for n in graph["nodes"] if n["properties"].get("type") == "file"]
    assert [f["properties"]["digest"] for f in files] == [digest]


def test_runs_and_artifacts_listings(yard: Yard, penguins: Path) -> None:
    runs = as_json(yard("runs", "list", "--json", cwd=penguins))
    assert runs and all(r["status"] == "complete" for r in runs)
    shown = as_json(yard("runs", "show", runs[-1]["id"][:6], "--json", cwd=penguins))
    executions = {e["step"]: e for e in shown["executions"]}
    assert set(executions) == set(STEPS)
    train = executions["train"]
    assert train["cpu_seconds"] > 0 and train["peak_memory_bytes"] > 10_000_000 and train["wall_seconds"] > 0
    assert shown["params"]["train.estimator"] == "sklearn.linear_model.LogisticRegression"
    assert shown["metrics"]["eval.accuracy"] >= 0.9
    assert train["tags"] == {"team": "research", "cost_centre": "birds"}
    assert train["environment"]["libraries"]["scikit-learn"]
    models = as_json(yard("artifacts", "list", "--type", "model", "--json", cwd=penguins))
    assert len(models) == 1 and models[0]["type"] == "model"
    listed = as_json(yard("models", "list", "--json", cwd=penguins))
    assert listed == [{"name": "penguins", "versions": 1, "latest": "1.0.0", "aliases": {"champion": "1.0.0"}}]


def test_changing_one_parameter_reruns_only_what_depends_on_it(yard: Yard, tmp_path: Path) -> None:
    project = tmp_path / "p"
    yard("init", str(project), cwd=tmp_path)
    yard("run", "--json", cwd=project)
    pipeline = project / "pipeline.yaml"
    pipeline.write_text(pipeline.read_text().replace("C: 1.0", "C: 0.5"))
    report = as_json(yard("run", "--json", cwd=project))
    states = {s["name"]: (s["state"], s["reason"] + " · " + s["note"]) for s in report["steps"]}
    assert {n for n, (s, _) in states.items() if s == "reused"} == {
        "ingest",
        "statistics",
        "schema",
        "validate",
        "transform",
    }
    assert states["train"][0] == "done" and "param estimator_params" in states["train"][1]
    assert '"C": 1.0' in states["train"][1] and '"C": 0.5' in states["train"][1]
    assert states["evaluate"][0] == "done" and "input model changed" in states["evaluate"][1]
    assert "registered 1.1.0 -> challenger" in states["push"][1]


def test_curated_schema_violation_fails_validate_with_report(yard: Yard, tmp_path: Path) -> None:
    project = tmp_path / "p"
    yard("init", str(project), cwd=tmp_path)
    yard("run", "--json", cwd=project)
    schemas = as_json(yard("artifacts", "list", "--type", "schema", "--json", cwd=project))
    inferred = Path(schemas[0]["uri"].removeprefix("file:")) / "schema.yaml"
    text = inferred.read_text()
    assert "Dream" in text
    (project / "schema.yaml").write_text(text.replace("[Biscoe, Dream, Torgersen]", "[Biscoe, Torgersen]"))
    pipeline = project / "pipeline.yaml"
    pipeline.write_text(pipeline.read_text().replace("params: {label: species}", "params: {path: schema.yaml}"))
    done = yard("run", cwd=project, check=1)
    assert "step 'validate'" in done.stderr and "island" in done.stderr and "Dream" in done.stderr
    report = latest_run(yard, project)
    validate = next(e for e in report["executions"] if e["step"] == "validate")
    assert validate["status"] == "failed" and "anomalies" in validate["outputs"]
    assert (Path(validate["outputs"]["anomalies"]["uri"].removeprefix("file:")) / "report.html").is_file()
    steps = {e["step"] for e in report["executions"]}
    assert "train" not in steps


def test_moving_the_champion_invalidates_the_cached_evaluation(yard: Yard, tmp_path: Path) -> None:
    project = tmp_path / "p"
    yard("init", str(project), cwd=tmp_path)
    yard("run", "--json", cwd=project)
    pipeline = project / "pipeline.yaml"
    pipeline.write_text(pipeline.read_text().replace("C: 1.0", "C: 0.5"))
    yard("run", "--json", cwd=project)  # 1.1.0 registered as challenger, evaluated against champion 1.0.0
    yard("models", "promote", "penguins", "1.1.0", "--alias", "champion", cwd=project)
    report = as_json(yard("run", "--json", cwd=project))
    evaluate = next(s for s in report["steps"] if s["name"] == "evaluate")
    assert evaluate["state"] == "done" and "input champion changed" in evaluate["reason"]
    yard("models", "rollback", "penguins", cwd=project)
    report = as_json(yard("run", "--json", cwd=project))
    assert next(s for s in report["steps"] if s["name"] == "evaluate")["state"] == "reused"


def test_the_scaffolded_train_function_can_replace_the_estimator(yard: Yard, tmp_path: Path) -> None:
    project = tmp_path / "p"
    yard("init", str(project), cwd=tmp_path)
    pipeline = project / "pipeline.yaml"
    text = pipeline.read_text()
    assert "estimator: sklearn.linear_model.LogisticRegression" in text
    pipeline.write_text(text.replace("estimator: sklearn.linear_model.LogisticRegression",
                                     "function: train.py:train_model"))  # fmt: skip
    report = as_json(yard("run", "--json", cwd=project))
    assert report["status"] == "complete"
    assert "blessed" in next(s for s in report["steps"] if s["name"] == "evaluate")["note"]
    shown = latest_run(yard, project)
    assert shown["params"]["train.estimator"] == "train.py:train_model"
