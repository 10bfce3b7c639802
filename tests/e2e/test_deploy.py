"""`yard deploy` against a running `yard serve --workers 2` on loopback: a 10 % canary gets its share of a
bounded load, and a challenger that fails for some inputs is rolled back by the policy by itself, with the
figures in the alias history and no failed request answered by the champion."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Yard, as_json, csv_value, running_server, spawn_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def rows(penguins: Path) -> list[dict[str, Any]]:
    """Every fifth row of the project's data, as a client sends it (no label, NA as null)."""
    import csv

    with (penguins / "data" / "penguins.csv").open() as handle:
        records = [{k: csv_value(v) for k, v in row.items() if k != "species"} for row in csv.DictReader(handle)]
    return records[::5]


@pytest.fixture(scope="module")
def flaky_challenger(penguins: Path, rows: list[dict[str, Any]]) -> str:
    """Register a copy of the champion whose predict raises for about half the rows, as the challenger."""
    from modelyard.core.artifacts import ArtifactType
    from modelyard.models.package import save_package
    from modelyard.registry.loader import load_model
    from modelyard.registry.registry import Registry
    from modelyard.serve.served import warmup_records
    from modelyard.settings import Settings
    from modelyard.store.artifacts import ArtifactStore
    from modelyard.store.metadata.store import MetadataStore
    from tests.unit.serve.flaky_model import FlakyModel

    settings = Settings.for_project(penguins, env={})
    champion = load_model("models:/penguins@champion", settings=settings)
    warm = max(float(r[0]) for r in champion.transform.apply_batch(warmup_records(champion)))
    firsts = sorted(float(r[0]) for r in champion.transform.apply_batch(rows))
    flaky = FlakyModel(champion.estimator, max(warm, firsts[len(firsts) // 2]))
    folder = penguins.parent / "flaky-package"
    save_package(folder, estimator=flaky, transform=champion.transform, task=champion.task, label=champion.label,
                 signature=champion.signature, metadata=champion.manifest.get("metadata"))  # fmt: skip
    store = MetadataStore.open(settings.db_url, create=False)
    try:
        digest, uri = ArtifactStore.open(settings.store_url).put(folder)
        ref = store.put_artifact(ArtifactType.MODEL, uri, digest)
        version, _ = Registry(store).register("penguins", ref, run_id=None, signature=champion.signature)
        store.set_alias("penguins", "challenger", version.version, actor="e2e", reason="a flaky candidate")
    finally:
        store.close()
    return version.version


@pytest.fixture(scope="module")
def server(penguins: Path, flaky_challenger: str) -> Iterator[str]:
    env = {**spawn_env(), "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    with running_server(["penguins@champion", "--workers", "2"], cwd=penguins, env=env) as url:
        yield url


async def _load(url: str, rows: list[dict[str, Any]], count: int) -> list[tuple[int, str, str]]:
    """``count`` single-row requests, 8 at a time: (status, route, version) of each."""
    limit = asyncio.Semaphore(8)

    async def one(client: httpx.AsyncClient, i: int) -> tuple[int, str, str]:
        async with limit:
            answer = await client.post("/v1/models/penguins:predict", json={"instances": [rows[i % len(rows)]]})
            return answer.status_code, answer.headers["x-modelyard-route"], answer.headers["x-model-version"]

    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        return await asyncio.gather(*(one(client, i) for i in range(count)))


def test_canary_share_and_automatic_rollback_of_a_failing_challenger(
    yard: Yard,
    penguins: Path,
    server: str,
    rows: list[dict[str, Any]],
    flaky_challenger: str,
) -> None:
    help_text = yard("deploy", "--help", cwd=penguins).stdout
    assert "yard deploy penguins --canary 10" in help_text
    started = as_json(yard("deploy", "penguins", "--canary", "10", "--min-requests", "150",
                           "--max-error-rate", "0.05", "--json", cwd=penguins))  # fmt: skip
    assert started["canary_percent"] == 10 and started["challenger"] == flaky_challenger
    champion = started["champion"]
    time.sleep(4.0)  # every worker polls the record (about once a second) and warms the challenger
    first = asyncio.run(_load(server, rows, 1000))
    share = sum(1 for _, route, _ in first if route == "canary") / len(first)
    assert abs(share - 0.10) <= 0.015, share
    answers = list(first)
    status: dict[str, Any] = {}
    for _ in range(10):  # bounded: at most 10 more rounds of 500 requests
        status = as_json(yard("deploy", "penguins", "status", "--json", cwd=penguins))
        if status["last_decision"]:
            break
        answers += asyncio.run(_load(server, rows, 500))
    decision = status["last_decision"]
    assert decision["action"] == "rollback" and decision["version"] == flaky_challenger
    assert "error rate" in decision["reason"] and decision["figures"]["challenger_requests"] >= 150
    assert status["challenger"] is None and status["champion"] == champion and status["canary_percent"] == 0
    failed = [a for a in answers if a[0] != 200]
    assert failed and all(route == "canary" and version == flaky_challenger for _, route, version in failed)

    from modelyard.settings import Settings
    from modelyard.store.metadata.store import MetadataStore

    store = MetadataStore.open(Settings.for_project(penguins, env={}).db_url, create=False)
    try:
        move = store.alias_history("penguins", "challenger")[-1]
    finally:
        store.close()
    assert move.to_version is None and move.actor == "modelyard-policy" and "automatically rolled back" in move.reason
    assert move.details["figures"]["challenger_error_rate"] > 0.05
    time.sleep(3.0)  # the workers see the rollback: every request is the champion's again
    after = asyncio.run(_load(server, rows, 200))
    assert {a[0] for a in after} == {200} and {a[1] for a in after} == {"primary"}
