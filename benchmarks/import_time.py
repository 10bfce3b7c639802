"""What starting modelyard costs next to MLflow: ``import``, the CLI's ``--help``, the first tracking imports.

Why it matters: ``import modelyard`` runs in every notebook cell restart, every worker process and every
``yard`` command; MLflow's slow import is one of the things the guide says to avoid. Each figure is the
median of fresh processes. ``-X importtime`` gives the interpreter's own account of the import (self and
cumulative microseconds of the top-level package, and how many modules it pulled in); the wall times
include interpreter start-up, shown on its own row. MLflow runs from its own venv
(benchmarks/peers/.venv-mlflow, created on first use from benchmarks/peers/mlflow-requirements.txt).

Examples:
    .venv/bin/python benchmarks/import_time.py            # median of 7
    .venv/bin/python benchmarks/import_time.py --quick    # median of 3
    .venv/bin/python benchmarks/import_time.py --json
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from peers.harness import (
    bench_env,
    emit_json,
    fmt_ratio,
    fmt_seconds,
    machine,
    median_wall,
    mlflow_python,
    peer_version,
    print_table,
    ratio,
)

# What the house rules keep out of `import modelyard`; reported if any of them shows up in the import tree.
HEAVY = {"pandas", "sklearn", "duckdb", "sqlalchemy", "pyarrow", "numpy", "alembic", "scipy", "starlette"}


@dataclass(frozen=True)
class ImportTree:
    """One top-level import as ``-X importtime`` reports it."""

    self_us: int
    cumulative_us: int
    modules: int  # modules imported by it, itself included
    heavy: tuple[str, ...]  # heavy top-level packages found among them


def parse_importtime(stderr: str, package: str) -> ImportTree:
    """The subtree of ``package`` in ``-X importtime`` output.

    The output lists each module after the modules it imported, indented by depth; the package's own line is
    at depth 0, so its subtree is every deeper line since the previous depth-0 line.
    """
    subtree: list[str] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        self_text, cumulative_text, name_text = line[len("import time:") :].split("|")
        name = name_text.rstrip()
        depth = (len(name) - len(name.lstrip())) // 2
        name = name.strip()
        if depth > 0:
            subtree.append(name)
            continue
        if name == package:
            tops = sorted({module.split(".")[0] for module in subtree} & HEAVY)
            return ImportTree(int(self_text), int(cumulative_text), len(subtree) + 1, tuple(tops))
        subtree = []
    raise SystemExit(f"no top-level '{package}' import in the -X importtime output:\n{stderr[-2000:]}")


def importtime(python: Path | str, package: str, repeat: int) -> ImportTree:
    """The median run (by cumulative time) of ``repeat`` fresh ``python -X importtime -c 'import package'``."""
    trees = []
    for _ in range(repeat):
        done = subprocess.run(
            [str(python), "-X", "importtime", "-c", f"import {package}"],
            env=bench_env(),
            capture_output=True,
            text=True,
            check=True,
        )
        trees.append(parse_importtime(done.stderr, package))
    trees.sort(key=lambda tree: tree.cumulative_us)
    return trees[len(trees) // 2]


def measure(args: argparse.Namespace) -> dict[str, Any]:
    mine = Path(sys.executable)
    yard = mine.with_name("yard")
    peer = mlflow_python(quiet=args.json)
    mlflow_cli = peer.with_name("mlflow")
    n = args.repeat
    say = (lambda text: None) if args.json else (lambda text: print(text, file=sys.stderr))
    say(f"timing fresh processes, median of {n}...")
    walls = {
        "python_start": (median_wall([mine, "-c", "pass"], n), median_wall([peer, "-c", "pass"], n)),
        "import": (median_wall([mine, "-c", "import modelyard"], n), median_wall([peer, "-c", "import mlflow"], n)),
        "cli_help": (median_wall([yard, "--help"], n), median_wall([mlflow_cli, "--help"], n)),
        # What the first log_metric pays on top of the import: each tool's SQL tracking store and its deps.
        "import_tracking_store": (
            median_wall([mine, "-c", "import modelyard.tracking.runs, modelyard.store.metadata.store"], n),
            median_wall([peer, "-c", "import mlflow, mlflow.store.tracking.sqlalchemy_store"], n),
        ),
    }
    trees = {"modelyard": importtime(mine, "modelyard", n), "mlflow": importtime(peer, "mlflow", n)}
    return {
        "machine": machine(),
        "repeat": n,
        "mlflow_version": peer_version(peer, "mlflow"),
        "wall_s": {key: {"modelyard": a, "mlflow": b} for key, (a, b) in walls.items()},
        "importtime": {key: asdict(tree) for key, tree in trees.items()},
    }


def show(figures: dict[str, Any]) -> None:
    wall, tree = figures["wall_s"], figures["importtime"]
    my_tree, ml_tree = tree["modelyard"], tree["mlflow"]

    def wall_row(label: str, key: str) -> list[str]:
        pair = wall[key]
        return [
            label,
            fmt_seconds(pair["modelyard"]),
            fmt_seconds(pair["mlflow"]),
            fmt_ratio(ratio(pair["mlflow"], pair["modelyard"])),
        ]

    net = {side: wall["import"][side] - wall["python_start"][side] for side in ("modelyard", "mlflow")}
    rows = [
        [
            "import X: cumulative (-X importtime)",
            fmt_seconds(my_tree["cumulative_us"] / 1e6),
            fmt_seconds(ml_tree["cumulative_us"] / 1e6),
            fmt_ratio(ratio(ml_tree["cumulative_us"], my_tree["cumulative_us"])),
        ],
        [
            "import X: self, top-level module only",
            fmt_seconds(my_tree["self_us"] / 1e6),
            fmt_seconds(ml_tree["self_us"] / 1e6),
            fmt_ratio(ratio(ml_tree["self_us"], my_tree["self_us"])),
        ],
        [
            "import X: modules loaded",
            f"{my_tree['modules']:,}",
            f"{ml_tree['modules']:,}",
            fmt_ratio(ratio(ml_tree["modules"], my_tree["modules"])),
        ],
        wall_row("python -c 'import X' (wall)", "import"),
        wall_row("python -c 'pass' (interpreter start)", "python_start"),
        [
            "import wall minus interpreter start",
            fmt_seconds(net["modelyard"]),
            fmt_seconds(net["mlflow"]),
            fmt_ratio(ratio(net["mlflow"], net["modelyard"])),
        ],
        wall_row("yard --help / mlflow --help (wall)", "cli_help"),
        wall_row("import + SQL tracking store (wall)", "import_tracking_store"),
    ]
    heavy = ", ".join(my_tree["heavy"]) or "none"
    notes = [
        "ratio = MLflow's time / modelyard's (how many times faster modelyard starts)",
        f"heavy libraries pulled in by `import modelyard`: {heavy}",
        "last row: `import modelyard.tracking.runs, modelyard.store.metadata.store` vs "
        "`import mlflow, mlflow.store.tracking.sqlalchemy_store`, what a first log_metric needs",
    ]
    m = figures["machine"]
    title = (
        f"Import and start-up: modelyard vs MLflow {figures['mlflow_version']}, median of {figures['repeat']} "
        f"(Python {m['python']}, {m['cpus']} CPUs)"
    )
    print_table(title, ["measure", "modelyard", "MLflow", "ratio"], rows, notes)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="median of 3 runs instead of 7")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    parser.add_argument("--repeat", type=int, help="fresh processes per figure (default 7; 3 with --quick)")
    args = parser.parse_args(argv)
    args.repeat = args.repeat or (3 if args.quick else 7)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not Path(sys.executable).with_name("yard").exists():
        raise SystemExit("run this with the project's venv python (.venv/bin/python): `yard` is not beside it")
    figures = measure(args)
    if args.json:
        emit_json(figures)
    else:
        show(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
