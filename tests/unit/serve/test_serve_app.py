"""The three protocols answer with the package's own predictions; clients' mistakes get their 4xx."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelyard.models.package import load_package
from tests.unit.serve.conftest import wait_ready

FIELDS = ["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex"]
DATATYPES = {"island": "BYTES", "sex": "BYTES", "bill_length_mm": "FP64", "bill_depth_mm": "FP32",
             "flipper_length_mm": "INT64", "body_mass_g": "INT32"}  # fmt: skip


def v2_body(rows: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    inputs = [
        {"name": name, "shape": [len(rows)], "datatype": DATATYPES[name], "data": [row[name] for row in rows]}
        for name in FIELDS
    ]
    return {"inputs": inputs, **extra}


@pytest.fixture(scope="module")
def expected(serve_package: Path, feature_rows: list[dict]) -> list[Any]:
    return load_package(serve_package).predict(feature_rows)


def test_v2_infer_matches_load_package(client, feature_rows, expected) -> None:
    answer = client.post("/v2/models/penguins/infer", json=v2_body(feature_rows, id="req-7"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["model_name"], body["model_version"], body["id"]) == ("penguins", "1.0.0", "req-7")
    [output] = body["outputs"]
    assert output == {"name": "species", "shape": [len(expected)], "datatype": "BYTES", "data": expected}
    versioned = client.post("/v2/models/penguins/versions/1.0.0/infer", json=v2_body(feature_rows))
    assert versioned.json()["outputs"][0]["data"] == expected


def test_v2_column_tensors_of_shape_n_by_1_and_probabilities(client, serve_package, feature_rows) -> None:
    rows = feature_rows[:3]
    inputs = [{"name": n, "shape": [3, 1], "datatype": DATATYPES[n], "data": [[r[n]] for r in rows]} for n in FIELDS]
    body = {"inputs": inputs, "outputs": [{"name": "probabilities"}, {"name": "species"}]}
    answer = client.post("/v2/models/penguins/infer", json=body)
    assert answer.status_code == 200, answer.text
    outputs = {o["name"]: o for o in answer.json()["outputs"]}
    package = load_package(serve_package)
    assert outputs["species"]["data"] == package.predict(rows)
    proba = outputs["probabilities"]
    classes = proba["parameters"]["classes"]
    assert proba["shape"] == [3, 3] and classes == ["Adelie", "Chinstrap", "Gentoo"]
    assert proba["data"] == pytest.approx([p[c] for p in package.predict_proba(rows) for c in classes])


def test_v2_one_matrix_tensor_maps_columns_by_signature_order(client, serve_package, feature_rows) -> None:
    rows = [r for r in feature_rows if None not in r.values()][:2]
    mixed = {"inputs": [{"name": "x", "shape": [2, 6], "datatype": "BYTES",
                         "data": [[r[n] for n in FIELDS] for r in rows]}]}  # fmt: skip
    refused = client.post("/v2/models/penguins/infer", json=mixed)
    assert refused.status_code == 422 and "is not a BYTES value" in refused.json()["error"]
    # a numeric matrix puts a number in the first column, island, which must be one of its domain values
    as_numbers = {"inputs": [{"name": "x", "shape": [1, 6], "datatype": "FP64", "data": [1, 2, 3, 4, 5, 6]}]}
    answer = client.post("/v2/models/penguins/infer", json=as_numbers)
    assert answer.status_code == 422
    assert any(line.startswith("record 0, field 'island'") for line in answer.json()["problems"])


def test_tf_serving_rows_and_columns_match_load_package(client, feature_rows, expected) -> None:
    rows = client.post("/v1/models/penguins:predict", json={"instances": feature_rows})
    assert rows.status_code == 200, rows.text
    assert rows.json() == {"predictions": expected}
    columns = {name: [row[name] for row in feature_rows] for name in FIELDS}
    assert client.post("/v1/models/penguins:predict", json={"inputs": columns}).json()["predictions"] == expected
    lists = [[row[name] for name in FIELDS] for row in feature_rows]
    versioned = client.post("/v1/models/penguins/versions/1.0.0:predict", json={"instances": lists})
    assert versioned.json()["predictions"] == expected


@pytest.mark.parametrize("form", ["dataframe_split", "dataframe_records", "instances", "inputs"])
def test_mlflow_invocations_match_load_package(client, feature_rows, expected, form) -> None:
    bodies = {
        "dataframe_split": {"columns": FIELDS, "data": [[row[n] for n in FIELDS] for row in feature_rows]},
        "dataframe_records": feature_rows,
        "instances": feature_rows,
        "inputs": {name: [row[name] for row in feature_rows] for name in FIELDS},
    }
    answer = client.post("/invocations", json={form: bodies[form]})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"predictions": expected}
    assert client.get("/ping").status_code == 200


def test_mlflow_invocations_take_csv_too(client, feature_rows, expected) -> None:
    import csv
    import io

    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=FIELDS)
    writer.writeheader()
    writer.writerows({name: "" if row[name] is None else row[name] for name in FIELDS} for row in feature_rows)
    answer = client.post("/invocations", content=text.getvalue(), headers={"content-type": "text/csv"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"predictions": expected}
    bad = client.post(
        "/invocations", content="island,bill_length_mm\nDream,long\n", headers={"content-type": "text/csv"}
    )
    assert bad.status_code == 422 and "record 0, field 'bill_length_mm'" in bad.text
    ragged = client.post("/invocations", content="island\nDream,1\n", headers={"content-type": "text/csv"})
    assert ragged.status_code == 400 and "more cells than the header" in ragged.text
    elsewhere = client.post(
        "/v1/models/penguins:predict", content="island\nDream\n", headers={"content-type": "text/csv"}
    )
    assert elsewhere.status_code == 400 and "text/csv is accepted on /invocations only" in elsewhere.text
    assert client.get("/v2/health/ready").status_code == 200


def test_health_and_metadata_follow_the_protocol(client) -> None:
    assert client.get("/v2/health/live").status_code == 200
    assert client.get("/v2/health/ready").status_code == 200
    assert client.get("/v2/models/penguins/ready").json() == {"name": "penguins", "ready": True}
    assert client.get("/v2").json()["name"] == "modelyard"
    meta = client.get("/v2/models/penguins").json()
    assert meta["versions"] == ["1.0.0"]
    assert {"name": "flipper_length_mm", "datatype": "INT64", "shape": [-1]} in meta["inputs"]
    assert meta["outputs"] == [{"name": "species", "datatype": "BYTES", "shape": [-1]}]


BAD = [
    ("malformed JSON", "/v2/models/penguins/infer", b'{"inputs": [', 400, "malformed JSON"),
    ("empty body", "/invocations", b"", 400, "body is empty"),
    ("not an object", "/v1/models/penguins:predict", b"[1, 2]", 400, "must be a JSON object"),
    ("no inputs", "/v2/models/penguins/infer", b'{"id": "x"}', 400, 'non-empty "inputs"'),
    ("both row and column", "/v1/models/penguins:predict", b'{"instances": [], "inputs": {}}', 400, "exactly one"),
    ("no known key", "/invocations", b'{"records": []}', 400, "found records"),
    ("shape disagrees", "/v2/models/penguins/infer",
     b'{"inputs": [{"name": "island", "shape": [3], "datatype": "BYTES", "data": ["Dream"]}]}', 400, "holds 3"),
    ("unknown datatype", "/v2/models/penguins/infer",
     b'{"inputs": [{"name": "island", "shape": [1], "datatype": "STRING", "data": ["Dream"]}]}', 400, "datatype"),
    ("wrong type", "/invocations", b'{"dataframe_records": [{"island": "Dream", "bill_length_mm": "long"}]}',
     422, "field 'bill_length_mm': expected a number"),
    ("missing field", "/invocations", b'{"dataframe_records": [{"bill_length_mm": 40.1}]}',
     422, "field 'island': required field is missing"),
    ("unknown input", "/v2/models/penguins/infer",
     b'{"inputs": [{"name": "isle", "shape": [1], "datatype": "BYTES", "data": ["Dream"]}]}', 422, "isle"),
    ("unknown model", "/v2/models/pengiuns/infer", b"{}", 404, "did you mean 'penguins'"),
    ("unknown version", "/v2/models/penguins/versions/9.9.9/infer", b"{}", 404, "no served version '9.9.9'"),
    ("unknown output", "/v2/models/penguins/infer",
     b'{"inputs": [{"name": "island", "shape": [1], "datatype": "BYTES", "data": ["Dream"]}],'
     b' "outputs": [{"name": "specie"}]}', 400, "did you mean 'species'"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "path", "payload", "status", "words"), BAD, ids=[b[0] for b in BAD])
def test_a_clients_mistake_gets_its_4xx_and_the_server_stays_ready(client, case, path, payload, status, words) -> None:
    answer = client.post(path, content=payload, headers={"content-type": "application/json"})
    assert answer.status_code == status, answer.text
    assert words in answer.json()["error"], answer.json()
    assert client.get("/v2/health/ready").status_code == 200
    good = client.post("/invocations", json={"dataframe_records": [{"island": "Dream"}]})
    assert good.status_code == 200


def test_every_offence_is_listed_per_record_and_field(client) -> None:
    rows = [{"island": "Mars", "bill_length_mm": 40.0}, {"island": "Dream", "flipper_length_mm": 180.5}]
    answer = client.post("/v1/models/penguins:predict", json={"instances": rows})
    assert answer.status_code == 422
    problems = answer.json()["problems"]
    assert any(p.startswith("record 0, field 'island'") and "'Mars'" in p for p in problems)
    assert any(p.startswith("record 1, field 'flipper_length_mm'") for p in problems)


def test_a_payload_above_the_limit_gets_413(make_client) -> None:
    small = make_client(max_body_bytes=200)
    rows = [{"island": "Dream"}] * 50
    answer = small.post("/invocations", json={"dataframe_records": rows})
    assert answer.status_code == 413 and "at most 200" in answer.json()["error"]
    assert small.post("/invocations", json={"dataframe_records": rows[:2]}).status_code == 200


def test_unknown_routes_and_methods_answer_in_json(client) -> None:
    assert client.get("/v3/models").json() == {"error": "no route GET /v3/models"}
    wrong = client.get("/invocations")
    assert wrong.status_code == 405 and "POST" in wrong.headers["allow"]


def test_a_model_that_fails_its_warm_up_is_not_ready_and_never_predicts(make_client, serve_package, tmp_path) -> None:
    import shutil

    from modelyard.serve.served import ModelSource

    broken = tmp_path / "broken"
    shutil.copytree(serve_package, broken)
    (broken / "estimator.pkl").write_bytes(b"not a pickle")
    sources = [ModelSource("good", "1", str(serve_package), "good"), ModelSource("bad", "1", str(broken), "bad")]
    client = make_client(sources, wait="/v2/models/good/ready")
    assert client.get("/v2/health/live").status_code == 200
    assert client.get("/v2/health/ready").status_code == 503
    assert client.get("/v2/models/bad/ready").json() == {"name": "bad", "ready": False}
    answer = client.post("/v2/models/bad/infer", json={"inputs": []})
    assert answer.status_code == 503 and "warm-up failed" in answer.json()["error"]
    ok = client.post("/v1/models/good:predict", json={"instances": [{"island": "Biscoe"}]})
    assert ok.status_code == 200


def test_metrics_count_requests_errors_and_latency_by_model_and_version(make_client) -> None:
    client = make_client()
    for _ in range(3):
        client.post("/invocations", json={"instances": [{"island": "Dream"}]})
    client.post("/invocations", json={"instances": [{"island": 3}]})
    text = client.get("/metrics").text
    assert 'modelyard_requests_total{model="penguins",version="1.0.0",protocol="mlflow",code="200"} 3' in text
    assert 'modelyard_request_errors_total{model="penguins",version="1.0.0",protocol="mlflow",code="422"} 1' in text
    assert 'modelyard_request_duration_seconds_count{model="penguins",version="1.0.0"} 3' in text
    assert 'modelyard_request_duration_seconds_bucket{model="penguins",version="1.0.0",le="+Inf"} 3' in text


def test_openapi_describes_routes_and_the_models_fields(client) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert {"/v2/models/{name}/infer", "/v1/models/{name}:predict", "/invocations", "/metrics"} <= set(doc["paths"])
    record = doc["components"]["schemas"]["penguins.record"]
    assert record["properties"]["island"]["enum"] == ["Biscoe", "Dream", "Torgersen"]
    assert record["required"] == ["island"]


def test_a_canary_gets_its_share_of_unversioned_requests_and_keys_stick(make_client, serve_package) -> None:
    from modelyard.serve.served import ModelSource

    sources = [ModelSource("penguins", "1.0.0", str(serve_package), "a"),
               ModelSource("penguins", "1.1.0", str(serve_package), "b", route="canary")]  # fmt: skip
    client = make_client(sources, canary_percent=10)
    wait_all = [client.get(f"/v2/models/penguins/versions/{v}/ready").status_code for v in ("1.0.0", "1.1.0")]
    assert wait_all == [200, 200]
    body = {"instances": [{"island": "Dream"}]}
    versions = [client.post("/invocations", json=body).headers["x-model-version"] for _ in range(200)]
    assert versions.count("1.1.0") == 20
    v2 = client.post("/v2/models/penguins/infer", json={"inputs": [
        {"name": "island", "shape": [1], "datatype": "BYTES", "data": ["Dream"]}]})  # fmt: skip
    assert v2.json()["model_version"] == v2.headers["x-model-version"]
    sticky = {client.post("/v1/models/penguins:predict", json=body, headers={"X-Request-Key": "user-42"})
              .headers["x-model-version"] for _ in range(20)}  # fmt: skip
    assert len(sticky) == 1
    pinned = client.post("/v1/models/penguins/versions/1.0.0:predict", json=body)
    assert (pinned.headers["x-model-version"], pinned.headers["x-modelyard-route"]) == ("1.0.0", "primary")


def test_a_canary_that_failed_its_warm_up_gets_no_traffic(make_client, serve_package, tmp_path) -> None:
    import shutil

    from modelyard.serve.served import ModelSource

    broken = tmp_path / "broken"
    shutil.copytree(serve_package, broken)
    (broken / "estimator.pkl").write_bytes(b"not a pickle")
    sources = [ModelSource("penguins", "1.0.0", str(serve_package), "a"),
               ModelSource("penguins", "1.1.0", str(broken), "b", route="canary")]  # fmt: skip
    client = make_client(sources, wait="/v2/models/penguins/versions/1.0.0/ready", canary_percent=50)
    answers = [client.post("/invocations", json={"instances": [{"island": "Dream"}]}) for _ in range(20)]
    assert {(a.status_code, a.headers["x-model-version"]) for a in answers} == {(200, "1.0.0")}


def test_the_prediction_log_holds_every_answer_partitioned_by_hour(serve_package, tmp_path) -> None:
    import json

    import pyarrow.dataset as ds
    from starlette.testclient import TestClient

    from modelyard.serve.app import ServeOptions, build_app
    from modelyard.serve.served import ModelRepository, ModelSource

    sources = [ModelSource("penguins", "1.0.0", str(serve_package), "a")]
    options = ServeOptions(log_dir=str(tmp_path / "log"), log_flush_seconds=0.05)
    good = [{"island": "Dream", "bill_length_mm": 45.0}, {"island": "Biscoe"}]
    with TestClient(build_app(ModelRepository(sources), options)) as client:
        wait_ready(client)
        ok = client.post("/invocations", json={"instances": good}, headers={"X-Request-ID": "abc-1"})
        bad = client.post("/v1/models/penguins:predict", json={"instances": [{"island": "Mars"}]})
        v2 = client.post("/v2/models/penguins/infer", json={"id": "v2-9", "inputs": [
            {"name": "island", "shape": [1], "datatype": "BYTES", "data": ["Torgersen"]}]})  # fmt: skip
    assert (ok.headers["x-request-id"], v2.headers["x-request-id"]) == ("abc-1", "v2-9")
    files = list((tmp_path / "log").glob("model=penguins/date=*/hour=*/part-*.parquet"))
    assert files, "nothing was written"
    rows = {r["request_id"]: r for r in ds.dataset(tmp_path / "log", partitioning="hive").to_table().to_pylist()}
    assert set(rows) == {"abc-1", bad.headers["x-request-id"], "v2-9"}
    logged = rows["abc-1"]
    assert (logged["model"], logged["version"], logged["route"], logged["protocol"], logged["status"]) == (
        "penguins", "1.0.0", "primary", "mlflow", 200)  # fmt: skip
    assert json.loads(logged["inputs"]) == good
    assert json.loads(logged["outputs"]) == ok.json()["predictions"]
    assert logged["latency_ms"] > 0 and logged["time"].tzinfo is not None
    assert rows[bad.headers["x-request-id"]]["status"] == 422
    assert "Mars" in json.loads(rows[bad.headers["x-request-id"]]["outputs"])["error"]
    assert json.loads(rows["v2-9"]["outputs"]) == v2.json()["outputs"][0]["data"]


def test_shadow_mirrors_requests_to_the_challenger_logs_them_and_never_answers_with_them(serve_package, tmp_path):
    import json

    import pyarrow.dataset as ds
    from starlette.testclient import TestClient

    from modelyard.serve.app import ServeOptions, build_app
    from modelyard.serve.served import ModelRepository, ModelSource

    sources = [ModelSource("penguins", "1.0.0", str(serve_package), "a"),
               ModelSource("penguins", "1.1.0", str(serve_package), "b", route="canary")]  # fmt: skip
    options = ServeOptions(shadow_percent=100, log_dir=str(tmp_path / "log"), log_flush_seconds=0.05)
    with TestClient(build_app(ModelRepository(sources), options)) as client:
        wait_ready(client)
        answers = [client.post("/invocations", json={"instances": [{"island": "Dream"}]}) for _ in range(5)]
        metrics = client.get("/metrics").text
    assert {(a.status_code, a.headers["x-model-version"]) for a in answers} == {(200, "1.0.0")}
    assert 'modelyard_requests_total{model="penguins",version="1.1.0",protocol="mlflow-shadow",code="200"} 5' in metrics
    rows = ds.dataset(tmp_path / "log", partitioning="hive").to_table().to_pylist()
    by_route = {route: sorted(r["request_id"] for r in rows if r["route"] == route) for route in ("primary", "shadow")}
    assert by_route["primary"] == by_route["shadow"] == sorted(a.headers["x-request-id"] for a in answers)
    shadow = next(r for r in rows if r["route"] == "shadow")
    assert shadow["version"] == "1.1.0" and json.loads(shadow["outputs"]) == answers[0].json()["predictions"]


def test_a_v2_id_that_cannot_be_a_header_is_echoed_in_the_body_and_never_a_500(client) -> None:
    inputs = [{"name": "island", "shape": [1], "datatype": "BYTES", "data": ["Torgersen"]}]
    for odd in ("ключ-1", "line\nbreak", "x" * 1000):
        answer = client.post("/v2/models/penguins/infer", json={"id": odd, "inputs": inputs})
        assert answer.status_code == 200, answer.text
        assert answer.json()["id"] == odd
        assert answer.headers["x-request-id"] != odd and answer.headers["x-request-id"]


def test_metrics_count_micro_batches_and_the_requests_they_answered(make_client, feature_rows) -> None:
    client = make_client()
    for row in feature_rows[:4]:
        assert client.post("/invocations", json={"instances": [row]}).status_code == 200
    text = client.get("/metrics").text
    calls = int(text.split('modelyard_batches_total{model="penguins",version="1.0.0"} ')[1].split()[0])
    answered = int(text.split('modelyard_batched_requests_total{model="penguins",version="1.0.0"} ')[1].split()[0])
    assert answered == 4 and 1 <= calls <= 4  # one at a time here: each request its own call
