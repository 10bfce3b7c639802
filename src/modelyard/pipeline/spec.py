"""The pipeline definition: one typed object, built from ``pipeline.yaml`` or from Python.

Both front ends produce a :class:`PipelineDefinition` (the validated spec plus a map back to the source lines),
so checks, caching and the runner never care which one the user wrote.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from modelyard.errors import Location, PipelineDefinitionError, did_you_mean
from modelyard.pipeline.yaml_source import KeyPath, SourceMap, load_yaml_with_lines

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


class StepSpec(BaseModel):
    """One step: the component it runs, where its inputs come from, its parameters and run policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    component: str
    inputs: dict[str, str] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    when: str | None = None
    retries: int = Field(default=0, ge=0, le=20)
    retry_backoff: float = Field(default=1.0, ge=0.0, le=600.0)
    cache: bool = True
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("inputs")
    @classmethod
    def _inputs_are_references(cls, value: dict[str, str]) -> dict[str, str]:
        for name, ref in value.items():
            if not isinstance(ref, str) or ref.count(".") != 1:
                raise ValueError(f"input '{name}' must be written STEP.OUTPUT, e.g. ingest.dataset; got {ref!r}")
        return value


class PipelineSpec(BaseModel):
    """The whole pipeline as declared."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pipeline: str
    description: str | None = None
    workers: int | None = Field(default=None, ge=1, le=256)
    tags: dict[str, str] = Field(default_factory=dict, description="free tags on every execution (team, cost centre)")
    steps: dict[str, StepSpec]
    monitor: dict[str, Any] | None = Field(default=None, description="the monitor and retrain policy (yard schedule)")

    @field_validator("pipeline")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not NAME_PATTERN.match(value):
            raise ValueError("use letters, digits, '_' and '-', starting with a letter")
        return value

    @field_validator("steps")
    @classmethod
    def _valid_step_names(cls, value: dict[str, StepSpec]) -> dict[str, StepSpec]:
        if not value:
            raise ValueError("a pipeline needs at least one step")
        for name in value:
            if not NAME_PATTERN.match(name):
                raise ValueError(f"step name '{name}': use letters, digits, '_' and '-', starting with a letter")
        return value


@dataclass(frozen=True)
class PipelineDefinition:
    """A validated spec, the folder its relative paths are resolved from, and where each key was written."""

    spec: PipelineSpec
    base_dir: Path
    source: SourceMap = field(default_factory=SourceMap)

    @property
    def name(self) -> str:
        return self.spec.pipeline

    def where(self, path: KeyPath, step: str | None = None) -> Location:
        return self.source.where(path, step=step)

    def snapshot(self) -> dict[str, Any]:
        return self.spec.model_dump(mode="json")


def load_pipeline(path: str | Path) -> PipelineDefinition:
    """Read a pipeline from YAML (``pipeline.yaml``) or Python (``file.py:attribute``)."""
    text = str(path)
    if ".py:" in text or text.endswith(".py"):
        return _load_python(text)
    file = Path(path)
    raw, source = load_yaml_with_lines(file)
    return from_mapping(raw, base_dir=file.resolve().parent, source=source)


def from_mapping(raw: Any, *, base_dir: Path, source: SourceMap | None = None) -> PipelineDefinition:
    """Validate plain data into a definition, turning Pydantic's errors into file:line messages."""
    source = source or SourceMap()
    if not isinstance(raw, dict):
        raise PipelineDefinitionError(
            "a pipeline file must be a mapping with 'pipeline:' and 'steps:'", where=Location(file=source.file)
        )
    try:
        spec = PipelineSpec.model_validate(raw)
    except ValidationError as exc:
        raise _definition_error(exc, source) from None
    return PipelineDefinition(spec=spec, base_dir=base_dir, source=source)


def _definition_error(exc: ValidationError, source: SourceMap) -> PipelineDefinitionError:
    first = exc.errors()[0]
    loc: KeyPath = tuple(first["loc"])
    step = str(loc[1]) if len(loc) > 1 and loc[0] == "steps" else None
    field_name = str(loc[-1]) if loc else ""
    hint = None
    if first["type"] == "extra_forbidden":
        allowed = StepSpec.model_fields if step and len(loc) == 3 else PipelineSpec.model_fields
        hint = did_you_mean(field_name, allowed)
        message = f"unknown key '{field_name}'"
    elif first["type"] == "missing":
        message = f"'{field_name}' is required"
        loc = loc[:-1]
    else:
        message = f"'{'.'.join(str(p) for p in loc[2:] or loc)}': {first['msg']}"
    more = len(exc.errors()) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return PipelineDefinitionError(message, where=source.where(loc, step=step), hint=hint)


def _load_python(ref: str) -> PipelineDefinition:
    from modelyard.pipeline.code_refs import load_object

    obj = load_object(ref if ":" in ref else f"{ref}:pipeline", base_dir=Path.cwd())
    if isinstance(obj, Pipeline):
        return obj.build()
    if isinstance(obj, PipelineDefinition):
        return obj
    raise PipelineDefinitionError(f"{ref} is a {type(obj).__name__}, not a modelyard Pipeline")


class Pipeline:
    """Build a pipeline in Python; ``build()`` gives the same definition the YAML form would.

    Example::

        p = Pipeline("penguins")
        ingest = p.step("ingest", "ingest", params={"path": "data/penguins.csv"})
        p.step("statistics", "statistics", inputs={"dataset": ingest["dataset"]})
    """

    def __init__(self, name: str, *, workers: int | None = None, base_dir: str | Path | None = None) -> None:
        caller = inspect.stack()[1].filename
        self.name = name
        self.workers = workers
        self.base_dir = Path(base_dir) if base_dir else Path(caller).resolve().parent
        self._file = caller
        self._steps: dict[str, dict[str, Any]] = {}
        self._lines: dict[KeyPath, int] = {}

    def step(
        self,
        name: str,
        component: str,
        *,
        inputs: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        when: str | None = None,
        retries: int = 0,
        retry_backoff: float = 1.0,
        cache: bool = True,
        tags: dict[str, str] | None = None,
    ) -> StepHandle:
        frame = inspect.stack()[1]
        if name in self._steps:
            raise PipelineDefinitionError(
                f"step '{name}' is defined twice", where=Location(file=frame.filename, line=frame.lineno)
            )
        self._steps[name] = {
            "component": component,
            "inputs": dict(inputs or {}),
            "params": dict(params or {}),
            "when": when,
            "retries": retries,
            "retry_backoff": retry_backoff,
            "cache": cache,
            "tags": dict(tags or {}),
        }
        self._lines[("steps", name)] = frame.lineno
        return StepHandle(name)

    def build(self) -> PipelineDefinition:
        raw: dict[str, Any] = {"pipeline": self.name, "steps": self._steps}
        if self.workers is not None:
            raw["workers"] = self.workers
        return from_mapping(raw, base_dir=self.base_dir, source=SourceMap(self._file, dict(self._lines)))


@dataclass(frozen=True)
class StepHandle:
    """What ``Pipeline.step`` returns: index it by output name to wire an input (``ingest["dataset"]``)."""

    name: str

    def __getitem__(self, output: str) -> str:
        return f"{self.name}.{output}"
