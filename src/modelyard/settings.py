"""The one Settings object, built at the edge (CLI, ``start_run``, tests) and passed down.

Nothing below this module reads environment variables: a library that reads ``os.environ`` deep inside
cannot be configured twice in one process (tests, a notebook with two projects).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from modelyard.errors import ConfigError

HOME_DIR_NAME = ".modelyard"


@dataclass(frozen=True)
class Settings:
    """Where a project keeps its metadata and artifacts, and how much it may run at once."""

    project_dir: Path
    db_url: str
    store_url: str
    workers: int = 2

    @property
    def home(self) -> Path:
        return self.project_dir / HOME_DIR_NAME

    @classmethod
    def for_project(cls, project_dir: str | Path = ".", env: Mapping[str, str] | None = None) -> Settings:
        """Settings for a project folder; ``MODELYARD_DB``/``MODELYARD_STORE``/``MODELYARD_WORKERS`` override."""
        env = os.environ if env is None else env
        project = Path(project_dir).resolve()
        home = project / HOME_DIR_NAME
        db_url = env.get("MODELYARD_DB") or f"sqlite:///{home / 'metadata.db'}"
        store_url = env.get("MODELYARD_STORE") or str(home / "artifacts")
        workers_text = env.get("MODELYARD_WORKERS", "2")
        try:
            workers = int(workers_text)
        except ValueError:
            raise ConfigError(
                f"MODELYARD_WORKERS must be a whole number, got '{workers_text}'", hint="e.g. MODELYARD_WORKERS=4"
            ) from None
        if workers < 1:
            raise ConfigError(f"MODELYARD_WORKERS must be at least 1, got {workers}")
        return cls(project_dir=project, db_url=db_url, store_url=store_url, workers=workers)


def find_project_dir(start: str | Path = ".") -> Path:
    """The nearest folder at or above ``start`` holding ``pipeline.yaml`` or ``.modelyard/``; else ``start``."""
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        if (folder / "pipeline.yaml").is_file() or (folder / HOME_DIR_NAME).is_dir():
            return folder
    return here
