"""A broken pipeline fails before anything runs, naming the file, the line, the step and a fix."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from modelyard.errors import PipelineDefinitionError
from modelyard.pipeline.plan import plan_pipeline
from modelyard.pipeline.spec import Pipeline, load_pipeline

GOOD = """\
pipeline: demo
steps:
  ingest:
    component: ingest
    params: {path: data.csv}
  statistics:
    component: statistics
    inputs: {dataset: ingest.dataset}
  schema:
    component: schema
    inputs: {statistics: statistics.statistics}
  validate:
    component: validate
    inputs: {statistics: statistics.statistics, schema: schema.schema}
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "data.csv").write_text("a,b\n1,x\n")
    path = tmp_path / "pipeline.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def fails(path: Path) -> PipelineDefinitionError:
    with pytest.raises(PipelineDefinitionError) as info:
        plan_pipeline(load_pipeline(path))
    return info.value


def test_good_pipeline_plans_in_dependency_order(tmp_path: Path) -> None:
    plan = plan_pipeline(load_pipeline(write(tmp_path, GOOD)))
    assert list(plan.steps) == ["ingest", "statistics", "schema", "validate"]
    assert plan.steps["validate"].depends_on == {"statistics", "schema"}


def test_unknown_component_names_line_and_suggests(tmp_path: Path) -> None:
    error = fails(write(tmp_path, GOOD.replace("component: statistics", "component: statistcs")))
    assert error.where.line == 7 and error.where.step == "statistics"
    assert error.where.file and error.where.file.endswith("pipeline.yaml")
    assert "did you mean 'statistics'" in (error.hint or "")
    assert "pipeline.yaml:7" in str(error)


def test_misspelled_input_step(tmp_path: Path) -> None:
    error = fails(
        write(tmp_path, GOOD.replace("inputs: {dataset: ingest.dataset}", "inputs: {dataset: ingset.dataset}"))
    )
    assert error.where.line == 8
    assert "unknown step 'ingset'" in error.message and "did you mean 'ingest'" in (error.hint or "")


def test_misspelled_output_name(tmp_path: Path) -> None:
    error = fails(write(tmp_path, GOOD.replace("ingest.dataset", "ingest.datset")))
    assert "has no output 'datset'" in error.message and "'dataset'" in (error.hint or "")


def test_misspelled_input_name(tmp_path: Path) -> None:
    error = fails(
        write(tmp_path, GOOD.replace("inputs: {dataset: ingest.dataset}", "inputs: {datset: ingest.dataset}"))
    )
    assert "has no input 'datset'" in error.message and "did you mean 'dataset'" in (error.hint or "")


def test_wrong_artifact_type(tmp_path: Path) -> None:
    error = fails(
        write(
            tmp_path,
            GOOD.replace("inputs: {statistics: statistics.statistics}\n", "inputs: {statistics: ingest.dataset}\n", 1),
        )
    )
    assert "needs a statistics artifact but ingest.dataset is a dataset" in error.message
    assert "statistics.statistics" in (error.hint or "")
    assert error.where.line == 11


def test_cycle_is_reported_as_a_path(tmp_path: Path) -> None:
    text = GOOD.replace(
        "inputs: {statistics: statistics.statistics}\n", "inputs: {statistics: statistics.statistics}\n", 1
    )
    text = text.replace(
        "component: statistics\n    inputs: {dataset: ingest.dataset}",
        "component: statistics\n    inputs: {dataset: ingest.dataset}\n    when: validate.anomalies.valid",
    )
    error = fails(write(tmp_path, text))
    assert "cycle" in error.message and "statistics" in error.message and "validate" in error.message
    assert error.where.file and error.where.line is not None


def test_unknown_parameter_suggests(tmp_path: Path) -> None:
    error = fails(write(tmp_path, GOOD.replace("params: {path: data.csv}", "params: {path: data.csv, sed: 3}")))
    assert "unknown parameter 'sed'" in error.message and "did you mean 'seed'" in (error.hint or "")
    assert error.where.line == 5


def test_bad_parameter_value(tmp_path: Path) -> None:
    error = fails(
        write(tmp_path, GOOD.replace("params: {path: data.csv}", "params: {path: data.csv, eval_fraction: 2}"))
    )
    assert "eval_fraction" in error.message and error.where.step == "ingest"


def test_missing_data_file(tmp_path: Path) -> None:
    error = fails(write(tmp_path, GOOD.replace("path: data.csv", "path: nowhere.csv")))
    assert "not found" in error.message and "nowhere.csv" in error.message


def test_unknown_step_key_and_yaml_syntax(tmp_path: Path) -> None:
    error = fails(write(tmp_path, GOOD.replace("    component: ingest\n", "    component: ingest\n    retires: 2\n")))
    assert "unknown key 'retires'" in error.message and "did you mean 'retries'" in (error.hint or "")
    assert error.where.line == 5
    error = fails(write(tmp_path, GOOD + "  broken: [\n"))
    assert "invalid YAML" in error.message and error.where.line


def test_unwired_required_input(tmp_path: Path) -> None:
    error = fails(
        write(
            tmp_path,
            GOOD.replace(
                "inputs: {statistics: statistics.statistics, schema: schema.schema}",
                "inputs: {statistics: statistics.statistics}",
            ),
        )
    )
    assert "input 'schema'" in error.message and "not wired" in error.message


def test_bad_condition(tmp_path: Path) -> None:
    error = fails(write(tmp_path, GOOD + "    when: schema.blessing.blessed\n"))
    assert "no output 'blessing'" in error.message and error.where.step == "validate"


def test_python_definition_equals_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    p = Pipeline("demo", base_dir=tmp_path)
    ingest = p.step("ingest", "ingest", params={"path": "data.csv"})
    stats = p.step("statistics", "statistics", inputs={"dataset": ingest["dataset"]})
    schema = p.step("schema", "schema", inputs={"statistics": stats["statistics"]})
    p.step("validate", "validate", inputs={"statistics": stats["statistics"], "schema": schema["schema"]})
    assert p.build().spec == load_pipeline(path).spec


def test_python_definition_error_points_at_user_line(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("a\n1\n")
    p = Pipeline("demo", base_dir=tmp_path)
    p.step("ingest", "ingest", params={"path": "data.csv"})
    p.step("statistics", "statistcs", inputs={"dataset": "ingest.dataset"})
    line = 162
    with pytest.raises(PipelineDefinitionError) as info:
        plan_pipeline(p.build())
    assert info.value.where.file == __file__ and info.value.where.line == line
