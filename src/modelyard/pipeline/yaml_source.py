"""YAML loading that remembers where every key came from.

Pipeline errors must name the file and line, so the loader keeps a side table from key paths
(``("steps", "train", "inputs", "model")``) to 1-based line numbers instead of losing the marks the parser had.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelyard.errors import Location, PipelineDefinitionError

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class SourceMap:
    """Line numbers of keys in one source file; the nearest known ancestor answers for a missing path."""

    file: str | None = None
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line(self, path: KeyPath) -> int | None:
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)

    def where(self, path: KeyPath, *, step: str | None = None) -> Location:
        return Location(file=self.file, line=self.line(path), step=step)


def load_yaml_with_lines(path: Path) -> tuple[Any, SourceMap]:
    """Parse a YAML file into plain Python values plus a :class:`SourceMap` of its keys."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PipelineDefinitionError(
            f"pipeline file not found: {path}", hint="run 'yard init DIR --example penguins' to create one"
        ) from None
    except UnicodeDecodeError as exc:
        raise PipelineDefinitionError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise PipelineDefinitionError(
            f"invalid YAML: {exc.problem}",
            where=Location(file=str(path), line=(mark.line + 1) if mark else None),
            hint=exc.context or "check indentation and quoting",
        ) from None
    lines: dict[KeyPath, int] = {}
    if node is None:
        return None, SourceMap(str(path), lines)
    value = _to_python(node, (), lines, yaml, str(path))
    return value, SourceMap(str(path), lines)


def _to_python(node: Any, path: KeyPath, lines: dict[KeyPath, int], yaml: Any, file: str) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.SafeLoader(" ").construct_object(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str | int | float | bool) or key is None:
                raise PipelineDefinitionError(
                    "a mapping key must be a plain name", where=Location(file=file, line=key_node.start_mark.line + 1)
                )
            key = str(key)
            if key in result:
                raise PipelineDefinitionError(
                    f"key '{key}' appears twice", where=Location(file=file, line=key_node.start_mark.line + 1)
                )
            lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = _to_python(value_node, (*path, key), lines, yaml, file)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, (*path, i), lines, yaml, file) for i, item in enumerate(node.value)]
    return yaml.SafeLoader(" ").construct_object(node)
