"""Registry operations on top of the metadata store's records: register, alias moves, promote, rollback."""

from __future__ import annotations

import getpass
import json
from typing import Any

from modelyard.core.artifacts import ArtifactRef, ArtifactType
from modelyard.errors import NotFound, UsageError
from modelyard.registry import semver

CHAMPION = "champion"


def _actor() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


class Registry:
    """Named models and their versions. Holds a metadata store; does no I/O of its own at construction."""

    def __init__(self, store: Any, artifacts: Any | None = None) -> None:
        self.store = store
        self.artifacts = artifacts

    def register(
        self, name: str, model: ArtifactRef, *, run_id: str | None, signature: dict[str, Any] | None = None
    ) -> tuple[Any, bool]:
        """Register a model artifact; returns (version, created). The same package twice is one version."""
        if model.type != ArtifactType.MODEL:
            raise UsageError(f"only model artifacts can be registered, got a {model.type} artifact")
        existing = self.store.find_version_by_digest(name, model.digest)
        if existing is not None:
            return existing, False
        self.store.put_registered_model(name)
        versions = self.store.list_model_versions(name)
        latest = versions[-1] if versions else None
        reasons = semver.incompatible(latest.signature if latest else None, signature)
        version = semver.next_version(latest.version if latest else None, breaking=bool(reasons))
        created = self.store.put_model_version(
            name=name,
            version=version,
            artifact_id=model.id,
            run_id=run_id,
            digest=model.digest,
            signature=signature,
            properties={"breaking_changes": reasons} if reasons else {},
        )
        return created, True

    def alias_for_new_version(
        self, name: str, version: str, *, preferred: str, run_id: str | None, actor: str
    ) -> str | None:
        """The first version becomes champion; later ones get ``preferred`` (challenger) for a canary to judge."""
        champion = self.store.get_alias(name, CHAMPION)
        if champion == version:
            return None
        if champion is None:
            self.store.set_alias(name, CHAMPION, version, actor=actor, reason="first blessed version", run_id=run_id)
            return CHAMPION
        if self.store.get_alias(name, preferred) == version:
            return None
        self.store.set_alias(
            name, preferred, version, actor=actor, reason=f"pushed while {champion} is champion", run_id=run_id
        )
        return preferred

    def resolve(self, name: str, version_or_alias: str) -> Any:
        """A version by number (``1.2.0``) or alias (``champion``)."""
        if version_or_alias[:1].isdigit():
            return self.store.get_model_version(name, version_or_alias)
        if name not in self.store.list_registered_models():
            from modelyard.errors import did_you_mean

            raise NotFound(f"no model named '{name}'", hint=did_you_mean(name, self.store.list_registered_models()))
        version = self.store.get_alias(name, version_or_alias)
        if version is None:
            known = ", ".join(sorted(self.store.aliases(name))) or "none yet"
            raise NotFound(f"model '{name}' has no alias '{version_or_alias}'", hint=f"aliases: {known}")
        return self.store.get_model_version(name, version)

    def promote(
        self,
        name: str,
        version: str,
        *,
        alias: str = CHAMPION,
        reason: str = "promoted by hand",
        actor: str | None = None,
    ) -> Any:
        """Point ``alias`` at ``version``; the move records who, why and the run that built the version."""
        target = self.store.get_model_version(name, version)
        return self.store.set_alias(name, alias, version, actor=actor or _actor(), reason=reason, run_id=target.run_id)

    def rollback(
        self, name: str, *, alias: str = CHAMPION, reason: str = "rolled back by hand", actor: str | None = None
    ) -> str:
        """Move ``alias`` back to the version it pointed at before the current one.

        The history is replayed as a stack (a move pushes, a rollback pops) so that rolling back twice
        goes two steps back instead of flip-flopping between the last two versions.
        """
        stack: list[str] = []
        for move in self.store.alias_history(name, alias):
            if (move.details or {}).get("rollback"):
                if stack:
                    stack.pop()
            elif move.to_version is None:
                stack.clear()
            else:
                stack.append(move.to_version)
        current = self.store.get_alias(name, alias)
        earlier = [v for v in stack[:-1] if v != current]
        if current is None or not earlier:
            raise UsageError(
                f"'{name}@{alias}' has no earlier version to roll back to",
                hint=f"promote a version instead: yard models promote {name} VERSION --alias {alias}",
            )
        target = earlier[-1]
        version = self.store.get_model_version(name, target)
        self.store.set_alias(
            name, alias, target, actor=actor or _actor(), reason=reason, run_id=version.run_id,
            details={"rollback": True, "from": current},
        )  # fmt: skip
        return target


def read_signature(package_dir: Any) -> dict[str, Any] | None:
    manifest = package_dir / "manifest.json"
    if not manifest.is_file():
        return None
    return json.loads(manifest.read_text(encoding="utf-8")).get("signature")
