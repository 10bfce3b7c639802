"""``yard init``, ``yard run`` and ``yard db``: make a project, run its pipeline, manage its database."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import typer

from modelyard.cli.context import settings_of
from modelyard.cli.output import console, emit_json, errors
from modelyard.errors import UsageError, did_you_mean

EXAMPLES = ("penguins",)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("run")(run)
    db = typer.Typer(
        help="The metadata database: create or migrate it.\n\nExample: yard db upgrade", no_args_is_help=True
    )
    db.command("upgrade")(db_upgrade)
    db.command("current")(db_current)
    app.add_typer(db, name="db")


def init(
    ctx: typer.Context,
    directory: Path = typer.Argument(..., help="Folder to create (or an empty existing one)."),
    example: str = typer.Option("penguins", "--example", "-e", help=f"Example to start from: {', '.join(EXAMPLES)}."),
    force: bool = typer.Option(False, "--force", help="Write into a folder that is not empty."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Scaffold a project: pipeline.yaml, a data file and a train function, and an empty metadata store.

    Example: yard init shop --example penguins && cd shop && yard run
    """
    from modelyard.settings import Settings
    from modelyard.store.metadata.store import MetadataStore

    if example not in EXAMPLES:
        raise UsageError(f"unknown example '{example}'", hint=did_you_mean(example, EXAMPLES))
    target = directory.resolve()
    if target.exists() and any(target.iterdir()) and not force:
        raise UsageError(f"{target} is not empty", hint="choose a new folder or pass --force")
    source = resources.files("modelyard") / "examples" / example
    with resources.as_file(source) as folder:
        shutil.copytree(folder, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", ".modelyard"))
    settings = Settings.for_project(target)
    store = MetadataStore.open(settings.db_url, create=True)
    store.close()
    files = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file() and ".modelyard" not in p.parts)
    if json_out:
        emit_json({"project": str(target), "example": example, "files": files, "db": settings.db_url})
        return
    console.print(f"Created project [bold]{target}[/] from the '{example}' example:")
    for name in files:
        console.print(f"  {name}")
    console.print(f"\nNext: cd {directory} && yard run")


def run(
    ctx: typer.Context,
    pipeline: str = typer.Option(
        "pipeline.yaml", "--pipeline", "-p", help="Pipeline file: YAML, or Python as file.py:attribute."
    ),
    resume: str | None = typer.Option(None, "--resume", help="Continue a failed or interrupted run (its id)."),
    workers: int | None = typer.Option(None, "--workers", "-w", min=1, help="Steps to run at once."),
    json_out: bool = typer.Option(False, "--json", help="Print the run report as JSON (no live display)."),
    check: bool = typer.Option(False, "--check", help="Only check the pipeline; run nothing."),
) -> None:
    """Run the project's pipeline: steps whose code, parameters and inputs are unchanged are reused.

    Example: yard run        (then again: every step is reused)
             yard run --resume 3f2a9c1b
    """
    from modelyard.pipeline.plan import plan_pipeline
    from modelyard.pipeline.runner import LocalRunner
    from modelyard.pipeline.spec import load_pipeline

    settings = settings_of(ctx)
    path = pipeline if ":" in pipeline or Path(pipeline).is_absolute() else str(settings.project_dir / pipeline)
    definition = load_pipeline(path)
    plan = plan_pipeline(definition)
    if check:
        if json_out:
            emit_json({"pipeline": plan.name, "ok": True, "steps": list(plan.steps)})
        else:
            console.print(f"pipeline '{plan.name}' is valid: {' -> '.join(plan.steps)}")
        return
    workers = workers or definition.spec.workers or settings.workers
    observer = _observer(json_out)
    report = LocalRunner(settings, observer=observer, workers=workers).run(plan, resume=resume)
    if json_out:
        emit_json(_report_json(report))
    else:
        _summary(report, settings)
    if report.status != "complete":
        raise typer.Exit(1)


def _observer(json_out: bool):  # type: ignore[no-untyped-def]
    from modelyard.cli.run_display import LineObserver, LiveObserver
    from modelyard.pipeline.events import SilentObserver

    if json_out:
        return SilentObserver()
    return LiveObserver(console) if console.is_terminal else LineObserver(console)


def _report_json(report) -> dict:  # type: ignore[no-untyped-def]
    return {
        "run_id": report.run_id,
        "pipeline": report.pipeline,
        "status": report.status,
        "seconds": round(report.seconds, 3),
        "reused": report.reused,
        "steps": [
            {
                "name": s.name,
                "component": s.component,
                "state": s.state,
                "seconds": s.seconds,
                "note": s.note,
                "reason": s.reason,
                "error": s.error,
                "execution_id": s.execution_id,
            }
            for s in report.steps.values()
        ],
    }


def _summary(report, settings) -> None:  # type: ignore[no-untyped-def]
    total = len(report.steps)
    if report.status == "complete":
        reused = f", {report.reused} of {total} reused" if report.reused else ""
        console.print(f"[green]run {report.run_id} complete[/] in {report.seconds:.1f}s{reused}")
    else:
        failed = [s for s in report.steps.values() if s.error]
        errors.print(f"[red]run {report.run_id} {report.status}[/]")
        for step in failed:
            errors.print(f"  step '{step.name}': {step.error}", highlight=False)
        errors.print(f"  fix it, then: yard run --resume {report.run_id}", highlight=False)
        return
    _print_outputs(report, settings)


def _print_outputs(report, settings) -> None:  # type: ignore[no-untyped-def]
    """Where the model and the reports are: what a person wants after a run."""
    from modelyard.store.artifacts import ArtifactStore
    from modelyard.store.metadata.store import MetadataStore

    store = MetadataStore.open(settings.db_url, create=False)
    artifacts = ArtifactStore.open(settings.store_url)

    def shown(path: Path) -> str:
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    try:
        for execution in store.list_executions(report.run_id):
            for name, ref in execution.outputs.items():
                if ref.type in ("model",):
                    console.print(
                        f"  model ({execution.step}.{name}): {shown(artifacts.local_path(ref.digest))}", soft_wrap=True
                    )
                path = (
                    artifacts.local_path(ref.digest) / "report.html"
                    if ref.type in ("statistics", "anomalies", "evaluation")
                    else None
                )
                if path is not None and path.is_file():
                    console.print(f"  report ({execution.step}.{name}): {shown(path)}", soft_wrap=True)
        for step in report.steps.values():
            if step.component == "push" and step.note:
                console.print(f"  registry: {step.note}")
    finally:
        store.close()


def db_upgrade(ctx: typer.Context) -> None:
    """Create the metadata database or migrate it to this version of modelyard.

    Example: MODELYARD_DB=postgresql://localhost/ml yard db upgrade
    """
    from modelyard.store.metadata import upgrade_database

    settings = settings_of(ctx)
    revision = upgrade_database(settings.db_url)
    console.print(f"the metadata database is at revision {revision}")


def db_current(ctx: typer.Context, json_out: bool = typer.Option(False, "--json")) -> None:
    """Show the database URL and its migration revision.

    Example: yard db current --json
    """
    from modelyard.store.metadata.store import MetadataStore

    store = MetadataStore.open(settings_of(ctx).db_url, create=False)
    revision = store.current_revision()
    if json_out:
        emit_json({"url": store.url, "revision": revision})
    else:
        console.print(f"{store.url}: revision {revision}")
    store.close()
