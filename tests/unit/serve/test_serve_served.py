"""Sources resolve before a worker starts; the warm-up example always passes its own signature."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.errors import NotFound, UsageError
from modelyard.models.signature import check_records, normalize_signature
from modelyard.serve.served import ModelRepository, ModelSource, example_record, resolve_source
from modelyard.settings import Settings


def test_example_record_passes_domains_ranges_and_every_type() -> None:
    signature = normalize_signature({"inputs": [
        {"name": "kind", "type": "string", "nullable": False, "domain": ["b", "a"]},
        {"name": "size", "type": "float", "nullable": False, "domain": {"min": 3.5, "max": 9}},
        {"name": "count", "type": "int", "nullable": False, "domain": {"max": -2}},
        {"name": "flag", "type": "bool", "nullable": False},
        {"name": "at", "type": "timestamp", "nullable": False},
        {"name": "note", "type": "string", "nullable": False},
    ]})  # fmt: skip
    record = example_record(signature)
    assert check_records(signature, [record])
    assert (record["kind"], record["size"], record["count"]) == ("b", 3.5, -2)


def test_a_package_folder_is_served_under_its_folder_name(serve_package: Path, tmp_path: Path) -> None:
    source = resolve_source(str(serve_package), Settings.for_project(tmp_path, env={}))
    assert (source.name, len(source.version)) == ("penguins", 12)
    with pytest.raises(UsageError, match="neither a model URI nor a model package"):
        resolve_source(str(tmp_path), Settings.for_project(tmp_path, env={}))


def test_a_registry_uri_outside_a_project_says_so(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no modelyard project"):
        resolve_source("models:/penguins@champion", Settings.for_project(tmp_path, env={}))
    with pytest.raises(UsageError, match="not a model URI"):
        resolve_source("models:/bad name", Settings.for_project(tmp_path, env={}))


def test_repository_finds_versions_and_refuses_duplicates() -> None:
    sources = [ModelSource("m", "2.0.0", "/x", "a"), ModelSource("m", "1.0.0", "/y", "b")]
    repository = ModelRepository(sources)
    assert repository.get("m").version == "2.0.0"
    assert repository.get("m", "1.0.0").source.path == "/y"
    with pytest.raises(NotFound, match=r"served: 2\.0\.0, 1\.0\.0"):
        repository.get("m", "3.0.0")
    with pytest.raises(UsageError, match="listed twice"):
        ModelRepository([*sources, ModelSource("m", "1.0.0", "/z", "c")])
