"""The same penguins pipeline with its metadata on the real PostgreSQL server (MODELYARD_DB)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.e2e.conftest import Yard, as_json


def test_penguins_on_postgresql(yard: Yard, tmp_path: Path, pg_databases: Callable[[], str]) -> None:
    env = {"MODELYARD_DB": pg_databases()}
    project = tmp_path / "shop"
    yard("init", str(project), cwd=tmp_path, env=env)
    assert not (project / ".modelyard" / "metadata.db").exists()
    first = as_json(yard("run", "--json", cwd=project, env=env))
    assert first["status"] == "complete"
    second = as_json(yard("run", "--json", cwd=project, env=env))
    assert second["reused"] == 7
    lineage = yard("lineage", "penguins", cwd=project, env=env).stdout
    assert "penguins.csv sha256:" in lineage
    assert as_json(yard("db", "current", "--json", cwd=project, env=env))["revision"] == "0001"
