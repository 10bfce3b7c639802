"""Built-in components, found by short name; anything else is a user's ``module:function`` or ``file.py:function``."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from modelyard.errors import UsageError, did_you_mean
from modelyard.pipeline.component import ComponentDef

BUILTINS: dict[str, str] = {
    "ingest": "modelyard.pipeline.components.ingest:ingest",
    "statistics": "modelyard.pipeline.components.statistics:statistics",
    "schema": "modelyard.pipeline.components.schema:schema",
    "validate": "modelyard.pipeline.components.validate:validate",
    "transform": "modelyard.pipeline.components.transform:transform",
    "train": "modelyard.pipeline.components.train:train",
    "evaluate": "modelyard.pipeline.components.evaluate:evaluate",
    "push": "modelyard.pipeline.components.push:push",
}


def resolve_component(name: str, *, base_dir: Path) -> ComponentDef:
    """The component behind a name in a pipeline; unknown names get a "did you mean" hint."""
    if name in BUILTINS:
        module, attr = BUILTINS[name].split(":")
        fn = getattr(import_module(module), attr)
    elif ":" in name:
        from modelyard.pipeline.code_refs import load_object

        fn = load_object(name, base_dir=base_dir)
    else:
        raise UsageError(f"unknown component '{name}'", hint=did_you_mean(name, BUILTINS))
    definition = getattr(fn, "__modelyard_component__", None)
    if not isinstance(definition, ComponentDef):
        raise UsageError(
            f"'{name}' is not a component",
            hint="decorate the function with @modelyard.component(inputs=..., outputs=...)",
        )
    return definition
