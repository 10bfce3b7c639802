"""Deployment state: per model, the traffic policy the servers apply, read by every worker at run time.

Why a JSON file per model under ``.modelyard/deployments/`` and not a table: the metadata store has no
``deployments`` table yet (adding one needs a migration in ``store``), and a file written atomically
(temporary file + ``os.replace``) is something every worker process and the CLI can read without a
database connection, and poll cheaply by its modification time. The versions themselves are not stored
here: they are the registry's ``champion`` and ``challenger`` aliases, so a move made with ``yard models
promote`` reaches the servers too.

Live counters are shared the same way: each worker writes its own snapshot
(``NAME.stats/PID.json``) every poll, and whoever decides sums them. ``epoch`` changes whenever a canary or
shadow (re)starts, so counters of an earlier comparison never leak into the next one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from modelyard.errors import ConfigError, NotFound, UsageError

CHAMPION = "champion"
CHALLENGER = "challenger"


@dataclass(frozen=True)
class DecisionPolicy:
    """When the challenger has answered ``min_requests`` requests it is promoted if every figure is within
    bounds, else rolled back. Latency is compared as p95(challenger) / p95(champion); distance is the
    Jensen–Shannon distance (base 2, 0..1) between the two versions' prediction frequencies."""

    auto: bool = True
    min_requests: int = 200
    max_error_rate: float = 0.02
    max_latency_ratio: float = 2.0
    max_distance: float = 0.3

    def __post_init__(self) -> None:
        if self.min_requests < 1:
            raise UsageError(f"min_requests must be at least 1, got {self.min_requests}")
        if not 0 <= self.max_error_rate <= 1:
            raise UsageError(f"max_error_rate is a share between 0 and 1, got {self.max_error_rate}")
        if self.max_latency_ratio <= 0:
            raise UsageError(f"max_latency_ratio must be positive, got {self.max_latency_ratio}")
        if not 0 <= self.max_distance <= 1:
            raise UsageError(f"max_distance is between 0 and 1, got {self.max_distance}")


@dataclass(frozen=True)
class Deployment:
    """What the servers of one model do with its challenger, and the last decision taken about it."""

    name: str
    canary_percent: float = 0.0
    shadow_percent: float = 0.0
    policy: DecisionPolicy = field(default_factory=DecisionPolicy)
    epoch: str = ""
    updated_at: str = ""
    last_decision: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        for label, value in (("canary", self.canary_percent), ("shadow", self.shadow_percent)):
            if not 0 <= value <= 100:
                raise UsageError(f"a {label} share is a percentage between 0 and 100, got {value}")

    @property
    def active(self) -> bool:
        """A challenger is being compared (it gets live or mirrored traffic)."""
        return self.canary_percent > 0 or self.shadow_percent > 0

    def restarted(self, **changes: Any) -> Deployment:
        """The deployment with ``changes`` and a fresh epoch: counters start from zero."""
        return replace(self, **changes, epoch=uuid.uuid4().hex[:12], last_decision=None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Deployment:
        policy = DecisionPolicy(**data.get("policy", {}))
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "policy"}
        return cls(**known, policy=policy)


def _write_atomic(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:6]}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


class DeploymentStore:
    """Deployment records and live-counter snapshots in one folder (``.modelyard/deployments``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _path(self, name: str) -> Path:
        return self.folder / f"{name}.json"

    def find(self, name: str) -> Deployment | None:
        path = self._path(name)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return Deployment.from_dict(json.loads(text))
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"{path}: not a deployment record: {exc}", hint="remove the file and deploy again"
            ) from exc

    def get(self, name: str) -> Deployment:
        found = self.find(name)
        if found is None:
            raise NotFound(f"model '{name}' has no deployment", hint=f"start one: yard deploy {name} --canary 10")
        return found

    def put(self, deployment: Deployment) -> Deployment:
        stamped = replace(deployment, updated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
        _write_atomic(self._path(deployment.name), stamped.to_dict())
        return stamped

    def stamp(self, name: str) -> float:
        """The record's modification time (0 when absent): workers re-read only when it changed."""
        try:
            return self._path(name).stat().st_mtime_ns
        except FileNotFoundError:
            return 0

    # -- live counters -------------------------------------------------------------------------------------

    def write_stats(self, name: str, epoch: str, versions: dict[str, dict[str, Any]]) -> None:
        _write_atomic(self.folder / f"{name}.stats" / f"{os.getpid()}.json", {"epoch": epoch, "versions": versions})

    def read_stats(self, name: str, epoch: str) -> list[dict[str, dict[str, Any]]]:
        """Every worker's snapshot of this epoch (a snapshot of an earlier epoch is ignored)."""
        folder = self.folder / f"{name}.stats"
        found = []
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # a worker replacing its file right now; the next poll reads it
            if data.get("epoch") == epoch:
                found.append(data.get("versions", {}))
        return found

    def lock_path(self, name: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / f"{name}.lock"
