"""`yard serve` in a subprocess on a free loopback port: the three protocols agree with load_model(), and
a client's mistakes get their 4xx while the server stays ready."""

from __future__ import annotations

import csv
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Yard, csv_value, free_port, running_server

DATATYPES = {"string": "BYTES", "float": "FP64", "int": "INT64", "bool": "BOOL"}


@pytest.fixture(scope="module")
def rows(penguins: Path) -> list[dict[str, Any]]:
    with (penguins / "data" / "penguins.csv").open() as handle:
        return [{k: csv_value(v) for k, v in row.items()} for row in csv.DictReader(handle)][::9]


@pytest.fixture(scope="module")
def server(penguins: Path) -> Iterator[str]:
    args = ["models:/penguins@champion", "--workers", "2", "--read-timeout", "1", "--max-body-bytes", "200000"]
    with running_server(args, cwd=penguins) as url:
        yield url


@pytest.fixture(scope="module")
def expected(penguins: Path, rows: list[dict[str, Any]]) -> list[Any]:
    from modelyard.registry.loader import load_model
    from modelyard.settings import Settings

    return load_model("models:/penguins@champion", settings=Settings.for_project(penguins, env={})).predict(rows)


def test_three_protocols_give_the_predictions_of_load_model(server: str, rows, expected) -> None:
    meta = httpx.get(f"{server}/v2/models/penguins").json()
    fields = [tensor["name"] for tensor in meta["inputs"]]
    types = {tensor["name"]: tensor["datatype"] for tensor in meta["inputs"]}
    v2 = {"inputs": [{"name": f, "shape": [len(rows)], "datatype": types[f], "data": [r[f] for r in rows]}
                     for f in fields]}  # fmt: skip
    answer = httpx.post(f"{server}/v2/models/penguins/infer", json=v2).json()
    assert answer["model_version"] == meta["versions"][0] == "1.0.0"
    assert answer["outputs"][0]["data"] == expected
    assert httpx.post(f"{server}/v1/models/penguins:predict", json={"instances": rows}).json() == {
        "predictions": expected
    }
    split = {"columns": fields, "data": [[r[f] for f in fields] for r in rows]}
    assert httpx.post(f"{server}/invocations", json={"dataframe_split": split}).json() == {"predictions": expected}


def test_a_standard_open_inference_protocol_client_works_unchanged(server: str, rows, expected) -> None:
    numpy = pytest.importorskip("numpy")
    http = pytest.importorskip("tritonclient.http", reason="tritonclient[http] is the reference V2 client")
    keep = [i for i, row in enumerate(rows) if None not in row.values()]  # numpy has no null for BYTES
    rows, expected = [rows[i] for i in keep], [expected[i] for i in keep]
    client = http.InferenceServerClient(server.removeprefix("http://"))
    assert client.is_server_live() and client.is_server_ready() and client.is_model_ready("penguins")
    inputs = []
    for tensor in client.get_model_metadata("penguins")["inputs"]:
        values = [r[tensor["name"]] for r in rows]
        column = http.InferInput(tensor["name"], [len(rows)], tensor["datatype"])
        column.set_data_from_numpy(numpy.array(values, dtype=object if tensor["datatype"] == "BYTES" else None),
                                   binary_data=False)  # fmt: skip
        inputs.append(column)
    assert client.infer("penguins", inputs).as_numpy("species").tolist() == expected


def _raw(server: str, head: str, body: bytes, pause: float = 0.0) -> str:
    """Send a request by hand (a slow client stops mid-body) and return the status line of the answer."""
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode() + body)
        time.sleep(pause)
        return sock.recv(65536).decode(errors="replace").splitlines()[0]


def test_bad_clients_get_4xx_and_the_server_stays_ready(server: str) -> None:
    cases = [
        ("/invocations", b"{not json", 400),
        ("/invocations", b'{"dataframe_records": [{"island": 5, "bill_length_mm": "x"}]}', 422),
        ("/v1/models/penguins:predict", b'{"instances": [{"bill_length_mm": 39.1}]}', 422),
        ("/v2/models/nope/infer", b"{}", 404),
        ("/v2/models/penguins/versions/7.0.0/infer", b"{}", 404),
        ("/invocations", b'{"instances": [' + b'{"island": "Dream"},' * 20000 + b"{}]}", 413),
    ]
    for path, payload, status in cases:
        answer = httpx.post(server + path, content=payload, headers={"content-type": "application/json"})
        assert answer.status_code == status, (path, answer.text)
        assert answer.json()["error"]
    slow = "POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    assert " 408 " in _raw(server, slow, b'{"instances": [', pause=1.5)
    assert httpx.get(f"{server}/v2/health/ready").status_code == 200
    assert httpx.get(f"{server}/ping").status_code == 200
    assert httpx.post(f"{server}/invocations", json={"instances": [{"island": "Dream"}]}).status_code == 200
    assert 'modelyard_requests_total{model="penguins",version="1.0.0"' in httpx.get(f"{server}/metrics").text


