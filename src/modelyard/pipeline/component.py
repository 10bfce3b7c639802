"""What a component is: a function plus the typed contract the pipeline checks before running it.

Built-in components and user components are declared the same way, with :func:`component`, so a user's
``train.py:train_model`` gets the same type checks, caching and lineage as ``train``.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from modelyard.core.artifacts import ArtifactType
from modelyard.errors import UsageError


@dataclass(frozen=True)
class InputSpec:
    """A declared input: the artifact type it accepts and whether the step may leave it unwired."""

    type: ArtifactType
    optional: bool = False


@dataclass(frozen=True)
class ComponentDef:
    """A component's contract and code. ``fn(ctx)`` does the work inside a worker process."""

    name: str
    fn: Callable[..., None]
    inputs: Mapping[str, InputSpec] = field(default_factory=dict)
    outputs: Mapping[str, ArtifactType] = field(default_factory=dict)
    params: type[BaseModel] | None = None
    retryable: bool = False
    cacheable: bool = True
    # Light steps (a registry write) run on a thread of the runner instead of a worker process: starting a
    # worker costs more than the step, and a fully reused re-run should start no process at all.
    inline: bool = False
    # Files read from outside the store (a raw CSV): hashed into the cache key and recorded as FILE artifacts.
    external_inputs: Callable[[Any, Path], dict[str, Path]] | None = None
    # State outside the pipeline a result depends on (the registry's current champion): name -> digest, from
    # (params, metadata store, input digests), keyed into the cache like an input.
    cache_context: Callable[[Any, Any, dict[str, str]], dict[str, str]] | None = None
    # Names of parameters whose values are code references; their source is part of the fingerprint.
    code_params: tuple[str, ...] = ()
    description: str = ""

    @property
    def ref(self) -> str:
        return f"{self.fn.__module__}:{self.fn.__qualname__}"

    def source_fingerprint(self) -> str:
        """sha256 of the component's module source: editing the component invalidates its cached results."""
        try:
            source = Path(inspect.getfile(self.fn)).read_bytes()
        except (OSError, TypeError):
            source = self.ref.encode()
        return hashlib.sha256(source).hexdigest()

    def validate_params(self, raw: Mapping[str, Any]) -> Any:
        """Parameters as the component's Pydantic model (or a plain dict when it declares none)."""
        if self.params is None:
            return dict(raw)
        return self.params.model_validate(dict(raw))


def _as_input(value: str | ArtifactType | InputSpec) -> InputSpec:
    if isinstance(value, InputSpec):
        return value
    text = str(value)
    optional = text.endswith("?")
    try:
        return InputSpec(ArtifactType(text.rstrip("?")), optional=optional)
    except ValueError:
        known = ", ".join(t.value for t in ArtifactType)
        raise UsageError(f"unknown artifact type '{text}'", hint=f"known: {known}") from None


def component(
    name: str | None = None,
    *,
    inputs: Mapping[str, str | ArtifactType | InputSpec] | None = None,
    outputs: Mapping[str, str | ArtifactType] | None = None,
    params: type[BaseModel] | None = None,
    retryable: bool = False,
    cache: bool = True,
    inline: bool = False,
    external_inputs: Callable[[Any, Path], dict[str, Path]] | None = None,
    cache_context: Callable[[Any, Any, dict[str, str]], dict[str, str]] | None = None,
    code_params: tuple[str, ...] = (),
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Declare a function as a component. Input types ending in ``?`` are optional.

    Example::

        @component(inputs={"dataset": "dataset"}, outputs={"cleaned": "dataset"}, retryable=True)
        def clean(ctx):
            ...
    """

    def decorate(fn: Callable[..., None]) -> Callable[..., None]:
        definition = ComponentDef(
            name=name or fn.__name__,
            fn=fn,
            inputs={key: _as_input(value) for key, value in (inputs or {}).items()},
            outputs={key: ArtifactType(str(value)) for key, value in (outputs or {}).items()},
            params=params,
            retryable=retryable,
            cacheable=cache,
            inline=inline,
            external_inputs=external_inputs,
            cache_context=cache_context,
            code_params=code_params,
            description=(inspect.getdoc(fn) or "").split("\n")[0],
        )
        fn.__modelyard_component__ = definition  # type: ignore[attr-defined]
        return fn

    return decorate
