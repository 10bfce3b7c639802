"""What a component sees while it runs: its parameters, its inputs as local paths, folders for its outputs.

Outputs are written into a staging folder on the artifact store's filesystem and moved into the store only
after the component returned, so a killed step never leaves a partial artifact behind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelyard.core.artifacts import ArtifactRef, ArtifactType
from modelyard.errors import UsageError, did_you_mean
from modelyard.settings import Settings


@dataclass(frozen=True)
class InputArtifact:
    """An input artifact and a local path to read it from (a folder for stored artifacts, a file for FILE)."""

    ref: ArtifactRef
    path: Path

    def read_json(self, name: str) -> Any:
        return json.loads((self.path / name).read_text(encoding="utf-8"))


@dataclass
class StepContext:
    """Handed to ``component(ctx)``; everything a step may touch goes through it."""

    step: str
    run_id: str
    execution_id: int
    params: Any
    inputs: dict[str, InputArtifact]
    settings: Settings
    staging: Path
    output_types: dict[str, ArtifactType]
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    note: str = ""  # one line for the run display and summary ("penguins 1.0.0 -> champion")
    _tracker: Any = None

    @property
    def project_dir(self) -> Path:
        return self.settings.project_dir

    def input(self, name: str) -> InputArtifact:
        try:
            return self.inputs[name]
        except KeyError:
            raise UsageError(
                f"step '{self.step}' has no input '{name}'", hint=did_you_mean(name, self.inputs)
            ) from None

    def has_input(self, name: str) -> bool:
        return name in self.inputs

    def output_dir(self, name: str) -> Path:
        """The folder to write output ``name`` into; it becomes one content-addressed artifact."""
        if name not in self.output_types:
            raise UsageError(
                f"step '{self.step}' declares no output '{name}'", hint=did_you_mean(name, self.output_types)
            )
        path = self.staging / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def write_json(self, output: str, filename: str, value: Any) -> Path:
        path = self.output_dir(output) / filename
        path.write_text(json.dumps(value, indent=2, sort_keys=True, default=str), encoding="utf-8")
        return path

    def set_properties(self, output: str, **properties: Any) -> None:
        """Small readable facts about an output (row count, blessed, ...), stored with the artifact."""
        self.output_dir(output)
        self.properties.setdefault(output, {}).update(properties)

    # -- tracking, attached to this step's execution --------------------------------------------------------
    @property
    def tracker(self) -> Any:
        if self._tracker is None:
            from modelyard.store.metadata.store import MetadataStore
            from modelyard.tracking.runs import ActiveRun

            store = MetadataStore.open(self.settings.db_url, create=False)
            self._tracker = ActiveRun(store, self.run_id, execution_id=self.execution_id, owns_run=False)
        return self._tracker

    def log_param(self, key: str, value: Any) -> None:
        self.tracker.log_param(f"{self.step}.{key}", value)

    def log_params(self, params: dict[str, Any]) -> None:
        for key, value in params.items():
            self.log_param(key, value)

    def log_metric(self, key: str, value: float, step: int | None = None) -> None:
        self.tracker.log_metric(key, value, step)

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        self.tracker.log_metrics(metrics, step)

    def set_tag(self, key: str, value: Any) -> None:
        self.tracker.set_tag(key, value)

    def close(self) -> None:
        if self._tracker is not None:
            self._tracker.end()
