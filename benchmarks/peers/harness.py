"""What the benchmark scripts share: timing a command, the peer's venv, and printing a table or JSON.

Why one small harness: every script must time commands the same way (median of fresh processes, the
project's MODELYARD_* variables removed so a developer's shell cannot point a benchmark at another store),
build the peer venv the same way (pinned requirements, rebuilt when the pin changes), and print the same
two forms (a table for people, ``--json`` for anything that wants to track the figures over time).
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

PEERS_DIR = Path(__file__).resolve().parent
BENCH_DIR = PEERS_DIR.parent
REPO_DIR = BENCH_DIR.parent
MLFLOW_VENV = PEERS_DIR / ".venv-mlflow"
MLFLOW_REQUIREMENTS = PEERS_DIR / "mlflow-requirements.txt"
MLFLOW_WORKER = PEERS_DIR / "mlflow_worker.py"
# The venv remembers which requirements built it: a changed pin rebuilds it instead of measuring a stale peer.
_STAMP = "modelyard-bench-requirements.sha256"


def bench_env(**extra: str) -> dict[str, str]:
    """The environment for measured subprocesses: no MODELYARD_* overrides, no telemetry calls home.

    MLflow 3 sends usage telemetry unless told not to; a network attempt inside a timed call would measure
    this machine's network, not MLflow.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("MODELYARD_")}
    env.update({"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"})
    env.update(extra)
    return env


def wall_times(argv: Sequence[str | Path], repeat: int, *, cwd: Path | None = None) -> list[float]:
    """Wall seconds of ``repeat`` fresh runs of a command; a failing command stops the benchmark loudly."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run([str(a) for a in argv], cwd=cwd, env=bench_env(), capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"benchmark command failed ({done.returncode}): {' '.join(map(str, argv))}\n{done.stderr}")
    return times


def median_wall(argv: Sequence[str | Path], repeat: int, *, cwd: Path | None = None) -> float:
    return statistics.median(wall_times(argv, repeat, cwd=cwd))


def median_of(fn: Callable[[], float], repeat: int) -> float:
    return statistics.median(fn() for _ in range(repeat))


def mlflow_python(*, quiet: bool = False) -> Path:
    """The peer venv's python, creating the venv (or rebuilding it after a pin change) first.

    Built from the interpreter running the benchmark so both sides use the same CPython build.
    """
    python = MLFLOW_VENV / "bin" / "python"
    wanted = hashlib.sha256(MLFLOW_REQUIREMENTS.read_bytes()).hexdigest()
    stamp = MLFLOW_VENV / _STAMP
    if python.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return python
    if not quiet:
        print(f"setting up the peer venv {MLFLOW_VENV} from {MLFLOW_REQUIREMENTS.name} (once)...", file=sys.stderr)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--clear", str(MLFLOW_VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(MLFLOW_REQUIREMENTS)],
        check=True,
    )
    stamp.write_text(wanted + "\n")
    return python


def peer_version(python: Path, package: str) -> str:
    done = subprocess.run(
        [str(python), "-c", f"import importlib.metadata as m; print(m.version({package!r}))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def machine() -> dict[str, Any]:
    return {"python": sys.version.split()[0], "cpus": os.cpu_count(), "platform": sys.platform}


# -- output ---------------------------------------------------------------------------------------------------
def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}x" if value >= 100 else f"{value:.1f}x" if value >= 10 else f"{value:.2f}x"


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:,.1f} ms"
    return f"{value:,.2f} s"


def fmt_rate(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:,.0f} {unit}"


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], notes: Sequence[str] = ()) -> None:
    """A Rich table when Rich is importable (it is, in the project's venv), else aligned plain text."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(str(c)), *(len(str(r[i])) for r in rows)) for i, c in enumerate(columns)]
        print(title)
        for line in (columns, *rows):
            print("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)))
        for note in notes:
            print(f"note: {note}")
        return
    table = Table()
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index == 0 else "right")
    for row in rows:
        table.add_row(*row)
    console = Console(width=max(120, Console().width))
    console.print(title, style="bold", highlight=False)
    console.print(table)
    for note in notes:
        console.print(f"[dim]note:[/dim] {note}", highlight=False)


def emit_json(figures: Mapping[str, Any]) -> None:
    print(json.dumps(figures, indent=2, sort_keys=False))


def report(
    table_from: Path | None,
    as_json: bool,
    measure: Callable[[], dict[str, Any]],
    summarise: Callable[[dict[str, Any]], Any],
    show: Callable[[dict[str, Any]], None],
) -> int:
    """The end of a side-by-side benchmark: measure (or reload figures saved with ``--json``), then print
    the table, or the figures and their summary as JSON."""
    if table_from:
        figures = json.loads(table_from.read_text())
        figures.pop("summary", None)
    else:
        figures = measure()
    summary = summarise(figures)
    if as_json:
        emit_json({**figures, "summary": summary})
    else:
        show(figures)
    return 0
