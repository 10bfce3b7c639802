"""Runs one step inside a worker process and measures it.

Steps run in separate processes so that parallel branches use every core, a crashing extension cannot take
the run down with it, and CPU seconds and peak memory can be attributed to one step. A step's outputs are
staged beside the store and moved in only once complete, so a killed worker leaves nothing partial.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelyard.core.artifacts import ArtifactRef, ArtifactType
from modelyard.errors import ModelyardError, StepFailed
from modelyard.settings import Settings


@dataclass(frozen=True)
class StepTask:
    """Everything a worker needs to run a step; plain data so it pickles across processes."""

    settings: Settings
    run_id: str
    execution_id: int
    step: str
    component: str
    base_dir: Path
    params: dict[str, Any]
    inputs: dict[str, ArtifactRef]


@dataclass(frozen=True)
class StepOutcome:
    outputs: dict[str, tuple[str, str, dict[str, Any]]] = field(default_factory=dict)  # name -> digest, uri, props
    cpu_seconds: float = 0.0
    peak_memory_bytes: int | None = None
    wall_seconds: float = 0.0
    error: str | None = None
    traceback: str | None = None
    note: str = ""


def init_worker() -> None:
    """Workers ignore Ctrl-C (the runner decides what to stop) and die with their parent, even on SIGKILL."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _reset_peak_memory() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as handle:  # "5" resets the peak RSS (VmHWM) on Linux
            handle.write("5")
    except OSError:
        pass


def _peak_memory() -> int | None:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def execute_step(task: StepTask) -> StepOutcome:
    """Run the component, then move each output into the artifact store. Never raises: errors are data."""
    from modelyard.pipeline.components import resolve_component
    from modelyard.pipeline.context import InputArtifact, StepContext
    from modelyard.store.artifacts import ArtifactStore
    from modelyard.tracking import runs

    _reset_peak_memory()
    cpu_start, wall_start = _cpu_seconds(), time.perf_counter()
    staging: Path | None = None
    ctx: StepContext | None = None
    outputs: dict[str, tuple[str, str, dict[str, Any]]] = {}
    error: str | None = None
    trace: str | None = None
    try:
        definition = resolve_component(task.component, base_dir=task.base_dir)
        store = ArtifactStore.open(task.settings.store_url)
        staging = store.staging_dir()
        inputs = {
            name: InputArtifact(ref, Path(ref.uri) if ref.type == ArtifactType.FILE else store.local_path(ref.digest))
            for name, ref in task.inputs.items()
        }
        ctx = StepContext(
            step=task.step,
            run_id=task.run_id,
            execution_id=task.execution_id,
            params=definition.validate_params(task.params),
            inputs=inputs,
            settings=task.settings,
            staging=staging,
            output_types=dict(definition.outputs),
        )
        token = runs._ACTIVE.set((ctx,))  # type: ignore[arg-type]  # modelyard.log_* inside the step attach here
        try:
            definition.fn(ctx)
        except StepFailed as exc:  # a deliberate failure keeps the outputs written so far (e.g. a report)
            error = exc.one_line()
        finally:
            runs._ACTIVE.reset(token)
            ctx.close()
        for name in definition.outputs:
            folder = staging / name
            if not folder.is_dir() or not any(folder.iterdir()):
                if error is None:
                    error = f"component '{task.component}' finished without writing its output '{name}'"
                continue
            digest, uri = store.put(folder, move=True)
            outputs[name] = (digest, uri, ctx.properties.get(name, {}))
    except ModelyardError as exc:
        error = exc.one_line()
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        trace = traceback.format_exc()
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return StepOutcome(
        outputs=outputs,
        cpu_seconds=_cpu_seconds() - cpu_start,
        peak_memory_bytes=_peak_memory(),
        wall_seconds=time.perf_counter() - wall_start,
        error=error,
        traceback=trace,
        note=ctx.note if ctx is not None else "",
    )


def environment() -> dict[str, Any]:
    """What the step ran on: enough to tell two machines or two library versions apart."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    libs: dict[str, str] = {}
    for name in ("modelyard", "numpy", "pandas", "scikit-learn", "duckdb", "pyarrow"):
        try:
            libs[name] = version(name)
        except PackageNotFoundError:
            pass
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "host": platform.node(),
        "pid": os.getpid(),
        "libraries": libs,
    }
