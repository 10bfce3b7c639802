"""Drive the real ``yard`` command in a subprocess, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Yard = Callable[..., subprocess.CompletedProcess[str]]


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELYARD_")}
    env.update({"COLUMNS": "200", "NO_COLOR": "1", "PYTHONWARNINGS": "ignore"})
    env.update(extra or {})
    return env


@pytest.fixture
def yard() -> Yard:
    def run(
        *args: str, cwd: Path, check: int | None = 0, env: dict[str, str] | None = None, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "modelyard", *args],
            cwd=cwd,
            env=_env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check is not None and done.returncode != check:
            raise AssertionError(
                f"yard {' '.join(args)} exited {done.returncode}, expected {check}\n"
                f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
            )
        return done

    return run


def as_json(done: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def penguins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A penguins project that has run once (shared by the read-only tests of a module)."""
    project = tmp_path_factory.mktemp("shop") / "shop"
    subprocess.run(
        [sys.executable, "-m", "modelyard", "init", str(project), "--example", "penguins"],
        check=True,
        env=_env(),
        capture_output=True,
    )
    done = subprocess.run(
        [sys.executable, "-m", "modelyard", "run", "--json"],
        cwd=project,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return project


def spawn_env() -> dict[str, str]:
    return _env()


def latest_run(yard: Yard, cwd: Path) -> Any:
    """`yard runs show` of the newest run, as JSON."""
    newest = as_json(yard("runs", "list", "--json", "--limit", "1", cwd=cwd))[0]["id"]
    return as_json(yard("runs", "show", newest, "--json", cwd=cwd))
