"""``yard stats``, ``yard schema infer`` and ``yard validate`` on generated data with known defects.

The generator draws the same columns from the same distributions for every seed; a defect is one
deliberate change. Validation must report exactly the planted defects, with their codes, and
nothing at all on clean data from the same generator.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.e2e.conftest import Yard, as_json, latest_run

ROWS = 5_000


def _normal(mean: float, std: float) -> str:
    return f"({mean} + {std} * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))"


def generate(path: Path, seed: float, *, rows: int = ROWS, defects: tuple[str, ...] = ()) -> Path:
    """Write a CSV (or Parquet, by suffix) drawn from the generator, with the named defects planted."""
    color = "(['red', 'green', 'blue'])[1 + floor(random() * 3)::INT]"
    if "new category" in defects:
        color = f"CASE WHEN random() < 0.03 THEN 'purple' ELSE {color} END"
    age = f"round({_normal(40, 10)}, 1)"
    if "turned to strings" in defects:
        age = f"'about ' || CAST({age} AS VARCHAR)"
    income = _normal(60_000 if "shifted mean" in defects else 50_000, 10_000)
    label = "CASE WHEN random() < 0.5 THEN 'yes' ELSE 'no' END"
    if "extra nulls" in defects:
        label = f"CASE WHEN random() < 0.3 THEN NULL ELSE {label} END"
    columns = [
        "i AS id",
        f"{age} AS age",
        f"round({income}, 2) AS income",
        f"{color} AS color",
        "" if "dropped column" in defects else "1 + floor(random() * 5)::INT AS size",
        "CASE WHEN random() < 0.1 THEN NULL ELSE round(random(), 3) END AS score",
        f"{label} AS label",
    ]
    select = ", ".join(column for column in columns if column)
    con = duckdb.connect()
    try:
        con.execute(f"SELECT setseed({seed})")
        fmt = "parquet" if path.suffix == ".parquet" else "csv, HEADER true"
        con.execute(f"COPY (SELECT {select} FROM range({rows}) t(i)) TO '{path}' (FORMAT {fmt})")
    finally:
        con.close()
    return path


@pytest.fixture
def contract(tmp_path: Path, yard: Yard) -> tuple[Path, Path]:
    reference = generate(tmp_path / "reference.csv", 0.11)
    schema = tmp_path / "schema.yaml"
    yard("schema", "infer", str(reference), "--label", "label", "-o", str(schema), cwd=tmp_path)
    return reference, schema


def _found(done) -> set[tuple[str, str | None, str]]:  # type: ignore[no-untyped-def]
    return {(item["code"], item["column"], item["severity"]) for item in as_json(done)["anomalies"]}


def test_clean_data_from_the_same_generator_has_no_anomalies(
    contract: tuple[Path, Path], tmp_path: Path, yard: Yard
) -> None:
    reference, schema = contract
    current = generate(tmp_path / "current.csv", 0.52)
    done = yard("validate", str(current), "--schema", str(schema), "--against", str(reference), "--json", cwd=tmp_path)
    assert as_json(done)["anomalies"] == []
    assert as_json(done)["valid"] is True
    assert {column["column"] for column in as_json(done)["drift"]["columns"]} >= {"age", "income", "color"}


def test_every_planted_defect_is_reported_with_its_code_and_nothing_else(
    contract: tuple[Path, Path], tmp_path: Path, yard: Yard
) -> None:
    reference, schema = contract
    defects = ("new category", "dropped column", "shifted mean", "turned to strings", "extra nulls")
    current = generate(tmp_path / "current.csv", 0.52, defects=defects)
    done = yard(
        "validate", str(current), "--schema", str(schema), "--against", str(reference), "--json", cwd=tmp_path, check=1
    )
    assert _found(done) == {
        ("value_outside_domain", "color", "error"),
        ("missing_column", "size", "error"),
        ("drift", "income", "warning"),
        ("type_mismatch", "age", "error"),
        ("presence_below_minimum", "label", "error"),
    }
    by_code = {item["code"]: item for item in as_json(done)["anomalies"]}
    assert by_code["value_outside_domain"]["details"]["examples"] == ["purple"]
    assert 0.02 < by_code["value_outside_domain"]["details"]["fraction"] < 0.04
    assert by_code["type_mismatch"]["details"]["examples"][0].startswith("about ")


@pytest.mark.parametrize(
    ("defect", "expected"),
    [
        ("new category", {("value_outside_domain", "color")}),
        ("dropped column", {("missing_column", "size")}),
        ("turned to strings", {("type_mismatch", "age")}),
        ("extra nulls", {("presence_below_minimum", "label")}),
    ],
)
def test_each_defect_alone_fails_validation(
    contract: tuple[Path, Path], tmp_path: Path, yard: Yard, defect: str, expected: set[tuple[str, str]]
) -> None:
    _, schema = contract
    current = generate(tmp_path / "current.csv", 0.52, defects=(defect,))
    done = yard("validate", str(current), "--schema", str(schema), "--json", cwd=tmp_path, check=1)
    assert {(code, column) for code, column, _ in _found(done)} == expected


def test_a_shifted_mean_alone_is_a_warning_unless_the_schema_sets_a_threshold(
    contract: tuple[Path, Path], tmp_path: Path, yard: Yard
) -> None:
    reference, schema = contract
    current = generate(tmp_path / "current.csv", 0.52, defects=("shifted mean",))
    done = yard("validate", str(current), "--schema", str(schema), "--against", str(reference), cwd=tmp_path)
    assert "drift" in done.stdout and "income" in done.stdout
    text = schema.read_text().replace(
        "  income:\n    type: float\n", "  income:\n    type: float\n    drift_threshold: 0.02\n"
    )
    schema.write_text(text)
    done = yard(
        "validate", str(current), "--schema", str(schema), "--against", str(reference), "--json", cwd=tmp_path, check=1
    )
    assert _found(done) == {("drift", "income", "error")}


def test_no_false_drift_alarm_on_a_large_clean_pair(tmp_path: Path, yard: Yard) -> None:
    first = generate(tmp_path / "a.parquet", 0.21, rows=300_000)
    second = generate(tmp_path / "b.parquet", 0.77, rows=300_000)
    done = yard("stats", str(first), "--compare", str(second), "--json", cwd=tmp_path)
    drift = as_json(done)["drift"]
    assert drift["current_rows"] == 300_000
    assert [c["column"] for c in drift["columns"] if c["drifted"]] == []
    assert {c["column"] for c in drift["columns"]} == {"id", "age", "income", "color", "size", "score", "label"}


def test_stats_compare_writes_an_offline_html_report(contract: tuple[Path, Path], tmp_path: Path, yard: Yard) -> None:
    reference, _ = contract
    current = generate(tmp_path / "current.csv", 0.52, defects=("shifted mean",))
    report = tmp_path / "out" / "report.html"
    yard("stats", str(reference), "--compare", str(current), "--html", str(report), cwd=tmp_path)
    page = report.read_text()
    assert "<svg" in page and "Jensen-Shannon" in page and "income" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page
    assert "Drift: 1 of 7 columns moved" in page


def test_bad_input_is_one_line_with_file_and_line_and_exit_2(tmp_path: Path, yard: Yard) -> None:
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b,c\n1,2,3\n4,5\n6,7,8\n")
    done = yard("stats", str(ragged), cwd=tmp_path, check=2)
    assert "ragged.csv:3" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1

    done = yard("stats", str(tmp_path / "nope.csv"), cwd=tmp_path, check=2)
    assert "file not found" in done.stderr

    empty = tmp_path / "empty.csv"
    empty.write_text("")
    done = yard("stats", str(empty), cwd=tmp_path, check=2)
    assert "empty" in done.stderr

    quoting = tmp_path / "quoting.csv"
    quoting.write_text('a,b\n1,"fine"\n2,"never closed\n3,x\n')
    done = yard("stats", str(quoting), cwd=tmp_path, check=2)
    assert "quoting.csv:3, column 'b': a quote opened at character 3 is never closed" in done.stderr

    done = yard("stats", "--sql", "SELECT 1", cwd=tmp_path, check=2)
    assert "--sql needs --db" in done.stderr
    assert not list(tmp_path.glob("**/*.partial"))


def test_stats_of_a_sqlite_query(tmp_path: Path, yard: Yard) -> None:
    import sqlite3

    conn = sqlite3.connect(tmp_path / "shop.db")
    conn.execute("CREATE TABLE t (city TEXT, n INTEGER)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [("Oslo" if i % 4 else "Bergen", i) for i in range(400)])
    conn.commit()
    conn.close()
    done = yard("stats", "--sql", "SELECT * FROM t WHERE n < 100", "--db", "sqlite:///shop.db", "--json", cwd=tmp_path)
    stats = as_json(done)
    assert stats["num_rows"] == 100
    assert stats["columns"][0]["string"]["top"] == [["Oslo", 75], ["Bergen", 25]]


def test_header_only_file_becomes_an_empty_dataset_anomaly(
    contract: tuple[Path, Path], tmp_path: Path, yard: Yard
) -> None:
    _, schema = contract
    header_only = tmp_path / "header.csv"
    header_only.write_text("id,age,income,color,size,score,label\n")
    done = yard("validate", str(header_only), "--schema", str(schema), "--json", cwd=tmp_path, check=1)
    assert ("empty_dataset", None, "error") in _found(done)


def test_a_schema_typo_names_the_file_and_line(contract: tuple[Path, Path], tmp_path: Path, yard: Yard) -> None:
    reference, schema = contract
    text = schema.read_text().replace("    nullable: false\n", "    nulable: false\n", 1)
    schema.write_text(text)
    line = text.splitlines().index("    nulable: false") + 1
    done = yard("validate", str(reference), "--schema", str(schema), cwd=tmp_path, check=2)
    assert f"schema.yaml:{line}" in done.stderr and "did you mean 'nullable'" in done.stderr


def test_schema_infer_relax_keeps_hand_edits(contract: tuple[Path, Path], tmp_path: Path, yard: Yard) -> None:
    _, schema = contract
    edited = schema.read_text().replace(
        "  income:\n    type: float\n", "  income:\n    type: float\n    drift_threshold: 0.07\n"
    )
    schema.write_text(edited)
    current = generate(tmp_path / "current.csv", 0.52, defects=("new category", "extra nulls"))
    relaxed = tmp_path / "relaxed.yaml"
    yard("schema", "infer", str(current), "--relax", str(schema), "-o", str(relaxed), cwd=tmp_path)
    text = relaxed.read_text()
    assert "drift_threshold: 0.07" in text and "purple" in text
    assert "exclude: [label]" in text
    yard("validate", str(current), "--schema", str(relaxed), cwd=tmp_path)


_SPANS_PIPELINE = """
pipeline: spans
steps:
  last_week: {component: ingest, params: {path: last_week.csv, eval_fraction: 0.2}}
  today: {component: ingest, params: {path: today.csv, eval_fraction: 0.2}}
  last_week_stats: {component: statistics, inputs: {dataset: last_week.dataset}}
  today_stats: {component: statistics, inputs: {dataset: today.dataset}, params: {slice_by: [color]}}
  schema: {component: schema, inputs: {statistics: last_week_stats.statistics}, params: {label: label}}
  validate:
    component: validate
    inputs: {statistics: today_stats.statistics, schema: schema.schema, reference: last_week_stats.statistics}
"""


def test_pipeline_validate_compares_with_a_reference_span(tmp_path: Path, yard: Yard) -> None:
    generate(tmp_path / "last_week.csv", 0.11)
    generate(tmp_path / "today.csv", 0.52, defects=("shifted mean",))
    (tmp_path / "pipeline.yaml").write_text(_SPANS_PIPELINE)
    yard("run", cwd=tmp_path)
    report = latest_run(yard, tmp_path)
    validate = next(e for e in report["executions"] if e["step"] == "validate")
    folder = Path(validate["outputs"]["anomalies"]["uri"].removeprefix("file:"))
    anomalies = json.loads((folder / "anomalies.json").read_text())
    assert [(a["code"], a["column"], a["severity"]) for a in anomalies["train"]["items"]] == [
        ("drift", "income", "warning")
    ]
    drift = json.loads((folder / "drift.json").read_text())
    assert {c["column"] for c in drift["eval"]["columns"] if c["drifted"]} == {"income"}
    assert "Drift: 1 of" in (folder / "report.html").read_text()
