"""Static checks: everything that can be known wrong before a step runs is reported first, with file and line.

The result is a :class:`Plan` — the steps in dependency order with their resolved components and validated
parameters — which is all the runner needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from modelyard.core.artifacts import ArtifactType
from modelyard.errors import ModelyardError, PipelineDefinitionError, did_you_mean
from modelyard.pipeline.component import ComponentDef
from modelyard.pipeline.components import resolve_component
from modelyard.pipeline.spec import PipelineDefinition, StepSpec


@dataclass(frozen=True)
class Condition:
    """``when: STEP.OUTPUT.PROPERTY`` — run only if that output property is truthy (``not`` negates)."""

    step: str
    output: str
    prop: str
    negate: bool = False

    def __str__(self) -> str:
        return ("not " if self.negate else "") + f"{self.step}.{self.output}.{self.prop}"


@dataclass(frozen=True)
class PlannedStep:
    name: str
    spec: StepSpec
    component: ComponentDef
    params: Any
    inputs: dict[str, tuple[str, str]]  # input name -> (upstream step, output name)
    external: dict[str, Path]  # input name -> file outside the store
    condition: Condition | None
    depends_on: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Plan:
    definition: PipelineDefinition
    steps: dict[str, PlannedStep]  # in a valid execution order

    @property
    def name(self) -> str:
        return self.definition.name


def plan_pipeline(definition: PipelineDefinition) -> Plan:
    """Check the whole definition and order its steps; raises PipelineDefinitionError on the first problem."""
    spec = definition.spec
    components = {name: _component(definition, name, step) for name, step in spec.steps.items()}
    planned: dict[str, PlannedStep] = {}
    for name, step in spec.steps.items():
        comp = components[name]
        params = _params(definition, name, step, comp)
        inputs = _inputs(definition, name, step, comp, components)
        condition = _condition(definition, name, step, components)
        external = _external(definition, name, comp, params)
        missing = [key for key, decl in comp.inputs.items() if not decl.optional and key not in inputs]
        if missing:
            raise PipelineDefinitionError(
                f"input '{missing[0]}' of component '{step.component}' is not wired",
                where=definition.where(("steps", name, "inputs"), step=name),
                hint=f"add inputs: {{{missing[0]}: STEP.OUTPUT}} with a {comp.inputs[missing[0]].type} output",
            )
        depends = {upstream for upstream, _ in inputs.values()}
        if condition:
            depends.add(condition.step)
        planned[name] = PlannedStep(name, step, comp, params, inputs, external, condition, frozenset(depends))
    order = _topological_order(definition, planned)
    return Plan(definition, {name: planned[name] for name in order})


def _component(definition: PipelineDefinition, name: str, step: StepSpec) -> ComponentDef:
    try:
        return resolve_component(step.component, base_dir=definition.base_dir)
    except ModelyardError as exc:
        raise PipelineDefinitionError(
            exc.message, where=definition.where(("steps", name, "component"), step=name), hint=exc.hint
        ) from None


def _params(definition: PipelineDefinition, name: str, step: StepSpec, comp: ComponentDef) -> Any:
    try:
        return comp.validate_params(step.params)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = str(first["loc"][0]) if first["loc"] else ""
        path = ("steps", name, "params", *first["loc"])
        if first["type"] == "extra_forbidden":
            fields = comp.params.model_fields if comp.params else {}
            message, hint = f"unknown parameter '{key}' for component '{step.component}'", did_you_mean(key, fields)
        elif first["type"] == "missing":
            message, hint = f"parameter '{key}' is required by component '{step.component}'", None
            path = ("steps", name, "params") if step.params else ("steps", name)
        else:
            message, hint = f"parameter '{'.'.join(map(str, first['loc']))}': {first['msg']}", None
        raise PipelineDefinitionError(message, where=definition.where(path, step=name), hint=hint) from None


def _inputs(
    definition: PipelineDefinition,
    name: str,
    step: StepSpec,
    comp: ComponentDef,
    components: dict[str, ComponentDef],
) -> dict[str, tuple[str, str]]:
    wired: dict[str, tuple[str, str]] = {}
    for input_name, ref in step.inputs.items():
        where = definition.where(("steps", name, "inputs", input_name), step=name)
        if input_name not in comp.inputs:
            raise PipelineDefinitionError(
                f"component '{step.component}' has no input '{input_name}'",
                where=where,
                hint=did_you_mean(input_name, comp.inputs),
            )
        upstream, output = ref.split(".")
        if upstream not in components:
            others = [other for other in components if other != name]
            raise PipelineDefinitionError(
                f"input '{input_name}' refers to unknown step '{upstream}'",
                where=where,
                hint=did_you_mean(upstream, others),
            )
        produced = components[upstream].outputs
        if output not in produced:
            raise PipelineDefinitionError(
                f"step '{upstream}' has no output '{output}'", where=where, hint=did_you_mean(output, produced)
            )
        expected = comp.inputs[input_name].type
        if produced[output] != expected and expected != ArtifactType.GENERIC:
            raise PipelineDefinitionError(
                f"input '{input_name}' needs a {expected} artifact but {upstream}.{output} is a {produced[output]}",
                where=where,
                hint=_producers_hint(expected, components),
            )
        wired[input_name] = (upstream, output)
    return wired


def _producers_hint(wanted: ArtifactType, components: dict[str, ComponentDef]) -> str | None:
    options = [
        f"{step}.{out}" for step, comp in components.items() for out, kind in comp.outputs.items() if kind == wanted
    ]
    return ("outputs of that type: " + ", ".join(options)) if options else None


def _condition(
    definition: PipelineDefinition, name: str, step: StepSpec, components: dict[str, ComponentDef]
) -> Condition | None:
    if step.when is None:
        return None
    text = step.when.strip()
    negate = text.startswith("not ")
    parts = text.removeprefix("not ").strip().split(".")
    where = definition.where(("steps", name, "when"), step=name)
    if len(parts) != 3:
        raise PipelineDefinitionError(
            f"'when: {step.when}' must be STEP.OUTPUT.PROPERTY",
            where=where,
            hint="e.g. when: evaluate.blessing.blessed",
        )
    upstream, output, prop = parts
    if upstream not in components or upstream == name:
        raise PipelineDefinitionError(
            f"'when' refers to unknown step '{upstream}'",
            where=where,
            hint=did_you_mean(upstream, [other for other in components if other != name]),
        )
    if output not in components[upstream].outputs:
        raise PipelineDefinitionError(
            f"step '{upstream}' has no output '{output}'",
            where=where,
            hint=did_you_mean(output, components[upstream].outputs),
        )
    return Condition(upstream, output, prop, negate)


def _external(definition: PipelineDefinition, name: str, comp: ComponentDef, params: Any) -> dict[str, Path]:
    if comp.external_inputs is None:
        return {}
    files = comp.external_inputs(params, definition.base_dir)
    for input_name, path in files.items():
        if not path.exists():
            raise PipelineDefinitionError(
                f"{input_name} file not found: {path}",
                where=definition.where(("steps", name, "params"), step=name),
                hint="paths are relative to the folder of the pipeline file",
            )
    return files


def _topological_order(definition: PipelineDefinition, steps: dict[str, PlannedStep]) -> list[str]:
    """Kahn's algorithm in declaration order; a cycle is reported as the path that closes it."""
    remaining = {name: set(step.depends_on) for name, step in steps.items()}
    order: list[str] = []
    while remaining:
        ready = [name for name, deps in remaining.items() if not deps]
        if not ready:
            cycle = _find_cycle(remaining)
            raise PipelineDefinitionError(
                "the steps form a cycle: " + " -> ".join(cycle),
                where=definition.where(("steps", cycle[0], "inputs"), step=cycle[0]),
                hint="a step cannot depend, directly or indirectly, on its own output",
            )
        for name in ready:
            order.append(name)
            del remaining[name]
        for deps in remaining.values():
            deps.difference_update(ready)
    return order


def _find_cycle(remaining: dict[str, set[str]]) -> list[str]:
    start = next(iter(remaining))
    path = [start]
    seen = {start: 0}
    node = start
    while True:
        node = sorted(remaining[node])[0]
        if node in seen:
            return [*path[seen[node] :], node]
        seen[node] = len(path)
        path.append(node)
