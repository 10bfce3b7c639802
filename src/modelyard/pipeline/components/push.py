"""push: register a blessed model as a new version; the first one becomes the champion."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from modelyard.pipeline.component import component
from modelyard.pipeline.context import StepContext


class PushParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")
    alias: str = Field(default="challenger", description="alias a pushed version gets when a champion exists")


@component(
    inputs={"model": "model", "blessing": "blessing?"}, params=PushParams, retryable=True, cache=False, inline=True
)
def push(ctx: StepContext) -> None:
    """Register the model package (idempotent: the same package is the same version)."""
    from modelyard.registry.registry import Registry, read_signature
    from modelyard.store.metadata.store import MetadataStore

    params: PushParams = ctx.params
    model = ctx.input("model")
    store = MetadataStore.open(ctx.settings.db_url, create=False)
    try:
        registry = Registry(store)
        version, created = registry.register(
            params.model_name, model.ref, run_id=ctx.run_id, signature=read_signature(model.path)
        )
        alias = registry.alias_for_new_version(
            params.model_name,
            version.version,
            preferred=params.alias,
            run_id=ctx.run_id,
            actor=f"pipeline step '{ctx.step}'",
        )
    finally:
        store.close()
    state = "registered" if created else "already registered as"
    ctx.note = f"{params.model_name} {state} {version.version}" + (f" -> {alias}" if alias else "")
    ctx.set_tag("pushed_version", f"{params.model_name}/{version.version}")
