"""Drive the real ``yard`` command in a subprocess, as a user would."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(args: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """`yard serve ARGS --port P` in a subprocess on 127.0.0.1; yields its URL once every worker is ready."""
    import httpx

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "modelyard", "serve", *args, "--port", str(port)],
        cwd=cwd, env=env or spawn_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    in_a_row = 0  # each new connection may reach another worker: every one of them must be ready
    try:
        while True:
            if process.poll() is not None:
                raise AssertionError(f"yard serve exited {process.returncode}:\n{process.stdout.read()}")  # type: ignore[union-attr]
            try:
                in_a_row = in_a_row + 1 if httpx.get(f"{url}/v2/health/ready", timeout=1).status_code == 200 else 0
            except httpx.TransportError:
                in_a_row = 0
            if in_a_row >= 20:
                break
            if time.monotonic() > deadline:
                raise AssertionError("yard serve did not become ready within 60 s")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def csv_value(text: str) -> Any:
    """A cell of the penguins CSV as a JSON client sends it: NA as null, numbers as numbers."""
    if text == "NA":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
