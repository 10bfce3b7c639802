"""Labels posted by request id are stored beside the prediction log and joined to it (latest label wins)."""

from __future__ import annotations

from pathlib import Path


def test_labels_posted_later_are_joined_to_the_logged_predictions(make_client, feature_rows, tmp_path: Path) -> None:
    from modelyard.serve.feedback import read_with_feedback

    log = tmp_path / "predictions"
    client = make_client(log_dir=str(log))
    for i, row in enumerate(feature_rows[:3]):
        sent = client.post("/v1/models/penguins:predict", json={"instances": [row]}, headers={"x-request-id": f"r{i}"})
        assert sent.status_code == 200
    one = client.post("/v1/models/penguins/feedback", json={"request_id": "r0", "label": "Gentoo"})
    assert one.status_code == 200 and one.json() == {"model": "penguins", "accepted": 1}
    many = [{"request_id": "r1", "label": "Adelie"}, {"request_id": "r0", "label": "Adelie"}]
    assert client.post("/v1/models/penguins/feedback", json=many).json()["accepted"] == 2
    bad = client.post("/v1/models/penguins/feedback", json=[{"request_id": "", "label": "x"}, {"request_id": "r2"}])
    assert bad.status_code == 422
    assert bad.json()["problems"] == [
        "feedback[0].request_id: missing or not a non-empty string",
        "feedback[1].label: missing, null or not a single value",
    ]
    assert client.post("/v1/models/nope/feedback", json={"request_id": "r0", "label": "x"}).status_code == 404
    client.__exit__(None, None, None)  # a clean shutdown flushes the prediction log

    table = read_with_feedback(log, tmp_path / "feedback", "penguins").to_pylist()
    labels = {row["request_id"]: row["label"] for row in table}
    assert labels == {"r0": '"Adelie"', "r1": '"Adelie"', "r2": None}  # r0 was corrected; r2 has no label yet
    assert all(row["status"] == 200 and row["route"] == "primary" for row in table)


def test_feedback_needs_a_prediction_log(make_client) -> None:
    client = make_client()
    answer = client.post("/v1/models/penguins/feedback", json={"request_id": "r0", "label": "Adelie"})
    assert answer.status_code == 400 and "keeps no prediction log" in answer.json()["error"]
