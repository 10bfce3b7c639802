"""Tracked runs: ``start_run`` for standalone use, and the same API inside a pipeline step.

The active run is kept in a context variable (a stack per thread/task), the one piece of process state
tracking needs: ``log_metric`` must find "the current run" without the caller passing it around, exactly as
users expect from MLflow. A run started implicitly by a bare ``log_metric`` is ended at interpreter exit.
"""

from __future__ import annotations

import atexit
import contextvars
import shutil
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from modelyard.core.artifacts import ArtifactRef, ArtifactType
from modelyard.errors import UsageError
from modelyard.settings import Settings
from modelyard.tracking.buffer import TrackingBuffer

_ACTIVE: contextvars.ContextVar[tuple[ActiveRun, ...]] = contextvars.ContextVar("modelyard_active_runs", default=())


class ActiveRun:
    """A run being tracked. Use as a context manager; everything logged is durable once it exits."""

    def __init__(
        self,
        store: Any,
        run_id: str,
        *,
        settings: Settings | None = None,
        execution_id: int | None = None,
        owns_run: bool = True,
        close_store: bool = True,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.settings = settings
        self.execution_id = execution_id
        self._owns_run = owns_run
        self._close_store = close_store
        self._buffer = TrackingBuffer(self._write, execution_id=execution_id)
        self._ended = False
        self._token: contextvars.Token[tuple[ActiveRun, ...]] | None = None

    def _write(self, params: list[Any], metrics: list[Any], tags: list[Any]) -> None:
        self.store.log_batch(self.run_id, params=params, metrics=metrics, tags=tags)

    # -- logging -----------------------------------------------------------------------------------------
    def log_param(self, key: str, value: Any) -> None:
        self._buffer.param(key, value)

    def log_params(self, params: Mapping[str, Any]) -> None:
        for key, value in params.items():
            self._buffer.param(key, value)

    def log_metric(self, key: str, value: float, step: int | None = None, timestamp_ms: int | None = None) -> None:
        self._buffer.metric(key, value, step, timestamp_ms)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        for key, value in metrics.items():
            self._buffer.metric(key, value, step)

    def set_tag(self, key: str, value: Any) -> None:
        self._buffer.tag(key, value)

    def log_artifact(self, path: str | Path, *, type: str = "generic") -> ArtifactRef:
        """Store a file or folder content-addressed and attach it to this run."""
        from modelyard.store.artifacts import ArtifactStore

        source = Path(path)
        if not source.exists():
            raise UsageError(f"log_artifact: {source} does not exist")
        if self.settings is None:
            raise UsageError("log_artifact needs a run started with settings (start_run does this)")
        artifacts = ArtifactStore.open(self.settings.store_url)
        staged = artifacts.staging_dir() / source.name
        if source.is_dir():
            shutil.copytree(source, staged)
        else:
            shutil.copy2(source, staged)
        digest, uri = artifacts.put(staged, move=True)
        ref = self.store.put_artifact(ArtifactType(type), uri, digest, {"name": source.name})
        context_id = self.store.put_context("run", self.run_id)
        self.store.attribute(context_id, artifact_ids=[ref.id])
        return ref

    def flush(self) -> None:
        self._buffer.flush()

    # -- lifecycle -----------------------------------------------------------------------------------------
    def end(self, status: str = "complete", error: str | None = None) -> None:
        """Write what is buffered, then close the run (idempotent)."""
        if self._ended:
            return
        self._ended = True
        try:
            self._buffer.close()
        finally:
            if self._owns_run:
                self.store.set_run_status(self.run_id, status, error=error)
            if self._close_store:
                self.store.close()
            stack = _ACTIVE.get()
            if self in stack:
                _ACTIVE.set(tuple(run for run in stack if run is not self))

    def __enter__(self) -> ActiveRun:
        if self not in _ACTIVE.get():
            _ACTIVE.set((*_ACTIVE.get(), self))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.end("complete")
        elif issubclass(exc_type, KeyboardInterrupt):
            self.end("cancelled", error="interrupted")
        else:
            self.end("failed", error=f"{exc_type.__name__}: {exc}")


def start_run(
    name: str | None = None,
    *,
    experiment: str | None = None,
    project_dir: str | Path = ".",
    settings: Settings | None = None,
    tags: Mapping[str, Any] | None = None,
    parent_run_id: str | None = None,
) -> ActiveRun:
    """Start a tracked run in a project's metadata store (``.modelyard/`` of ``project_dir`` by default).

    Example::

        with modelyard.start_run("baseline", experiment="penguins") as run:
            run.log_param("C", 1.0)
            for epoch in range(100):
                modelyard.log_metric("loss", 1 / (epoch + 1))
    """
    from modelyard.store.metadata.store import MetadataStore

    settings = settings or Settings.for_project(project_dir)
    store = MetadataStore.open(settings.db_url)
    run_id = store.create_run(
        kind="tracking",
        name=name,
        experiment=experiment or "default",
        project=settings.project_dir.name,
        parent_run_id=parent_run_id,
    )
    run = ActiveRun(store, run_id, settings=settings)
    for key, value in (tags or {}).items():
        run.set_tag(key, value)
    _ACTIVE.set((*_ACTIVE.get(), run))
    return run


def active_run() -> ActiveRun | None:
    stack = _ACTIVE.get()
    return stack[-1] if stack else None


def _current() -> ActiveRun:
    run = active_run()
    if run is None:
        run = start_run()
        atexit.register(run.end)
    return run


def log_param(key: str, value: Any) -> None:
    _current().log_param(key, value)


def log_params(params: Mapping[str, Any]) -> None:
    _current().log_params(params)


def log_metric(key: str, value: float, step: int | None = None) -> None:
    _current().log_metric(key, value, step)


def log_metrics(metrics: Mapping[str, float], step: int | None = None) -> None:
    _current().log_metrics(metrics, step)


def set_tag(key: str, value: Any) -> None:
    _current().set_tag(key, value)


def log_artifact(path: str | Path, *, type: str = "generic") -> ArtifactRef:
    return _current().log_artifact(path, type=type)


def end_run(status: str = "complete") -> None:
    run = active_run()
    if run is not None:
        run.end(status)
