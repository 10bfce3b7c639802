"""The pipeline engine's own cost: what a step costs when the user's code does (almost) nothing.

Part 1 generates a project with N no-op steps of a user component (each writes one tiny file), wired as a
chain (s0 -> s1 -> ... ) and as a fan-out (one root, N-1 children), and runs it with the real runner twice:
first with every step executing, then again with every step reused from the cache. Two views:

- ``yard run --json`` in a subprocess: per step = (wall time - process start) / N, where "process start" is
  the wall time of ``yard run --check`` on a one-step project (interpreter, imports, loading a pipeline).
- in-process: ``load_pipeline`` + ``plan_pipeline`` + ``LocalRunner.run`` in an already warm process.

The metadata store of each project is created before the clock starts (migrations are a one-off per project,
reported on their own row). Part 2 times a fully reused re-run of the penguins example: ``yard init``, one
``yard run``, then ``yard run`` again (median of 5) and the same run in-process.

Examples:
    .venv/bin/python benchmarks/engine_overhead.py               # 50 steps, 3 rounds, penguins x 5
    .venv/bin/python benchmarks/engine_overhead.py --quick       # 20 steps, 1 round, penguins x 3
    .venv/bin/python benchmarks/engine_overhead.py --steps 200 --json
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from peers.harness import bench_env, emit_json, fmt_ratio, fmt_seconds, machine, median_wall, print_table, ratio

YARD = Path(sys.executable).with_name("yard")

STEPS_PY = '''\
"""No-op components: each writes one tiny file, so what is measured is the engine around them."""
from modelyard import component


@component(outputs={"out": "generic"})
def noop(ctx):
    (ctx.output_dir("out") / "value.txt").write_text(str(ctx.params.get("i", 0)))


@component(inputs={"data": "generic"}, outputs={"out": "generic"})
def noop_after(ctx):
    (ctx.output_dir("out") / "value.txt").write_text(str(ctx.params.get("i", 0)))
'''


def pipeline_yaml(shape: str, n: int) -> str:
    lines = [f"pipeline: noop-{shape}", "steps:", "  s0: {component: 'steps.py:noop', params: {i: 0}}"]
    for i in range(1, n):
        upstream = f"s{i - 1}" if shape == "chain" else "s0"
        wiring = f"component: 'steps.py:noop_after', inputs: {{data: {upstream}.out}}, params: {{i: {i}}}"
        lines.append(f"  s{i}: {{{wiring}}}")
    return "\n".join(lines) + "\n"


def make_project(folder: Path, shape: str, n: int) -> Path:
    """A fresh project with its metadata store already created, so no timed run pays for migrations."""
    from modelyard.settings import Settings
    from modelyard.store.metadata.store import MetadataStore

    folder.mkdir(parents=True)
    (folder / "steps.py").write_text(STEPS_PY)
    (folder / "pipeline.yaml").write_text(pipeline_yaml(shape, n))
    MetadataStore.open(Settings.for_project(folder, env={}).db_url).close()
    return folder


def yard(folder: Path, *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([str(YARD), *args], cwd=folder, env=bench_env(), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"yard {' '.join(args)} failed in {folder} ({done.returncode}):\n{done.stderr[-4000:]}")
    return seconds, done.stdout


def yard_run_json(folder: Path, n: int, *, expect: str) -> float:
    """Wall seconds of ``yard run --json``, after checking every step did what the row claims (ran / reused)."""
    seconds, out = yard(folder, "run", "--json")
    report = json.loads(out)
    states = {step["state"] for step in report["steps"]}
    if report["status"] != "complete" or states != {expect} or len(report["steps"]) != n:
        raise SystemExit(f"unexpected run in {folder}: status {report['status']}, states {states}")
    return seconds


def in_process_run(folder: Path, n: int, *, expect: str) -> float:
    from modelyard.pipeline.plan import plan_pipeline
    from modelyard.pipeline.runner import LocalRunner
    from modelyard.pipeline.spec import load_pipeline
    from modelyard.settings import Settings

    started = time.perf_counter()
    plan = plan_pipeline(load_pipeline(folder / "pipeline.yaml"))
    report = LocalRunner(Settings.for_project(folder, env={})).run(plan)
    seconds = time.perf_counter() - started
    states = {step.state for step in report.steps.values()}
    if report.status != "complete" or states != {expect} or len(report.steps) != n:
        raise SystemExit(f"unexpected in-process run in {folder}: status {report.status}, states {states}")
    return seconds


def measure_one_step(root: Path, rounds: int) -> dict[str, float]:
    """``yard run`` of a one-step project: the fixed cost that the marginal per-step figure subtracts."""
    first, reused = [], []
    for r in range(rounds):
        project = make_project(root / f"one-sub-{r}", "chain", 1)
        first.append(yard_run_json(project, 1, expect="done"))
        reused.append(yard_run_json(project, 1, expect="reused"))
    return {"first": statistics.median(first), "reused": statistics.median(reused)}


def measure_shape(
    root: Path, shape: str, n: int, rounds: int, process_start: float, one_step: dict[str, float]
) -> dict[str, Any]:
    sub_first, sub_reuse, in_first, in_reuse = [], [], [], []
    for r in range(rounds):
        project = make_project(root / f"{shape}-sub-{r}", shape, n)
        sub_first.append(yard_run_json(project, n, expect="done"))
        sub_reuse.append(yard_run_json(project, n, expect="reused"))
        project = make_project(root / f"{shape}-in-{r}", shape, n)
        in_first.append(in_process_run(project, n, expect="done"))
        in_reuse.append(in_process_run(project, n, expect="reused"))
    figures: dict[str, Any] = {"shape": shape, "steps": n, "rounds": rounds}
    for label, sub, inp in (("first", sub_first, in_first), ("reused", sub_reuse, in_reuse)):
        wall, inside = statistics.median(sub), statistics.median(inp)
        figures[label] = {
            "yard_run_wall_s": wall,
            "per_step_s": (wall - process_start) / n,
            "marginal_per_step_s": (wall - one_step[label]) / (n - 1),
            "in_process_s": inside,
            "in_process_per_step_s": inside / n,
        }
    return figures


def measure_penguins(root: Path, repeat: int) -> dict[str, Any]:
    from modelyard.pipeline.plan import plan_pipeline
    from modelyard.pipeline.runner import LocalRunner
    from modelyard.pipeline.spec import load_pipeline
    from modelyard.settings import Settings

    project = root / "penguins"
    yard(root, "init", str(project), "--example", "penguins")
    first, _ = yard(project, "run")
    reruns = [yard(project, "run")[0] for _ in range(repeat)]
    check = median_wall([YARD, "run", "--check"], repeat, cwd=project)
    inside = []
    for _ in range(repeat):
        started = time.perf_counter()
        definition = load_pipeline(project / "pipeline.yaml")
        plan = plan_pipeline(definition)
        report = LocalRunner(Settings.for_project(project, env={}), workers=definition.spec.workers).run(plan)
        inside.append(time.perf_counter() - started)
        # Steps with side effects (push registers a model) are not cacheable and run every time, by design.
        uncached = sorted(name for name, planned in plan.steps.items() if not planned.component.cacheable)
        if report.status != "complete" or report.reused != len(report.steps) - len(uncached):
            raise SystemExit(f"the penguins re-run was not fully reused: {report.status}, {report.reused} reused")
    return {
        "steps": len(report.steps),
        "not_cacheable": uncached,
        "first_run_wall_s": first,
        "rerun_wall_s": statistics.median(reruns),
        "check_wall_s": check,
        "rerun_in_process_s": statistics.median(inside),
        "repeat": repeat,
    }


def measure(args: argparse.Namespace) -> dict[str, Any]:
    say = (lambda text: None) if args.json else (lambda text: print(text, file=sys.stderr))
    with tempfile.TemporaryDirectory(prefix="modelyard-engine-") as tmp:
        root = Path(tmp)
        say("store creation and process start...")
        started = time.perf_counter()
        one = make_project(root / "one", "chain", 1)
        store_create = time.perf_counter() - started
        process_start = median_wall([YARD, "run", "--check"], args.repeat, cwd=one)
        in_process_run(one, 1, expect="done")  # warm this process: imports, first pool start
        one_step = measure_one_step(root, args.rounds)
        shapes = []
        for shape in ("chain", "fanout"):
            say(f"{shape} of {args.steps} no-op steps, {args.rounds} round(s)...")
            shapes.append(measure_shape(root, shape, args.steps, args.rounds, process_start, one_step))
        penguins = None
        if not args.no_penguins:
            say(f"penguins example, re-run x {args.penguins_repeat}...")
            penguins = measure_penguins(root, args.penguins_repeat)
        shutil.rmtree(root, ignore_errors=True)
    return {
        "machine": machine(),
        "store_create_s": store_create,
        "process_start_s": process_start,
        "one_step_yard_run_s": one_step,
        "shapes": shapes,
        "penguins": penguins,
    }


def ms(value: float) -> str:
    return f"{value * 1000:,.1f} ms"


def show(figures: dict[str, Any]) -> None:
    m = figures["machine"]
    start = figures["process_start_s"]
    one = figures["one_step_yard_run_s"]
    rows = []
    for shape in figures["shapes"]:
        first, reused = shape["first"], shape["reused"]
        for label, f in (("first run", first), ("re-run, all reused", reused)):
            rows.append(
                [
                    f"{shape['shape']} x{shape['steps']}: {label}",
                    fmt_seconds(f["yard_run_wall_s"]),
                    ms(f["per_step_s"]),
                    ms(f["marginal_per_step_s"]),
                    fmt_seconds(f["in_process_s"]),
                    ms(f["in_process_per_step_s"]),
                    "" if f is first else fmt_ratio(ratio(first["in_process_s"], reused["in_process_s"])),
                ]
            )
    chain, fan = figures["shapes"]
    notes = [
        f"process start = `yard run --check` on a 1-step project: {fmt_seconds(start)} (median); "
        f"per step = (wall - process start) / N; creating a project's store (migrations): "
        f"{fmt_seconds(figures['store_create_s'])}, done before timing",
        f"marginal = (wall - wall of a 1-step project) / (N - 1), the fixed cost of a run left out; 1-step "
        f"yard run: {fmt_seconds(one['first'])} first, {fmt_seconds(one['reused'])} reused",
        f"fan-out vs chain, first run per step (in-process): "
        f"{fmt_ratio(ratio(fan['first']['in_process_per_step_s'], chain['first']['in_process_per_step_s']))}; "
        f"medians of {chain['rounds']} round(s), each on a fresh project",
    ]
    title = f"Engine overhead per no-op step (Python {m['python']}, {m['cpus']} CPUs, 2 workers)"
    columns = ["pipeline", "yard run wall", "per step", "marginal", "in-process", "per step", "reuse speed-up"]
    print_table(title, columns, rows, notes)
    penguins = figures["penguins"]
    if penguins:
        rows = [
            ["yard run, first run (steps execute)", fmt_seconds(penguins["first_run_wall_s"]), ""],
            [
                "yard run, fully reused re-run (median)",
                fmt_seconds(penguins["rerun_wall_s"]),
                fmt_ratio(ratio(penguins["first_run_wall_s"], penguins["rerun_wall_s"])) + " faster than first",
            ],
            [
                "yard run --check (process start + load + plan)",
                fmt_seconds(penguins["check_wall_s"]),
                f"{penguins['check_wall_s'] / penguins['rerun_wall_s']:.0%} of the re-run",
            ],
            [
                "in-process re-run (load + plan + runner, median)",
                fmt_seconds(penguins["rerun_in_process_s"]),
                f"{penguins['rerun_in_process_s'] / penguins['rerun_wall_s']:.0%} of the re-run",
            ],
        ]
        title = f"Penguins example ({penguins['steps']} steps), median of {penguins['repeat']}"
        notes = []
        if penguins["not_cacheable"]:
            names = ", ".join(penguins["not_cacheable"])
            notes.append(f"every cacheable step is reused; not cacheable, so run each time by design: {names}")
        print_table(title, ["measure", "time", "ratio"], rows, notes)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20 steps, 1 round, penguins re-run x 3")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of tables")
    parser.add_argument("--steps", type=int, help="no-op steps per pipeline (default 50; 20 with --quick)")
    parser.add_argument("--rounds", type=int, help="fresh projects per shape, median taken (default 3; 1 --quick)")
    parser.add_argument("--repeat", type=int, help="process-start timings, median taken (default 7; 3 --quick)")
    parser.add_argument("--penguins-repeat", type=int, help="penguins re-runs, median taken (default 5; 3 --quick)")
    parser.add_argument("--no-penguins", action="store_true", help="skip the penguins example")
    args = parser.parse_args(argv)
    args.steps = args.steps or (20 if args.quick else 50)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.repeat = args.repeat or (3 if args.quick else 7)
    args.penguins_repeat = args.penguins_repeat or (3 if args.quick else 5)
    if args.steps < 2:
        parser.error("--steps must be at least 2 (a chain and a fan-out need a root and one more step)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not YARD.exists():
        raise SystemExit(f"{YARD} not found: run this with the project's venv python (.venv/bin/python)")
    figures = measure(args)
    if args.json:
        emit_json(figures)
    else:
        show(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
