"""What a server serves: model sources resolved from URIs, loaded packages, and their readiness.

A URI is resolved to a package folder *once*, in the parent process, before any worker starts: a typo in a
model name fails ``yard serve`` with a one-line message instead of a server that never becomes ready. The
workers then only load folders, which needs no metadata database.

Ready means able to serve: a model becomes ready only after a warm-up prediction on a signature-valid
example succeeded (the first request must not pay for lazy imports and caches, and a package that cannot
predict must not receive traffic).
"""

from __future__ import annotations

import datetime as dt
import gc
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelyard.errors import NotFound, UsageError, did_you_mean
from modelyard.serve.status import NotReady
from modelyard.settings import Settings


@dataclass(frozen=True)
class ModelSource:
    """One model version to serve: its public name and version, the folder it loads from, the URI asked for."""

    name: str
    version: str
    path: str
    uri: str
    route: str = "primary"  # or "canary": answers a share of the requests that name no version

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "path": self.path, "uri": self.uri, "route": self.route}


def _registry_source(uri: str, settings: Settings) -> ModelSource:
    from modelyard.registry.loader import parse_model_uri
    from modelyard.registry.registry import Registry
    from modelyard.store.artifacts import ArtifactStore
    from modelyard.store.metadata.store import MetadataStore

    name, selector = parse_model_uri(uri)
    if not settings.home.exists():
        raise NotFound(
            f"no modelyard project at {settings.project_dir} to resolve {uri} in",
            hint="run yard serve inside a project (or pass -C PROJECT), or serve a package path",
        )
    store = MetadataStore.open(settings.db_url, create=False)
    try:
        version = Registry(store).resolve(name, selector)
        artifact = store.get_artifact(version.artifact_id)
    finally:
        store.close()
    path = ArtifactStore.open(settings.store_url).local_path(artifact.digest)
    return ModelSource(name=name, version=str(version.version), path=str(path), uri=uri)


def canary_source(primary: ModelSource, alias: str, settings: Settings) -> ModelSource:
    """The version the ``alias`` (e.g. challenger) of a registered model points at, as its canary."""
    if not primary.uri.startswith("models:/") and "@" not in primary.uri:
        raise UsageError(
            f"a canary needs a registered model; {primary.uri} is a package folder",
            hint="serve models:/NAME@champion with --canary",
        )
    source = _registry_source(f"models:/{primary.name}@{alias}", settings)
    if source.version == primary.version:
        raise UsageError(
            f"'{alias}' of model '{primary.name}' is version {source.version}, the version already served",
            hint="register a new version first, or serve without --canary",
        )
    return ModelSource(name=source.name, version=source.version, path=source.path, uri=source.uri, route="canary")


def resolve_source(text: str, settings: Settings) -> ModelSource:
    """A ModelSource for ``models:/NAME/1.2.0``, ``models:/NAME@alias``, ``NAME@alias`` or a package path."""
    from modelyard.models.package import package_digest

    if text.startswith("models:/"):
        return _registry_source(text, settings)
    path = Path(text)
    if not path.exists() and "/" not in text:  # the short form of the guide: `yard serve penguins@champion`
        return _registry_source(f"models:/{text}", settings)
    if not (path / "manifest.json").is_file():
        raise UsageError(
            f"'{text}' is neither a model URI nor a model package folder",
            hint="use models:/NAME@champion, models:/NAME/1.2.0 or the folder save_package wrote",
        )
    name = path.resolve().name
    return ModelSource(name=name, version=package_digest(path)[:12], path=str(path.resolve()), uri=text)


def example_record(signature: dict[str, Any]) -> dict[str, Any]:
    """A record every field of which passes the signature: a domain's first value, a range's bound, else a
    plain value of the type. Why not all None: a warm-up must exercise the real arithmetic, not imputation."""
    record: dict[str, Any] = {}
    for field in signature.get("inputs", []):
        kind, domain = field["type"], field.get("domain")
        if isinstance(domain, list) and domain:
            record[field["name"]] = domain[0]
            continue
        if kind in ("int", "float"):
            low = domain.get("min") if isinstance(domain, dict) else None
            high = domain.get("max") if isinstance(domain, dict) else None
            value = low if low is not None else (high if high is not None else 0)
            record[field["name"]] = int(value) if kind == "int" else float(value)
        elif kind == "bool":
            record[field["name"]] = False
        elif kind == "timestamp":
            record[field["name"]] = dt.datetime(2000, 1, 1)
        else:
            record[field["name"]] = "example"
    return record


