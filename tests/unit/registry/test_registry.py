"""Registry rules: semver bumps, idempotent registration, aliases with history, rollback, model URIs."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.core.artifacts import ArtifactType
from modelyard.errors import NotFound, UsageError
from modelyard.registry import semver
from modelyard.registry.loader import parse_model_uri
from modelyard.registry.registry import Registry
from modelyard.store.metadata.store import MetadataStore

SIG = {"inputs": [{"name": "x", "type": "float", "nullable": False}], "outputs": [{"name": "y", "type": "string"}]}


@pytest.fixture
def registry(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = MetadataStore.open(f"sqlite:///{tmp_path / 'm.db'}")
    yield Registry(store)
    store.close()


def model(registry: Registry, digest: str):  # type: ignore[no-untyped-def]
    return registry.store.put_artifact(ArtifactType.MODEL, f"/store/{digest}", digest)


def test_versions_bump_minor_and_same_package_is_same_version(registry: Registry) -> None:
    first, created = registry.register("m", model(registry, "a" * 64), run_id=None, signature=SIG)
    assert (first.version, created) == ("1.0.0", True)
    again, created = registry.register("m", model(registry, "a" * 64), run_id=None, signature=SIG)
    assert (again.version, created) == ("1.0.0", False)
    second, _ = registry.register("m", model(registry, "b" * 64), run_id=None, signature=SIG)
    assert second.version == "1.1.0"


def test_incompatible_signature_bumps_major(registry: Registry) -> None:
    registry.register("m", model(registry, "a" * 64), run_id=None, signature=SIG)
    changed = {**SIG, "inputs": [{"name": "x", "type": "string", "nullable": False}]}
    version, _ = registry.register("m", model(registry, "c" * 64), run_id=None, signature=changed)
    assert version.version == "2.0.0"
    assert semver.incompatible(SIG, changed) == ["input 'x' changed type float -> string"]
    optional_added = {**SIG, "inputs": [*SIG["inputs"], {"name": "z", "type": "int", "nullable": True}]}
    assert semver.incompatible(SIG, optional_added) == []


def test_first_version_is_champion_then_challenger_and_rollback(registry: Registry) -> None:
    v1, _ = registry.register("m", model(registry, "a" * 64), run_id=None, signature=SIG)
    assert registry.alias_for_new_version("m", v1.version, preferred="challenger", run_id=None, actor="t") == "champion"
    v2, _ = registry.register("m", model(registry, "b" * 64), run_id=None, signature=SIG)
    assert (
        registry.alias_for_new_version("m", v2.version, preferred="challenger", run_id=None, actor="t") == "challenger"
    )
    assert registry.store.aliases("m") == {"champion": "1.0.0", "challenger": "1.1.0"}
    registry.promote("m", "1.1.0", reason="better on every slice")
    assert registry.resolve("m", "champion").version == "1.1.0"
    assert registry.rollback("m") == "1.0.0"
    moves = [(m.alias, m.from_version, m.to_version, m.reason) for m in registry.store.alias_history("m", "champion")]
    assert moves == [
        ("champion", None, "1.0.0", "first blessed version"),
        ("champion", "1.0.0", "1.1.0", "better on every slice"),
        ("champion", "1.1.0", "1.0.0", "rolled back by hand"),
    ]


def test_resolution_errors_are_clear(registry: Registry) -> None:
    registry.register("penguins", model(registry, "a" * 64), run_id=None, signature=SIG)
    with pytest.raises(NotFound, match="did you mean 'penguins'"):
        registry.resolve("pengiuns", "champion")
    with pytest.raises(NotFound, match="no alias 'champion'"):
        registry.resolve("penguins", "champion")
    with pytest.raises(UsageError, match="no earlier version"):
        registry.rollback("penguins")
    with pytest.raises(UsageError):
        registry.register("penguins", registry.store.put_artifact(ArtifactType.DATASET, "/d", "d" * 64), run_id=None)


def test_model_uris() -> None:
    assert parse_model_uri("models:/penguins/1.2.0") == ("penguins", "1.2.0")
    assert parse_model_uri("models:/penguins@challenger") == ("penguins", "challenger")
    assert parse_model_uri("models:/penguins") == ("penguins", "champion")
    with pytest.raises(UsageError, match="not a model URI"):
        parse_model_uri("models:penguins")


def test_rollback_walks_back_through_history_instead_of_flip_flopping(registry: Registry) -> None:
    for digest in ("a", "b", "c"):
        registry.register("m", model(registry, digest * 64), run_id=None, signature=SIG)
    registry.promote("m", "1.0.0")
    registry.promote("m", "1.1.0")
    registry.promote("m", "1.2.0", reason="best so far")
    assert registry.rollback("m") == "1.1.0"
    assert registry.rollback("m") == "1.0.0"
    with pytest.raises(UsageError, match="no earlier version"):
        registry.rollback("m")
    last = registry.store.alias_history("m", "champion")[-1]
    assert (last.from_version, last.to_version, last.details) == ("1.1.0", "1.0.0", {"rollback": True, "from": "1.1.0"})
    assert last.actor  # who moved it is always recorded
