"""The ``monitor:`` section of ``pipeline.yaml``: what to watch, where to alert, when to retrain, how to canary.

Example (every key optional except ``model``)::

    monitor:
      model: penguins
      window: 1h                  # or a number of rows: 10000
      reference: training         # training | a version (1.2.0) | a data file
      log_db: null                # the database URL when the server logs there (yard serve --log-db)
      alerts:
        log: .modelyard/monitor/alerts.log    # JSON lines; the default
        webhook: https://hooks.example.com/modelyard
      retrain:
        drift_windows: 2          # drift or skew in N consecutive windows (0: never for drift)
        quality: {accuracy: {min: 0.85}}      # a labelled window below a bound
        new_labels: 5000          # this many new labelled rows since the last training
        cooldown: 1h              # at least this long between two retrains
        min_labels: 100           # a span with fewer labelled rows is not trained on
        ingest_step: ingest       # the step whose `path` the retrain points at the new span
      canary: {percent: 20, min_requests: 200, max_error_rate: 0.02, max_latency_ratio: 2.0, max_distance: 0.3}

Why in ``pipeline.yaml``: the policy belongs with the pipeline it re-runs, is reviewed in the same change,
and is checked (with file:line errors) by the same loader.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from modelyard.errors import ConfigError, Location, UsageError, did_you_mean
from modelyard.monitor.logwindow import WindowSpec


def _parsed(value: Any) -> WindowSpec:
    """A window or duration; a bad one is a ValueError so that Pydantic reports it with its location."""
    try:
        return WindowSpec.parse(value)
    except UsageError as exc:
        raise ValueError(f"{exc.message}: {exc.hint}") from None


class QualityBound(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min: float | None = None
    max: float | None = None


class AlertSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    log: str | None = Field(default=None, description="JSON-lines file (default .modelyard/monitor/alerts.log)")
    webhook: str | None = Field(default=None, description="URL that receives each alert as a JSON POST")
    console: bool = True


class RetrainSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    drift_windows: int = Field(default=2, ge=0)
    quality: dict[str, QualityBound] = Field(default_factory=dict)
    new_labels: int | None = Field(default=None, ge=1)
    cooldown: str | int = "1h"
    min_labels: int = Field(default=100, ge=1)
    ingest_step: str = "ingest"

    @field_validator("cooldown")
    @classmethod
    def _duration(cls, value: str | int) -> str | int:
        if str(value).strip() not in ("0", "0s") and _parsed(value).seconds is None:
            raise ValueError("a duration such as 30m, 1h or 1d")
        return value

    @property
    def cooldown_seconds(self) -> int:
        return 0 if str(self.cooldown).strip() in ("0", "0s") else int(WindowSpec.parse(self.cooldown).seconds or 0)


class CanarySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    percent: float = Field(default=20.0, gt=0, le=100)
    min_requests: int = Field(default=200, ge=1)
    max_error_rate: float = Field(default=0.02, ge=0, le=1)
    max_latency_ratio: float = Field(default=2.0, gt=0)
    max_distance: float = Field(default=0.3, ge=0, le=1)


class MonitorSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    window: str | int = "1h"
    reference: str = "training"
    log_db: str | None = Field(default=None, description="the database of a server run with --log-db")
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    retrain: RetrainSettings | None = Field(default_factory=RetrainSettings)
    canary: CanarySettings = Field(default_factory=CanarySettings)

    @field_validator("window")
    @classmethod
    def _window(cls, value: Any) -> str:
        _parsed(value)
        return str(value)

    @property
    def window_spec(self) -> WindowSpec:
        return WindowSpec.parse(self.window)

    def log_source(self, home: Any) -> Any:
        """Where the prediction log is: the database named by ``log_db``, else the project's log folder."""
        from pathlib import Path

        return self.log_db or Path(home) / "predictions"


def monitor_settings(definition: Any) -> MonitorSettings | None:
    """The pipeline's ``monitor:`` section, validated; None when it has none. Errors point at the file line."""
    raw = definition.spec.monitor
    if raw is None:
        return None
    try:
        return MonitorSettings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ("monitor", *first["loc"])
        name = str(first["loc"][-1]) if first["loc"] else "monitor"
        if first["type"] == "extra_forbidden":
            known = _fields_at(first["loc"][:-1])
            message, hint = f"unknown key '{name}' in the monitor section", did_you_mean(name, known)
        elif first["type"] == "missing":
            message, hint = f"the monitor section needs '{name}'", "e.g. monitor: {model: penguins}"
            loc = loc[:-1]
        else:
            message, hint = f"monitor.{'.'.join(str(p) for p in first['loc'])}: {first['msg']}", None
        where = definition.where(loc) if hasattr(definition, "where") else Location(field=".".join(map(str, loc)))
        raise ConfigError(message, where=where, hint=hint) from None


def _fields_at(path: tuple[Any, ...]) -> list[str]:
    model: Any = MonitorSettings
    for part in path:
        field = model.model_fields.get(str(part)) if hasattr(model, "model_fields") else None
        annotation = getattr(field, "annotation", None) if field is not None else None
        candidates = [a for a in getattr(annotation, "__args__", (annotation,)) if hasattr(a, "model_fields")]
        if not candidates:
            return []
        model = candidates[0]
    return list(model.model_fields)
