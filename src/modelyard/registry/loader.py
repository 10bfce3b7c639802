"""``load_model(uri)``: a path, ``models:/NAME/1.2.0`` or ``models:/NAME@champion``, loaded in any process."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from modelyard.errors import UsageError
from modelyard.settings import Settings, find_project_dir

MODEL_URI = re.compile(r"^models:/(?P<name>[A-Za-z_][A-Za-z0-9_\-]*)(?:/(?P<version>[^/@]+)|@(?P<alias>[^/@]+))?$")


def parse_model_uri(uri: str) -> tuple[str, str]:
    """(name, version-or-alias) of a ``models:/`` URI; a bare name means its champion."""
    match = MODEL_URI.match(uri)
    if not match:
        raise UsageError(
            f"'{uri}' is not a model URI", hint="use models:/NAME/1.2.0, models:/NAME@champion or a package path"
        )
    return match["name"], match["version"] or match["alias"] or "champion"


def _package_path(settings: Settings, name: str, selector: str) -> tuple[Any, Path]:
    from modelyard.registry.registry import Registry
    from modelyard.store.artifacts import ArtifactStore
    from modelyard.store.metadata.store import MetadataStore

    store = MetadataStore.open(settings.db_url, create=False)
    try:
        version = Registry(store).resolve(name, selector)
        artifact = store.get_artifact(version.artifact_id)
    finally:
        store.close()
    return version, ArtifactStore.open(settings.store_url).local_path(artifact.digest)


def load_model(uri: str | Path, *, settings: Settings | None = None) -> Any:
    """Load a model package; ``models:/`` URIs are resolved in the project found from the working directory."""
    from modelyard.models.package import load_package

    text = str(uri)
    if not text.startswith("models:/"):
        return load_package(Path(text))
    name, selector = parse_model_uri(text)
    settings = settings or Settings.for_project(find_project_dir())
    _, path = _package_path(settings, name, selector)
    return load_package(path)


def find_champion_package(settings: Settings, name: str) -> tuple[str, Any] | None:
    """(version, package) of the model's champion, or None when it has none yet."""
    from modelyard.errors import NotFound
    from modelyard.models.package import load_package

    try:
        version, path = _package_path(settings, name, "champion")
    except NotFound:
        return None
    return version.version, load_package(path)
