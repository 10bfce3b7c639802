"""Metadata store conformance, part 3: tracking records, and many writers at once."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from modelyard.errors import NotFound, UsageError
from modelyard.store.metadata.records import MetricPoint
from modelyard.store.metadata.store import MetadataStore

WORKER = Path(__file__).with_name("_metadata_worker.py")


def _worker_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("_metadata_worker", WORKER)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_log_batch_writes_params_metrics_and_tags(store: MetadataStore) -> None:
    run_id = store.create_run(kind="tracking", experiment="e")
    exe = store.create_execution(
        run_id=run_id, step="train", component="train", params={}, code_fingerprint="f", cache_key="k", input_digests={}
    )
    store.log_batch(
        run_id,
        params=[("lr", "0.1"), ("depth", "6")],
        metrics=[
            ("loss", 0.9, 0, 1000, None),
            ("loss", 0.5, 1, 2000, exe),
            ("acc", 0.7, 1, 2000, exe),
            ("loss", 0.4, 1, 2500, exe),  # same step, later: wins in latest_metrics
        ],
        tags=[("team", "ml"), ("note", "first")],
    )
    store.log_batch(run_id, metrics=[("loss", float("nan"), 2, 3000, None)], tags=[("note", "second")])
    assert store.get_params(run_id) == {"depth": "6", "lr": "0.1"}
    assert store.get_tags(run_id) == {"note": "second", "team": "ml"}
    points = store.get_metrics(run_id)
    assert [(p.key, p.step, p.timestamp_ms) for p in points] == [
        ("acc", 1, 2000),
        ("loss", 0, 1000),
        ("loss", 1, 2000),
        ("loss", 1, 2500),
        ("loss", 2, 3000),
    ]
    assert points[0] == MetricPoint("acc", 0.7, 1, 2000, exe)
    assert math.isnan(points[-1].value)
    assert [p.value for p in store.get_metrics(run_id, "loss")][:3] == [0.9, 0.5, 0.4]
    latest = store.latest_metrics(run_id)
    assert latest["acc"] == 0.7 and math.isnan(latest["loss"])
    store.log_batch(run_id, metrics=[("loss", 0.3, 3, 4000, None)])
    assert store.latest_metrics(run_id) == {"acc": 0.7, "loss": 0.3}


def test_params_cannot_change_and_a_conflict_writes_nothing(store: MetadataStore) -> None:
    run_id = store.create_run(kind="tracking")
    store.log_batch(run_id, params=[("lr", "0.1")])
    store.log_batch(run_id, params=[("lr", "0.1")])  # same value: fine
    with pytest.raises(UsageError, match="param 'lr'") as info:
        store.log_batch(run_id, params=[("lr", "0.2"), ("seed", "1")], metrics=[("m", 1.0, 0, 0, None)])
    assert "0.1" in str(info.value) and "0.2" in str(info.value)
    assert store.get_params(run_id) == {"lr": "0.1"}
    assert store.get_metrics(run_id) == []
    with pytest.raises(UsageError, match="param 'x' is logged twice"):
        store.log_batch(run_id, params=[("x", "1"), ("x", "2")])


def test_tracking_errors_name_the_problem(store: MetadataStore) -> None:
    run_id = store.create_run(kind="tracking")
    with pytest.raises(NotFound, match="no run"):
        store.log_batch("ffffffffffff", metrics=[("m", 1.0, 0, 0, None)])
    with pytest.raises(NotFound, match="execution"):
        store.log_batch(run_id, metrics=[("m", 1.0, 0, 0, 424242)])
    with pytest.raises(UsageError, match="non-empty"):
        store.log_batch(run_id, metrics=[("", 1.0, 0, 0, None)])
    with pytest.raises(UsageError, match=r"cannot log metric \('loss', 'high'"):
        store.log_batch(run_id, metrics=[("ok", 1.0, 0, 0, None), ("loss", "high", 0, 0, None)])
    with pytest.raises(NotFound):
        store.get_params("ffffffffffff")
    store.log_batch(run_id)  # nothing to write is not an error
    assert store.get_metrics(run_id) == [] and store.latest_metrics(run_id) == {}


def test_a_large_batch_is_written_whole(store: MetadataStore) -> None:
    run_id = store.create_run(kind="tracking")
    rows = [(f"m{i % 5}", i * 0.5, i // 5, 1_700_000_000_000 + i, None) for i in range(100_000)]
    store.log_batch(run_id, metrics=rows, params=[(f"p{i}", str(i)) for i in range(2000)])
    assert len(store.get_metrics(run_id, "m3")) == 20_000
    assert store.latest_metrics(run_id)["m4"] == 99_999 * 0.5
    assert len(store.get_params(run_id)) == 2000


def test_concurrent_writers_in_threads_and_processes(store: MetadataStore, db_url: str) -> None:
    """4 threads and 2 processes, 200 calls each, at the same time: no "database is locked", nothing lost."""
    worker = _worker_module()
    run_id = store.create_run(kind="tracking")
    calls = 200
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), "hammer", db_url, run_id, f"proc{i}", str(calls)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    for proc in procs:  # both processes are connected before anyone writes
        assert proc.stdout is not None
        ready = proc.stdout.readline().strip()
        assert ready == "ready", proc.stderr.read() if proc.stderr else ready
    results: list[dict[str, object]] = []
    errors: list[BaseException] = []

    def thread_writer(name: str) -> None:
        try:
            results.append(worker.hammer(store, run_id, name, calls))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=thread_writer, args=(f"thread{i}",)) for i in range(4)]
    for proc in procs:
        proc.stdin.write("go\n")  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert errors == []

    names = [f"thread{i}" for i in range(4)] + ["proc0", "proc1"]
    for name in names:
        points = store.get_metrics(run_id, f"{name}.loss")
        assert [p.step for p in points] == list(range(0, calls, 2))
    stored = sorted(a.digest for a in store.list_artifacts(limit=10_000))
    expected = [hashlib.sha256(f"{n}-{i}".encode()).hexdigest() for n in names for i in range(1, calls, 2)]
    assert stored == sorted([*expected, worker.SHARED_DIGEST])  # each exactly once
    shared = store.find_artifacts_by_digest(worker.SHARED_DIGEST)
    assert {i for r in results for i in r["shared_ids"]} == {shared[0].id}  # type: ignore[attr-defined]
