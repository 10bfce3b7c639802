"""The ``yard`` command: global options, the sub-command groups, and the one place errors become exit codes.

Exit codes: 0 success, 1 a step or check failed, 2 a usage or configuration error, 130 interrupted.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from modelyard.cli import (
    data_commands,
    deploy_commands,
    models_commands,
    monitor_commands,
    project_commands,
    runs_commands,
    serve_commands,
)
from modelyard.cli.context import Globals
from modelyard.cli.output import errors
from modelyard.errors import ModelyardError

app = typer.Typer(
    name="yard",
    help="modelyard: pipelines with lineage and caching, tracking and a model registry.\n\n"
    "Example: yard init shop --example penguins && cd shop && yard run",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)


@app.callback()
def main(
    ctx: typer.Context,
    project: Path | None = typer.Option(
        None, "--project", "-C", help="Project folder (default: the nearest one with pipeline.yaml or .modelyard/)."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show the full traceback on errors."),
) -> None:
    """Global options apply to every command."""
    ctx.obj = Globals(project=project, debug=debug)


project_commands.register(app)
data_commands.register(app)
runs_commands.register(app)
serve_commands.register(app)
deploy_commands.register(app)
models_commands.register(app)
monitor_commands.register(app)


def run(argv: list[str] | None = None) -> None:
    """Entry point of the console script: maps modelyard errors to one line and an exit code."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        code = app(args=args, prog_name="yard", standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except ModelyardError as exc:
        if debug:
            raise
        errors.print(f"[bold red]error:[/] {exc.one_line()}", markup=True, highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        errors.print("interrupted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        errors.print("aborted")
        sys.exit(130)
    except typer.TyperException as exc:  # usage mistakes: unknown command, bad option value
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            errors.print(f"error: {exc}")
        sys.exit(2)
    except Exception as exc:
        if debug:
            raise
        errors.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc} (run with --debug for the traceback)")
        sys.exit(3)
