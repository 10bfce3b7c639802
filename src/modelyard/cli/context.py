"""The edge where settings are built: every command gets its project's Settings and stores from here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelyard.settings import Settings, find_project_dir


@dataclass
class Globals:
    project: Path | None = None
    debug: bool = False

    def settings(self) -> Settings:
        return Settings.for_project(self.project or find_project_dir())


def settings_of(ctx: Any) -> Settings:
    """Settings from the Typer context the ``yard`` callback filled (``--project``)."""
    found = getattr(ctx, "obj", None)
    return found.settings() if isinstance(found, Globals) else Globals().settings()


@contextmanager
def metadata(ctx: Any, create: bool = False) -> Iterator[Any]:
    """The project's metadata store, reconciled (a run whose process died is shown as crashed)."""
    from modelyard.store.metadata.store import MetadataStore

    settings = settings_of(ctx)
    store = MetadataStore.open(settings.db_url, create=create or (settings.home.exists()))
    try:
        store.reconcile_stale_runs()
        yield store
    finally:
        store.close()