def warmup_records(package: Any) -> list[dict[str, Any]]:
    """The package's stored input example when it has one (manifest metadata ``input_example``), else a
    record built from the signature."""
    stored = package.manifest.get("metadata", {}).get("input_example")
    if isinstance(stored, list) and stored and all(isinstance(r, dict) for r in stored):
        return stored[:8]
    if isinstance(stored, dict):
        return [stored]
    return [example_record(package.signature)]


class ServedModel:
    """One loaded model version. ``ready`` turns true only once ``warm_up`` predicted successfully."""

    def __init__(self, source: ModelSource) -> None:
        self.source = source
        self.name = source.name
        self.version = source.version
        self.package: Any = None
        self.ready = False
        self.problem: str | None = None
        self._input_names: tuple[Any, list[str]] | None = None

    def load_and_warm(self) -> None:
        """Load the package and predict once; on failure the model stays not ready and says why."""
        from modelyard.models.package import load_package

        try:
            package = load_package(Path(self.source.path))
            package.predict(warmup_records(package))
        except Exception as exc:  # any failure means "not ready", never a dead server
            self.problem = f"warm-up failed: {type(exc).__name__}: {exc}"
            return
        self.package = package
        self.ready = True

    def as_route(self, route: str) -> ServedModel:
        """The same loaded version in another role (a challenger promoted to primary keeps its warm package)."""
        if route == self.source.route:
            return self
        from dataclasses import replace

        moved = ServedModel(replace(self.source, route=route))
        moved.package, moved.ready, moved.problem = self.package, self.ready, self.problem
        return moved

    @property
    def input_names(self) -> list[str]:
        """The signature's input names in order, computed once per loaded version (asked on every request)."""
        names = self._input_names
        if names is None or names[0] is not self.package:
            names = self._input_names = (self.package, [f["name"] for f in self.package.signature["inputs"]])
        return names[1]

    def require_ready(self) -> Any:
        if not self.ready:
            reason = self.problem or "it is still loading"
            raise NotReady(f"model '{self.name}' version {self.version} is not ready: {reason}")
        return self.package


class ModelRepository:
    """The served models by name and version; the first version listed for a name is its default."""

    def __init__(self, sources: list[ModelSource]) -> None:
        self._by_name: dict[str, dict[str, ServedModel]] = {}
        for source in sources:
            if source.route == "canary" and not any(s.name == source.name and s.route != "canary" for s in sources):
                raise UsageError(f"model '{source.name}' has a canary version but no primary version to share with")
            versions = self._by_name.setdefault(source.name, {})
            if source.version in versions:
                raise UsageError(f"model '{source.name}' version {source.version} is listed twice")
            versions[source.version] = ServedModel(source)
        self.loaded = threading.Event()

    def names(self) -> list[str]:
        return list(self._by_name)

    def all(self) -> list[ServedModel]:
        return [model for versions in self._by_name.values() for model in versions.values()]

    def versions(self, name: str) -> list[ServedModel]:
        return list(self._versions(name).values())

    def _versions(self, name: str) -> dict[str, ServedModel]:
        found = self._by_name.get(name)
        if found is None:
            raise NotFound(f"no model named '{name}' is served here", hint=did_you_mean(name, self._by_name))
        return found

    def canary(self, name: str) -> ServedModel | None:
        """The model's canary version, when one is served."""
        return next((m for m in self._by_name.get(name, {}).values() if m.source.route == "canary"), None)

    def get(self, name: str, version: str | None = None) -> ServedModel:
        versions = self._versions(name)
        if version is None:
            return next(m for m in versions.values() if m.source.route != "canary")
        found = versions.get(version)
        if found is None:
            raise NotFound(f"model '{name}' has no served version '{version}'", hint="served: " + ", ".join(versions))
        return found

    def default(self) -> ServedModel:
        """The model ``/invocations`` answers for (MLflow serves exactly one): the first one listed."""
        return self.get(next(iter(self._by_name)))

    def install(self, name: str, primary: ServedModel, canary: ServedModel | None) -> None:
        """Swap in the versions a model serves now. One assignment, so a request sees the old set or the new
        one, never half of each; requests already running keep the ServedModel they hold."""
        versions = {primary.version: primary}
        if canary is not None:
            versions[canary.version] = canary
        self._by_name[name] = versions

    def load_all(self, *, freeze: bool = False) -> None:
        """Load and warm every model. ``freeze`` (a server worker's whole process): what is loaded by now
        (libraries, estimators, fitted transforms) lives as long as the worker, and ``gc.freeze()`` keeps the
        collector from re-scanning it in every full collection, a pause of tens of milliseconds at this size
        that would land on some request's latency."""
        for model in self.all():
            model.load_and_warm()
        if freeze:
            gc.collect()
            gc.freeze()
        self.loaded.set()

    def ready(self) -> bool:
        return self.loaded.is_set() and all(model.ready for model in self.all())
