"""The monitor's memory between invocations: judged windows, open alert conditions, the last retrain.

Why a JSON file per model (``.modelyard/monitor/NAME/state.json``) next to the metadata store: ``yard
schedule`` is meant to be called from cron, one invocation one decision, so what the previous invocation
saw must survive the process. The lineage (which window, which model version, which report) is recorded
in the metadata store as well; this file is the monitor's quick index of it. It is replaced atomically, and
a lock file keeps two schedulers of one model from deciding at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from modelyard.errors import ConfigError, UsageError


def monitor_folder(home: Path, model: str) -> Path:
    return Path(home) / "monitor" / model


def load_state(folder: Path) -> dict[str, Any]:
    path = folder / "state.json"
    if not path.is_file():
        return {"windows": [], "open": {}, "last_retrain": None, "decisions": []}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ConfigError(
            f"{path}: unreadable monitor state ({exc})", hint="remove it; windows are judged again"
        ) from exc
    data.setdefault("windows", [])
    data.setdefault("open", {})
    data.setdefault("last_retrain", None)
    data.setdefault("decisions", [])
    return data


def save_state(folder: Path, state: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".state.{os.getpid()}.{uuid.uuid4().hex[:6]}.tmp"
    tmp.write_text(json.dumps(state, indent=1, default=str), encoding="utf-8")
    os.replace(tmp, folder / "state.json")


@contextmanager
def exclusive(folder: Path) -> Iterator[None]:
    """Hold the model's monitor lock; a second holder is told who has it instead of waiting forever."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "lock").open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(
                f"another monitor of this model is running (lock {folder / 'lock'})",
                hint="wait for it to finish; cron runs should not overlap",
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
