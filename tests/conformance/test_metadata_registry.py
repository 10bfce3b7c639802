"""Metadata store conformance, part 4: registered models, versions, aliases and alias history."""

from __future__ import annotations

import hashlib

import pytest

from modelyard.errors import NotFound, UsageError
from modelyard.store.metadata.store import MetadataStore


def _model_artifact(store: MetadataStore, text: str) -> tuple[int, str]:
    digest = hashlib.sha256(text.encode()).hexdigest()
    ref = store.put_artifact("model", f"file:///models/{text}", digest)
    return ref.id, digest  # type: ignore[return-value]


def _register(store: MetadataStore, name: str, version: str, run_id: str | None = None) -> str:
    artifact_id, digest = _model_artifact(store, f"{name}-{version}")
    store.put_model_version(name=name, version=version, artifact_id=artifact_id, run_id=run_id, digest=digest)
    return digest


def test_registered_models_are_idempotent_and_listed(store: MetadataStore) -> None:
    store.put_registered_model("penguins", "classifies penguins")
    store.put_registered_model("penguins")
    store.put_registered_model("churn")
    assert store.list_registered_models() == ["churn", "penguins"]
    with pytest.raises(UsageError, match="invalid model name"):
        store.put_registered_model("bad name@champion")


def test_model_versions_are_recorded_and_kept_immutable(store: MetadataStore) -> None:
    run_id = store.create_run(pipeline="penguins")
    artifact_id, digest = _model_artifact(store, "v1")
    version = store.put_model_version(
        name="penguins",
        version="1.0.0",
        artifact_id=artifact_id,
        run_id=run_id,
        digest=digest,
        signature={"inputs": [{"name": "bill_length_mm", "type": "double"}]},
        properties={"accuracy": 0.97},
    )
    assert store.list_registered_models() == ["penguins"]  # created on first version
    again = store.put_model_version(
        name="penguins", version="1.0.0", artifact_id=artifact_id, run_id=run_id, digest=digest
    )
    assert again == version
    got = store.get_model_version("penguins", "1.0.0")
    assert (got.artifact_id, got.run_id, got.digest) == (artifact_id, run_id, digest)
    assert got.signature == {"inputs": [{"name": "bill_length_mm", "type": "double"}]}
    assert got.properties == {"accuracy": 0.97}
    other_id, other_digest = _model_artifact(store, "v1-retrained")
    with pytest.raises(UsageError, match="already registered"):
        store.put_model_version(
            name="penguins", version="1.0.0", artifact_id=other_id, run_id=None, digest=other_digest
        )
    assert store.find_version_by_digest("penguins", digest).version == "1.0.0"  # type: ignore[union-attr]
    assert store.find_version_by_digest("penguins", other_digest) is None
    with pytest.raises(UsageError, match="not a semantic version"):
        store.put_model_version(name="penguins", version="v2", artifact_id=artifact_id, run_id=None, digest=digest)
    with pytest.raises(NotFound, match="no artifact"):
        store.put_model_version(name="penguins", version="2.0.0", artifact_id=999999, run_id=None, digest=digest)


def test_versions_are_listed_in_semver_order(store: MetadataStore) -> None:
    for version in ("1.10.0", "1.2.0", "1.2.0-rc.1", "0.9.3", "1.2.0-alpha", "2.0.0"):
        _register(store, "penguins", version)
    assert [v.version for v in store.list_model_versions("penguins")] == [
        "0.9.3",
        "1.2.0-alpha",
        "1.2.0-rc.1",
        "1.2.0",
        "1.10.0",
        "2.0.0",
    ]


def test_missing_models_and_versions_suggest_the_right_name(store: MetadataStore) -> None:
    _register(store, "penguins", "1.0.0")
    _register(store, "penguins", "1.1.0")
    with pytest.raises(NotFound, match=r"did you mean '1\.1\.0'"):
        store.get_model_version("penguins", "1.1.1")
    with pytest.raises(NotFound, match="did you mean 'penguins'"):
        store.get_model_version("pengiuns", "1.0.0")
    with pytest.raises(NotFound, match="did you mean 'penguins'"):
        store.list_model_versions("penguin")


def test_alias_moves_are_recorded_with_their_history(store: MetadataStore) -> None:
    run_id = store.create_run(pipeline="penguins")
    for version in ("1.0.0", "1.1.0"):
        _register(store, "penguins", version)
    first = store.set_alias("penguins", "champion", "1.0.0", actor="ana", reason="first model")
    assert (first.from_version, first.to_version) == (None, "1.0.0")
    store.set_alias("penguins", "challenger", "1.1.0", actor="pipeline", reason="new candidate", run_id=run_id)
    promoted = store.set_alias(
        "penguins",
        "champion",
        "1.1.0",
        actor="policy:auto-promote",
        reason="beats champion on accuracy",
        run_id=run_id,
        details={"accuracy": [0.95, 0.97]},
    )
    assert (promoted.from_version, promoted.to_version) == ("1.0.0", "1.1.0")
    assert store.get_alias("penguins", "champion") == "1.1.0"
    removed = store.set_alias("penguins", "challenger", None, actor="ana", reason="promoted")
    assert (removed.from_version, removed.to_version) == ("1.1.0", None)
    assert store.get_alias("penguins", "challenger") is None
    assert store.aliases("penguins") == {"champion": "1.1.0"}

    history = store.alias_history("penguins")
    assert [(m.alias, m.from_version, m.to_version, m.actor) for m in history] == [
        ("champion", None, "1.0.0", "ana"),
        ("challenger", None, "1.1.0", "pipeline"),
        ("champion", "1.0.0", "1.1.0", "policy:auto-promote"),
        ("challenger", "1.1.0", None, "ana"),
    ]
    champion = store.alias_history("penguins", "champion")
    assert [m.to_version for m in champion] == ["1.0.0", "1.1.0"]
    assert champion[1].details == {"accuracy": [0.95, 0.97]}
    assert champion[1].run_id == run_id and champion[1].reason == "beats champion on accuracy"
    assert champion[1] == promoted


def test_alias_errors_leave_no_history(store: MetadataStore) -> None:
    _register(store, "penguins", "1.0.0")
    with pytest.raises(NotFound, match=r"did you mean '1\.0\.0'"):
        store.set_alias("penguins", "champion", "1.0.1", actor="ana", reason="typo")
    with pytest.raises(NotFound, match="no alias 'champion'"):
        store.set_alias("penguins", "champion", None, actor="ana", reason="nothing to remove")
    with pytest.raises(NotFound, match="no registered model"):
        store.set_alias("churn", "champion", "1.0.0", actor="ana", reason="wrong model")
    with pytest.raises(UsageError, match="looks like a version"):
        store.set_alias("penguins", "2.0.0", "1.0.0", actor="ana", reason="confusing")
    assert store.alias_history("penguins") == []
    assert store.aliases("penguins") == {}
