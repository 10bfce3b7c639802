"""Deployments at run time, in process over a real SQLite project: an alias move is served without a failed
request, the canary share follows the deployment record, and a failing challenger is rolled back by the
policy with its figures in the alias history."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.unit.serve.conftest import COLUMNS, SIGNATURE, wait_ready


def _save(dest: Path, estimator: Any, fitted: Any) -> Path:
    from modelyard.models.package import save_package

    save_package(dest, estimator=estimator, transform=fitted, task="classification", label="species",
                 signature=SIGNATURE)  # fmt: skip
    return dest


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory, penguins_parquet: Path, penguins_rows: list[dict]) -> dict:
    """Three versions: a good model, a second good one (stronger regularisation), and a flaky one."""
    from modelyard.features.transform import TransformSpec, fit_transform
    from modelyard.models.trainer import build_estimator, fit_estimator
    from modelyard.serve.served import example_record
    from tests.unit.serve.flaky_model import FlakyModel

    fitted = fit_transform(penguins_parquet, TransformSpec.from_params({}, columns=COLUMNS))
    matrix = fitted.apply_batch(penguins_rows)
    labels = [row["species"] for row in penguins_rows]
    root = tmp_path_factory.mktemp("deploy")
    made = {}
    for key, c in (("good", 1.0), ("other", 0.05)):
        estimator = build_estimator("sklearn.linear_model.LogisticRegression", {"max_iter": 1000, "C": c}, seed=0)
        fit_estimator(estimator, matrix, labels)
        made[key] = _save(root / key, estimator, fitted)
    inner = build_estimator("sklearn.linear_model.LogisticRegression", {"max_iter": 1000}, seed=0)
    fit_estimator(inner, matrix, labels)
    warm = float(fitted.apply_batch([example_record(SIGNATURE)])[0][0])
    firsts = sorted(float(row[0]) for row in matrix)
    made["flaky"] = _save(root / "flaky", FlakyModel(inner, max(warm, firsts[len(firsts) // 2])), fitted)
    return made


@pytest.fixture
def project(tmp_path: Path, packages: dict) -> Iterator[tuple[Any, Any, dict[str, str]]]:
    """A project whose registry holds the three packages; champion is the good one."""
    from modelyard.core.artifacts import ArtifactType
    from modelyard.registry.registry import Registry, read_signature
    from modelyard.settings import Settings
    from modelyard.store.artifacts import ArtifactStore
    from modelyard.store.metadata.store import MetadataStore

    settings = Settings.for_project(tmp_path, env={})
    settings.home.mkdir()
    store = MetadataStore.open(settings.db_url, create=True)
    artifacts = ArtifactStore.open(settings.store_url)
    registry = Registry(store)
    versions = {}
    for key in ("good", "other", "flaky"):
        digest, uri = artifacts.put(packages[key])
        ref = store.put_artifact(ArtifactType.MODEL, uri, digest)
        version, _ = registry.register("penguins", ref, run_id=None, signature=read_signature(packages[key]))
        versions[key] = version.version
    store.set_alias("penguins", "champion", versions["good"], actor="test", reason="first")
    yield settings, store, versions
    store.close()


def _client(settings: Any) -> Any:
    from starlette.testclient import TestClient

    from modelyard.serve.app import ServeOptions, build_app
    from modelyard.serve.served import ModelRepository, resolve_source

    options = ServeOptions(deployments_dir=str(settings.home / "deployments"), db_url=settings.db_url,
                           store_url=settings.store_url, poll_seconds=0.05)  # fmt: skip
    repository = ModelRepository([resolve_source("penguins@champion", settings)])
    client = TestClient(build_app(repository, options))
    client.repository = repository  # type: ignore[attr-defined]  # the test waits on what the server serves
    client.__enter__()
    wait_ready(client)
    return client


def _predict(client: Any, row: dict, key: str | None = None) -> Any:
    headers = {"x-request-key": key} if key else {}
    return client.post("/v1/models/penguins:predict", json={"instances": [row]}, headers=headers)


def test_an_alias_move_is_served_without_a_failed_request(project, feature_rows) -> None:
    settings, store, versions = project
    client = _client(settings)
    try:
        seen, statuses = [], []
        deadline = time.monotonic() + 20
        for i in range(100_000):
            answer = _predict(client, feature_rows[i % len(feature_rows)])
            statuses.append(answer.status_code)
            seen.append(answer.headers.get("x-model-version"))
            if i == 20:
                store.set_alias("penguins", "champion", versions["other"], actor="test", reason="swap")
            if seen[-1] == versions["other"] and seen.count(versions["other"]) == 20:
                store.set_alias("penguins", "champion", versions["good"], actor="test", reason="and back")
            moved_back = seen.count(versions["other"]) >= 20 and seen[-20:] == [versions["good"]] * 20
            if moved_back or time.monotonic() > deadline:
                break
    finally:
        client.__exit__(None, None, None)
    assert set(statuses) == {200}
    first, last = seen.index(versions["other"]), len(seen) - seen[::-1].index(versions["other"])
    assert set(seen[:first]) == {versions["good"]} and set(seen[first:last]) == {versions["other"]}
    assert seen[last:] and set(seen[last:]) == {versions["good"]}  # moved back: the second move is followed too


def test_canary_share_follows_the_record_and_a_failing_challenger_is_rolled_back(project, feature_rows) -> None:
    from modelyard.serve.deployment import DecisionPolicy, Deployment, DeploymentStore

    settings, store, versions = project
    store.set_alias("penguins", "challenger", versions["flaky"], actor="test", reason="try it")
    deployments = DeploymentStore(settings.home / "deployments")
    # Only the error rate may decide here: on a loaded machine the challenger's p95 latency can also exceed
    # twice the champion's, and a latency rollback would come first (seen in CI).
    policy = DecisionPolicy(min_requests=40, max_error_rate=0.05, max_latency_ratio=1000.0)
    deployments.put(Deployment(name="penguins", policy=policy).restarted(canary_percent=10))
    client = _client(settings)
    try:
        answers = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            answer = _predict(client, feature_rows[len(answers) % len(feature_rows)])
            answers.append((answer.status_code, answer.headers["x-modelyard-route"], answer.headers["x-model-version"]))
            if (deployments.get("penguins").last_decision or {}).get("action") and len(answers) % 50 == 0:
                break
        # the watcher (polling every 0.05 s here) takes the challenger out of traffic; on a loaded machine
        # that can take longer than a fixed sleep, so wait for it (bounded)
        settle = time.monotonic() + 15
        while client.repository.canary("penguins") is not None and time.monotonic() < settle:
            time.sleep(0.05)
        after = [_predict(client, row) for row in feature_rows[:30]]
    finally:
        client.__exit__(None, None, None)
    problems = [(a.status_code, a.headers["x-model-version"], a.text) for a in after if a.status_code != 200]
    assert {(a.status_code, a.headers["x-modelyard-route"]) for a in after} == {(200, "primary")}, problems
    decision = deployments.get("penguins").last_decision
    assert decision and decision["action"] == "rollback" and decision["version"] == versions["flaky"]
    move = store.alias_history("penguins", "challenger")[-1]
    assert move.to_version is None and move.actor == "modelyard-policy"
    assert move.reason.startswith(f"automatically rolled back {versions['flaky']}") and "error rate" in move.reason
    assert move.details["figures"]["challenger_requests"] >= 40 and move.details["figures"]["challenger_errors"] > 2
    assert store.get_alias("penguins", "champion") == versions["good"]
    failed = [a for a in answers if a[0] != 200]
    assert failed and all(route == "canary" and version == versions["flaky"] for _, route, version in failed)
    first = next(i for i, a in enumerate(answers) if a[1] == "canary")
    window = answers[first:first + 400]  # fmt: skip
    share = sum(1 for a in window if a[1] == "canary") / len(window)
    assert 0.085 <= share <= 0.115, share
    assert deployments.get("penguins").canary_percent == 0


def test_yard_deploy_sets_traffic_and_promotes_or_rolls_back_by_hand(project) -> None:
    import json

    from typer.testing import CliRunner

    from modelyard.cli.main import app

    settings, store, versions = project

    def yard(*args: str, code: int = 0) -> dict:
        done = CliRunner().invoke(app, ["-C", str(settings.project_dir), "deploy", "penguins", *args])
        assert done.exit_code == code, done.output
        return json.loads(done.stdout) if "--json" in args else {"output": done.output}

    refused = CliRunner().invoke(app, ["-C", str(settings.project_dir), "deploy", "penguins", "--canary", "10"])
    assert refused.exit_code != 0 and "has no challenger" in str(refused.exception)
    store.set_alias("penguins", "challenger", versions["other"], actor="test", reason="try it")
    started = yard("--canary", "10", "--shadow", "50", "--manual", "--json")
    assert (started["canary_percent"], started["shadow_percent"], started["policy"]["auto"]) == (10, 50, False)
    assert started["verdict_now"]["action"] == "wait" and started["challenger"] == versions["other"]
    promoted = yard("promote", "--reason", "looks good", "--json")
    assert promoted["champion"] == versions["other"] and promoted["challenger"] is None
    assert promoted["canary_percent"] == 0 and promoted["last_decision"]["action"] == "promote"
    assert store.alias_history("penguins", "champion")[-1].reason == "looks good"
    store.set_alias("penguins", "challenger", versions["flaky"], actor="test", reason="try it")
    yard("--canary", "5")
    rolled = yard("rollback", "--json")
    assert rolled["champion"] == versions["other"] and rolled["challenger"] is None
    assert store.alias_history("penguins", "challenger")[-1].details["decision"] == "rollback"
    assert "champion " + versions["other"] in yard("status")["output"]