def test_concurrent_good_and_bad_requests_each_get_their_own_answer(server: str, rows, expected) -> None:
    import asyncio

    async def main() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server) as client:
            jobs = []
            for i, row in enumerate(rows):
                jobs.append(client.post("/invocations", json={"instances": [row]}))
                if i % 4 == 0:
                    jobs.append(client.post("/invocations", json={"instances": [{**row, "island": "Atlantis"}]}))
            return await asyncio.gather(*jobs)

    responses = asyncio.run(main())
    answers = iter(responses)
    for i, want in enumerate(expected):
        assert next(answers).json() == {"predictions": [want]}
        if i % 4 == 0:
            refused = next(answers)
            assert refused.status_code == 422 and "'Atlantis'" in refused.json()["error"]


def test_answers_reach_the_projects_prediction_log(server: str, penguins: Path) -> None:
    import pyarrow.dataset as ds

    sent = httpx.post(
        f"{server}/invocations", json={"instances": [{"island": "Biscoe"}]}, headers={"X-Request-ID": "e2e-1"}
    )
    folder = penguins / ".modelyard" / "predictions"
    deadline = time.monotonic() + 15
    while True:  # written off the request path, flushed every second
        found = []
        if folder.is_dir():
            table = ds.dataset(folder, partitioning="hive").to_table(columns=["request_id", "status"])
            found = [row for row in table.to_pylist() if row["request_id"] == "e2e-1"]
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert sent.status_code == 200 and found == [{"request_id": "e2e-1", "status": 200}]


def test_an_unknown_model_fails_the_command_at_once(yard: Yard, penguins: Path) -> None:
    done = yard("serve", "models:/pengiuns@champion", "--port", str(free_port()), cwd=penguins, check=2)
    assert "no model named 'pengiuns'" in done.stderr and "did you mean 'penguins'" in done.stderr
    done = yard("serve", "penguins@champion", "--canary", "10", "--port", str(free_port()), cwd=penguins, check=2)
    assert "model 'penguins' has no alias 'challenger'" in done.stderr and "aliases: champion" in done.stderr


def _worker_pids(port: int) -> list[int]:
    """The uvicorn worker processes of the `yard serve ... --port PORT` running here, from /proc."""
    parents, workers = set(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if b"serve" in cmdline and str(port).encode() in cmdline:
            parents.add(int(entry.name))
        elif any(b"spawn_main" in part for part in cmdline):
            workers.append((ppid, int(entry.name)))
    return [pid for ppid, pid in workers if ppid in parents]


def _requests_total(server: str) -> int:
    text = httpx.get(f"{server}/metrics").text  # a new connection: any worker may answer
    return sum(
        int(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("modelyard_requests_total{")
    )


def test_metrics_sum_over_workers_and_the_log_goes_to_a_database(penguins: Path, rows, tmp_path: Path) -> None:
    import asyncio
    import os
    import signal

    from modelyard.serve.feedback import read_with_feedback

    log_db = f"sqlite:///{tmp_path / 'log.db'}"
    with running_server(["models:/penguins@champion", "--workers", "2", "--log-db", log_db], cwd=penguins) as url:

        async def send() -> list[httpx.Response]:
            limits = httpx.Limits(max_keepalive_connections=0)  # a new connection each: both workers answer
            async with httpx.AsyncClient(base_url=url, limits=limits) as client:
                jobs = [client.post("/invocations", json={"instances": [row]}, headers={"x-request-id": f"w{i}"})
                        for i, row in enumerate(rows)]  # fmt: skip
                jobs.append(client.post("/invocations", json={"instances": [{"island": "Atlantis"}]}))
                return await asyncio.gather(*jobs)

        sent = asyncio.run(send())
        assert [answer.status_code for answer in sent] == [200] * len(rows) + [422]
        deadline = time.monotonic() + 20
        while _requests_total(url) != len(sent):  # the other worker's figures arrive within a second
            assert time.monotonic() < deadline, f"/metrics never summed to {len(sent)}: {_requests_total(url)}"
            time.sleep(0.2)
        # One worker's sum can be whole while the other's still lacks its neighbour's last second (each
        # publishes once a second): after that second every worker answers the same.
        time.sleep(1.5)
        assert [_requests_total(url) for _ in range(20)] == [len(sent)] * 20

        time.sleep(2.5)  # both workers have published their final figures (once a second)
        port = int(url.rsplit(":", 1)[1])
        victim, _ = _worker_pids(port)
        os.kill(victim, signal.SIGKILL)  # uvicorn starts a replacement, which counts from zero
        deadline = time.monotonic() + 60
        while len(replaced := set(_worker_pids(port))) != 2 or victim in replaced:
            assert time.monotonic() < deadline, f"no replacement for worker {victim}: {replaced}"
            time.sleep(0.2)
        assert [_requests_total(url) for _ in range(20)] == [len(sent)] * 20  # counters never go down

        labelled = httpx.post(f"{url}/v1/models/penguins/feedback", json={"request_id": "w1", "label": "Adelie"})
        assert labelled.status_code == 200
    logged = read_with_feedback(log_db, model="penguins").to_pylist()
    assert len(logged) == len(sent)  # flushed every second: the killed worker had written all its rows
    assert {row["request_id"]: row["label"] for row in logged}.get("w1") == '"Adelie"'
