"""Decoding the prediction log into typed rows and cutting it into windows, on logs written by the server's writer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq

from modelyard.monitor.logwindow import WindowSpec, read_windows, write_labelled_span
from modelyard.serve.feedback import write_feedback
from modelyard.serve.predlog import PredictionLog

SIGNATURE = {
    "inputs": [{"name": "size", "type": "float"}, {"name": "count", "type": "int"}, {"name": "kind", "type": "string"}],
    "outputs": [{"name": "label", "type": "string"}],
}


def _log(tmp_path: Path) -> Path:
    folder = tmp_path / "predictions"
    log = PredictionLog(folder)
    log.record(
        "one", "m", "1.0.0", "primary", "invocations", 200, 0.001, [{"size": 1.5, "count": 3, "kind": "a"}], ["yes"]
    )
    two = [{"size": 2.0, "count": 4, "kind": "b"}, {"size": None, "count": 5, "kind": None}]
    log.record("two", "m", "1.0.0", "primary", "invocations", 200, 0.001, two, ["no", "yes"])
    v2_outputs = [{"name": "label", "datatype": "BYTES", "shape": [1], "data": ["no"]},
                  {"name": "probabilities", "datatype": "FP64", "shape": [1, 2], "data": [0.3, 0.7]}]  # fmt: skip
    log.record("three", "m", "1.1.0", "canary", "v2", 200, 0.001, [{"size": 3.0, "count": 6, "kind": "a"}], v2_outputs)
    log.record("three", "m", "1.1.0", "shadow", "v2", 200, 0.001, [{"size": 3.0, "count": 6, "kind": "a"}], ["no"])
    log.record("bad", "m", "1.0.0", "primary", "invocations", 422, 0.001, [{"size": "x"}], {"error": "bad"})
    log.record("other", "n", "1.0.0", "primary", "invocations", 200, 0.001, [{"size": 9.0}], ["no"])
    log.flush()
    return folder


def test_records_predictions_and_labels_are_unpacked_and_only_served_traffic_counts(tmp_path: Path) -> None:
    predictions = _log(tmp_path)
    feedback = tmp_path / "feedback"
    write_feedback(feedback, "m", [("one", "yes"), ("two", "no"), ("three", "yes")])

    windows = read_windows(predictions, feedback, "m", SIGNATURE, "label", WindowSpec(rows=10), tmp_path / "w")

    assert len(windows) == 1 and not windows[0].complete  # 4 rows of 10
    assert windows[0].versions == {"1.0.0": 3, "1.1.0": 1}  # the shadow copy and the 422 are not traffic
    rows = pq.read_table(windows[0].path).to_pylist()
    assert [(r["request_id"], r["size"], r["count"], r["kind"], r["prediction"]) for r in rows] == [
        ("one", 1.5, 3, "a", "yes"),
        ("two", 2.0, 4, "b", "no"),
        ("two", None, 5, None, "yes"),
        ("three", 3.0, 6, "a", "no"),  # the label output of a V2 answer with probabilities
    ]
    # a label belongs to a one-record request; on a two-record request it is ambiguous and left out
    assert [r["label"] for r in rows] == ["yes", None, None, "yes"]
    assert pq.read_table(windows[0].inputs_path).column_names == ["size", "count", "kind"]


def test_row_windows_are_complete_when_full_and_duration_windows_when_their_end_has_passed(tmp_path: Path) -> None:
    predictions = _log(tmp_path)
    by_rows = read_windows(predictions, tmp_path / "none", "m", SIGNATURE, "label", WindowSpec(rows=3), tmp_path / "a")
    assert [(w.rows, w.complete) for w in by_rows] == [(3, True), (1, False)]
    hour = WindowSpec.parse("1h")
    now = dt.datetime.now(dt.UTC)
    open_hour = read_windows(predictions, tmp_path / "none", "m", SIGNATURE, "label", hour, tmp_path / "b", now=now)
    assert [w.complete for w in open_hour] == [False]
    assert open_hour[0].start.minute == 0 and open_hour[0].end - open_hour[0].start == dt.timedelta(hours=1)
    later = now + dt.timedelta(hours=2)
    closed = read_windows(predictions, tmp_path / "none", "m", SIGNATURE, "label", hour, tmp_path / "c", now=later)
    assert [w.complete for w in closed] == [True] and closed[0].key == open_hour[0].key


def test_a_span_is_the_labelled_rows_between_two_instants(tmp_path: Path) -> None:
    predictions = _log(tmp_path)
    feedback = tmp_path / "feedback"
    write_feedback(feedback, "m", [("one", "yes"), ("three", "no")])
    target = tmp_path / "span.parquet"
    start, end = dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)

    rows = write_labelled_span(predictions, feedback, "m", SIGNATURE, "species", start, end, target)

    assert rows == 2
    assert pq.read_table(target).to_pylist() == [
        {"size": 1.5, "count": 3, "kind": "a", "species": "yes"},
        {"size": 3.0, "count": 6, "kind": "a", "species": "no"},
    ]


def test_a_log_kept_in_a_database_decodes_like_the_parquet_log(tmp_path: Path) -> None:
    from modelyard.serve.predlog_sql import PredictionDatabase

    url = f"sqlite:///{tmp_path / 'log.db'}"
    database = PredictionDatabase.open(url, create=True)
    database.close()
    log = PredictionLog(database=url)
    log.record(
        "one", "m", "1.0.0", "primary", "invocations", 200, 0.001, [{"size": 1.5, "count": 3, "kind": "a"}], ["yes"]
    )
    log.record(
        "two", "m", "1.0.0", "shadow", "invocations", 200, 0.001, [{"size": 2.0, "count": 4, "kind": "b"}], ["no"]
    )
    log.flush()
    database = PredictionDatabase.open(url, create=False)
    database.insert_feedback("m", [("one", "no")])
    database.close()

    windows = read_windows(url, tmp_path / "unused", "m", SIGNATURE, "label", WindowSpec(rows=1), tmp_path / "w")

    assert [pq.read_table(w.path).to_pylist()[0]["request_id"] for w in windows] == ["one"]
    row = pq.read_table(windows[0].path).to_pylist()[0]
    assert (row["size"], row["count"], row["kind"], row["prediction"], row["label"]) == (1.5, 3, "a", "yes", "no")
