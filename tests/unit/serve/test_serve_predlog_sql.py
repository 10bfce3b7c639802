"""The prediction log and feedback as database tables (``--log-db``): the same rows and the same Arrow table
from ``read_with_feedback`` as the Parquet log. One test body, run on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def log_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'log' / 'predictions.db'}"
    return request.getfixturevalue("pg_databases")()  # a fresh, empty database


def _serve_and_label(make_client, feature_rows, **options) -> None:
    """The same traffic for every kind of log: three predictions, one rejected request, labels (one corrected)."""
    client = make_client(log_flush_seconds=0.05, **options)
    for i, row in enumerate(feature_rows[:3]):
        sent = client.post("/v1/models/penguins:predict", json={"instances": [row]}, headers={"x-request-id": f"r{i}"})
        assert sent.status_code == 200
    bad = client.post("/invocations", json={"instances": [{"island": "Atlantis"}]}, headers={"x-request-id": "r3"})
    assert bad.status_code == 422
    assert client.post("/v1/models/penguins/feedback", json={"request_id": "r0", "label": "Gentoo"}).status_code == 200
    many = [{"request_id": "r1", "label": "Adelie"}, {"request_id": "r0", "label": "Adelie"}]
    assert client.post("/v1/models/penguins/feedback", json=many).json() == {"model": "penguins", "accepted": 2}
    client.__exit__(None, None, None)  # a clean shutdown writes the rest of the log


def test_a_database_log_holds_the_rows_and_labels_of_the_parquet_log(
    make_client, feature_rows, log_url: str, tmp_path: Path
) -> None:
    from modelyard.serve.feedback import read_with_feedback
    from modelyard.serve.predlog import log_schema

    _serve_and_label(make_client, feature_rows, log_db=log_url)
    _serve_and_label(make_client, feature_rows, log_dir=str(tmp_path / "predictions"))
    from_db = read_with_feedback(log_url, model="penguins")
    from_files = read_with_feedback(tmp_path / "predictions", tmp_path / "feedback", "penguins")

    assert from_db.schema == from_files.schema == log_schema(with_labels=True)
    assert {row["request_id"]: row["label"] for row in from_db.to_pylist()} == {
        "r0": '"Adelie"', "r1": '"Adelie"', "r2": None, "r3": None,  # r0 was corrected; no label for r2, r3
    }  # fmt: skip
    moment = ("time", "latency_ms", "label_time")  # when and how fast differ between the two runs
    same = [{k: v for k, v in row.items() if k not in moment} for row in from_db.to_pylist()]
    assert same == [{k: v for k, v in row.items() if k not in moment} for row in from_files.to_pylist()]
    rejected = same[3]
    assert (rejected["status"], rejected["protocol"], rejected["inputs"]) == (422, "mlflow", "null")
    assert "'Atlantis'" in rejected["outputs"]
    rows = from_db.to_pylist()
    assert all(row["time"].tzinfo is not None and row["latency_ms"] > 0 for row in rows)
    assert rows[0]["label_time"] > rows[0]["time"]
    assert read_with_feedback(log_url, model="nope").num_rows == 0


def test_a_flush_writes_its_rows_in_one_transaction_and_tables_are_made_once(log_url: str) -> None:
    import datetime as dt

    import sqlalchemy as sa

    from modelyard.serve.predlog import PredictionLog
    from modelyard.serve.predlog_sql import PredictionDatabase, read_with_feedback_db

    assert read_with_feedback_db(log_url).num_rows == 0  # reading creates nothing
    log = PredictionLog(database=log_url, flush_seconds=3600)
    log.start()
    for i in range(500):
        log.record(f"q{i}", "m", "1", "primary", "v2", 200, 0.001, [{"x": i}], [i % 3])
    statements: list[str] = []
    sa.event.listen(log.database.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    assert log.flush() == 500
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1  # one executemany for the whole flush
    log.close()

    again = PredictionDatabase.open(log_url)  # a second worker: the tables are there, nothing fails
    try:
        table = again.read_with_feedback("m")
        indexes = {ix["name"] for ix in sa.inspect(again.engine).get_indexes("prediction_log")}
    finally:
        again.close()
    assert table.num_rows == 500 and table.column("inputs")[7].as_py() == '[{"x":7}]'
    assert "ix_prediction_log_model_time" in indexes
    assert min(table.column("time").to_pylist()) > dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)


def test_log_dir_and_log_db_together_are_refused(tmp_path: Path) -> None:
    from modelyard.errors import UsageError
    from modelyard.serve.predlog import PredictionLog

    with pytest.raises(UsageError, match="folder or to a database"):
        PredictionLog(tmp_path, database=f"sqlite:///{tmp_path / 'x.db'}")
