"""Registry records: registered models, their versions, aliases and the history of every alias move.

An alias move and its history row are written in one transaction, with the model's row locked on
PostgreSQL (SQLite's BEGIN IMMEDIATE already serialises writers), so two concurrent promotions
cannot both claim to have moved the alias away from the same version. Semver policies (which version
comes next, what may be promoted) belong to the registry layer; this module only stores and orders.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from modelyard.errors import NotFound, UsageError, did_you_mean
from modelyard.store.metadata.base import StoreBase, now
from modelyard.store.metadata.records import AliasMove, ModelVersion
from modelyard.store.metadata.tables import (
    alias_history as alias_history_t,
)
from modelyard.store.metadata.tables import (
    aliases as aliases_t,
)
from modelyard.store.metadata.tables import (
    artifacts,
    model_versions,
    registered_models,
    runs,
)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)


def semver_key(version: str) -> tuple[Any, ...]:
    """Sort key in semver precedence: 1.2.0-rc.1 < 1.2.0 < 1.10.0; build metadata is ignored."""
    m = _SEMVER.match(version)
    if m is None:  # never stored by put_model_version; sorts last if a database has one anyway
        return (1, version)
    major, minor, patch, pre = int(m[1]), int(m[2]), int(m[3]), m[4]
    if pre is None:
        pre_key: tuple[Any, ...] = (1,)
    else:
        pre_key = (0, tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")))
    return (0, major, minor, patch, pre_key)


def check_semver(version: str) -> str:
    if not isinstance(version, str) or not _SEMVER.match(version):
        raise UsageError(f"'{version}' is not a semantic version", hint="use MAJOR.MINOR.PATCH, e.g. 1.4.0")
    return version


def check_name(what: str, name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise UsageError(
            f"invalid {what} '{name}'",
            hint="use letters, digits, '.', '_' and '-' (at most 64), starting with a letter or digit",
        )
    return name


def _version(row: Row[Any]) -> ModelVersion:
    m = row._mapping
    return ModelVersion(
        name=m["name"],
        version=m["version"],
        artifact_id=m["artifact_id"],
        run_id=m["run_id"],
        digest=m["digest"],
        signature=m["signature"],
        properties=m["properties"],
        created_at=m["created_at"],
    )


def _move(row: Row[Any]) -> AliasMove:
    m = row._mapping
    return AliasMove(
        id=m["id"],
        name=m["name"],
        alias=m["alias"],
        from_version=m["from_version"],
        to_version=m["to_version"],
        actor=m["actor"],
        at=m["at"],
        run_id=m["run_id"],
        reason=m["reason"],
        details=m["details"],
    )


class RegistryMixin(StoreBase):
    def put_registered_model(self, name: str, description: str | None = None) -> None:
        """Create the model name if new; a given description replaces the stored one."""
        check_name("model name", name)
        with self._write() as conn:
            self._put_model(conn, name)
            if description is not None:
                conn.execute(
                    registered_models.update().where(registered_models.c.name == name).values(description=description)
                )

    def list_registered_models(self) -> list[str]:
        with self._read() as conn:
            query = sa.select(registered_models.c.name).order_by(registered_models.c.name)
            return list(conn.execute(query).scalars())

    def put_model_version(
        self,
        *,
        name: str,
        version: str,
        artifact_id: int,
        run_id: str | None,
        digest: str,
        signature: dict[str, Any] | None = None,
        properties: dict[str, Any] | None = None,
    ) -> ModelVersion:
        """Register a version; repeating the same registration returns it, a different one is refused."""
        check_name("model name", name)
        check_semver(version)
        with self._write() as conn:
            if conn.execute(sa.select(artifacts.c.id).where(artifacts.c.id == artifact_id)).first() is None:
                raise NotFound(f"cannot register {name} {version}: no artifact with id {artifact_id}")
            if run_id is not None and conn.execute(sa.select(runs.c.id).where(runs.c.id == run_id)).first() is None:
                raise NotFound(f"cannot register {name} {version}: no run '{run_id}'")
            self._put_model(conn, name)
            row = {
                "name": name,
                "version": version,
                "artifact_id": artifact_id,
                "run_id": run_id,
                "digest": digest,
                "signature": signature,
                "properties": properties or {},
                "created_at": now(),
            }
            self._insert_ignore(conn, model_versions, [row])
            stored = _version(conn.execute(self._version_query(name, version)).one())
        if stored.digest != digest or stored.artifact_id != artifact_id:
            raise UsageError(
                f"{name} {version} is already registered with digest {stored.digest[:12]}",
                hint="a version is immutable; register the new package under a new version",
            )
        return stored

    def get_model_version(self, name: str, version: str) -> ModelVersion:
        with self._read() as conn:
            row = conn.execute(self._version_query(name, version)).first()
            if row is not None:
                return _version(row)
            self._require_model(conn, name)
            known = conn.execute(sa.select(model_versions.c.version).where(model_versions.c.name == name)).scalars()
            raise NotFound(f"model '{name}' has no version '{version}'", hint=did_you_mean(version, known))

    def find_version_by_digest(self, name: str, digest: str) -> ModelVersion | None:
        """The first version of ``name`` registered with this package digest (to avoid duplicates)."""
        query = (
            sa.select(model_versions)
            .where(model_versions.c.name == name, model_versions.c.digest == digest)
            .order_by(model_versions.c.created_at)
            .limit(1)
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        return None if row is None else _version(row)

    def list_model_versions(self, name: str) -> list[ModelVersion]:
        """All versions of a model in semver order (oldest first)."""
        with self._read() as conn:
            self._require_model(conn, name)
            rows = conn.execute(sa.select(model_versions).where(model_versions.c.name == name)).all()
        return sorted((_version(r) for r in rows), key=lambda v: (semver_key(v.version), v.created_at))

    def set_alias(
        self,
        name: str,
        alias: str,
        version: str | None,
        *,
        actor: str,
        reason: str,
        run_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> AliasMove:
        """Point an alias at a version (None removes it) and append the move to the alias history."""
        check_name("alias", alias)
        if _SEMVER.match(alias):
            raise UsageError(f"alias '{alias}' looks like a version", hint="pick a name such as 'champion'")
        with self._write() as conn:
            self._require_model(conn, name, lock=True)
            current = conn.execute(
                sa.select(aliases_t.c.version).where(aliases_t.c.name == name, aliases_t.c.alias == alias)
            ).scalar_one_or_none()
            if version is None:
                if current is None:
                    known = conn.execute(sa.select(aliases_t.c.alias).where(aliases_t.c.name == name)).scalars()
                    raise NotFound(f"model '{name}' has no alias '{alias}'", hint=did_you_mean(alias, known))
                conn.execute(aliases_t.delete().where(aliases_t.c.name == name, aliases_t.c.alias == alias))
            else:
                if conn.execute(self._version_query(name, version)).first() is None:
                    known = conn.execute(
                        sa.select(model_versions.c.version).where(model_versions.c.name == name)
                    ).scalars()
                    raise NotFound(
                        f"cannot point {name}@{alias} at '{version}': no such version",
                        hint=did_you_mean(version, known),
                    )
                self._upsert(
                    conn, aliases_t, [{"name": name, "alias": alias, "version": version}], keys=("name", "alias")
                )
            move = {
                "name": name,
                "alias": alias,
                "from_version": current,
                "to_version": version,
                "actor": actor,
                "at": now(),
                "run_id": run_id,
                "reason": reason,
                "details": details or {},
            }
            move_id = conn.execute(alias_history_t.insert().values(**move)).inserted_primary_key[0]
        return AliasMove(id=move_id, **move)

    def get_alias(self, name: str, alias: str) -> str | None:
        with self._read() as conn:
            return conn.execute(
                sa.select(aliases_t.c.version).where(aliases_t.c.name == name, aliases_t.c.alias == alias)
            ).scalar_one_or_none()

    def aliases(self, name: str) -> dict[str, str]:
        with self._read() as conn:
            rows = conn.execute(
                sa.select(aliases_t.c.alias, aliases_t.c.version)
                .where(aliases_t.c.name == name)
                .order_by(aliases_t.c.alias)
            )
            return {alias: version for alias, version in rows}

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasMove]:
        """Every move of the model's aliases (or of one alias), oldest first."""
        query = sa.select(alias_history_t).where(alias_history_t.c.name == name)
        if alias is not None:
            query = query.where(alias_history_t.c.alias == alias)
        with self._read() as conn:
            return [_move(r) for r in conn.execute(query.order_by(alias_history_t.c.at, alias_history_t.c.id))]

    # -- helpers -------------------------------------------------------------------------------------

    @staticmethod
    def _version_query(name: str, version: str) -> sa.Select[Any]:
        return sa.select(model_versions).where(model_versions.c.name == name, model_versions.c.version == version)

    def _put_model(self, conn: Connection, name: str) -> None:
        self._insert_ignore(conn, registered_models, [{"name": name, "description": None, "created_at": now()}])

    def _require_model(self, conn: Connection, name: str, *, lock: bool = False) -> None:
        query = sa.select(registered_models.c.name).where(registered_models.c.name == name)
        if lock and self.dialect == "postgresql":
            query = query.with_for_update()
        if conn.execute(query).first() is None:
            known = conn.execute(sa.select(registered_models.c.name)).scalars()
            raise NotFound(f"no registered model '{name}'", hint=did_you_mean(name, known))
