"""``yard monitor``, ``yard schedule`` and ``yard history``: watch live traffic, close the loop, tell the story."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

from modelyard.cli.context import metadata, settings_of
from modelyard.cli.output import console, emit_json
from modelyard.errors import UsageError


def register(app: typer.Typer) -> None:
    app.command("monitor")(monitor)
    app.command("schedule")(schedule)
    app.command("history")(history)


def _definition(settings: Any, pipeline: str, required: bool) -> Any:
    from modelyard.pipeline.spec import load_pipeline

    path = pipeline if ":" in pipeline or Path(pipeline).is_absolute() else str(settings.project_dir / pipeline)
    if not required and not Path(path.split(":")[0]).exists():
        return None
    return load_pipeline(path)


def _settings_for(definition: Any, name: str | None, overrides: dict[str, Any]) -> Any:
    from modelyard.monitor.config import MonitorSettings, monitor_settings

    declared = monitor_settings(definition) if definition is not None else None
    if name is None and declared is None:
        raise UsageError("name the model, or declare it in pipeline.yaml under monitor: {model: NAME}")
    if declared is not None and (name is None or name == declared.model):
        base = declared.model_dump()
    else:
        base = {"model": name}
    for key, value in overrides.items():
        if value is None:
            continue
        if key in ("log", "webhook"):
            base.setdefault("alerts", {})[key] = value
        else:
            base[key] = value
    from pydantic import ValidationError

    try:
        return MonitorSettings.model_validate(base)
    except ValidationError as exc:  # a bad command-line value: name the option
        first = exc.errors()[0]
        option = "--" + str(first["loc"][0]).replace("_", "-") if first["loc"] else "an option"
        raise UsageError(f"{option}: {first['msg'].removeprefix('Value error, ')}") from None


def monitor(
    ctx: typer.Context,
    name: str | None = typer.Argument(None, help="The registered model (default: monitor.model in pipeline.yaml)."),
    window: str | None = typer.Option(None, "--window", help="A duration (1h, 15m) or a row count (10000)."),
    reference: str | None = typer.Option(None, "--reference", help="training | a version (1.2.0) | a data file."),
    webhook: str | None = typer.Option(None, "--webhook", help="POST each alert as JSON to this URL."),
    alert_log: str | None = typer.Option(None, "--alert-log", help="JSON-lines alert file."),
    log_db: str | None = typer.Option(None, "--log-db", help="Read the log from this database (yard serve --log-db)."),
    pipeline: str = typer.Option("pipeline.yaml", "--pipeline", "-p", help="Where the monitor: section is."),
    json_out: bool = typer.Option(False, "--json", help="Print what was judged as JSON."),
) -> None:
    """Judge the model's new complete traffic windows: drift, skew, prediction drift, quality; alert once per change.

    Example: yard monitor penguins --window 1h
             yard monitor penguins --window 10000 --reference data/train.csv --json
    """
    from modelyard.monitor.service import run_monitor

    settings = settings_of(ctx)
    overrides = {"window": window, "reference": reference, "log": alert_log, "webhook": webhook, "log_db": log_db}
    config = _settings_for(_definition(settings, pipeline, required=False), name, overrides)
    echo = None if json_out else (lambda text: console.print(text, markup=False, highlight=False, soft_wrap=True))
    outcome = run_monitor(settings, config, echo=echo, progress=None if json_out else echo)
    if json_out:
        emit_json(outcome.to_dict())
        return
    _print_judged(outcome)


def _print_judged(outcome: Any) -> None:
    if not outcome.judged:
        pending = f" ({outcome.pending} window(s) still filling)" if outcome.pending else ""
        console.print(f"{outcome.model}: no new complete window to judge{pending}")
        return
    for w in outcome.judged:
        found = []
        if w["drifted"]:
            found.append("drift: " + ", ".join(w["drifted"]))
        if w["skewed"]:
            found.append(f"skew: {len(w['skewed'])} feature(s)")
        if w["prediction_drifted"]:
            found.append("prediction drift")
        if w.get("quality") and "accuracy" in w["quality"]:
            found.append(f"accuracy {w['quality']['accuracy']:.3f}")
        verdict = "; ".join(found) or "clean"
        console.print(f"window {w['index']} {w['start'][:19]} .. {w['end'][:19]}  {w['rows']} rows  v{w['version']}  "
                      f"{verdict}", markup=False)  # fmt: skip
    console.print(f"report of the last window: {outcome.judged[-1]['report']}", markup=False)
    for problem in outcome.problems:
        console.print(f"[yellow]warning:[/] {problem}")


def schedule(
    ctx: typer.Context,
    name: str | None = typer.Argument(None, help="The model (default: monitor.model in pipeline.yaml)."),
    once: bool = typer.Option(False, "--once", help="One tick: monitor, decide, act, exit with a code that says what."),
    every: str = typer.Option("10m", "--every", help="Interval between ticks when not --once (30s, 10m, 1h)."),
    ticks: int | None = typer.Option(None, "--ticks", min=1, help="Stop after this many ticks."),
    pipeline: str = typer.Option("pipeline.yaml", "--pipeline", "-p", help="The pipeline to retrain with."),
    json_out: bool = typer.Option(False, "--json", help="One JSON line per tick."),
) -> None:
    """Run the monitor and the retrain policy of pipeline.yaml's monitor: section, once or on an interval.

    Exit codes of --once: 0 nothing to do, 10 alerts or a retrain waiting, 20 retrained (challenger canaried),
    21 retrain gave no challenger, 1 retrain failed, 2 configuration error.

    Example: yard schedule --once          (from cron: */10 * * * * cd shop && yard schedule --once)
             yard schedule --every 10m
    """
    from modelyard.monitor.logwindow import WindowSpec
    from modelyard.monitor.schedule import tick

    settings = settings_of(ctx)
    definition = _definition(settings, pipeline, required=True)
    config = _settings_for(definition, name, {})
    if config.retrain is None:
        raise UsageError("monitor.retrain is off in pipeline.yaml: nothing to schedule", hint="use yard monitor")
    interval = WindowSpec.parse(every).seconds
    if interval is None:
        raise UsageError(f"--every needs a duration, got '{every}'", hint="e.g. --every 10m")
    echo = None if json_out else (lambda text: console.print(text, markup=False, highlight=False, soft_wrap=True))
    count = 0
    while True:
        outcome = tick(settings, definition, config, echo=echo)
        count += 1
        if json_out:
            emit_json(outcome.to_dict())
        else:
            _print_tick(outcome)
        if once or (ticks is not None and count >= ticks):
            if outcome.exit_code:
                raise typer.Exit(outcome.exit_code)
            return
        time.sleep(interval)


def _print_tick(outcome: Any) -> None:
    _print_judged(outcome.monitor)
    if outcome.decision is not None:
        console.print(f"decision: {outcome.decision.action} — " + "; ".join(outcome.decision.reasons), markup=False)
    if outcome.retrain is not None:
        r = outcome.retrain
        if r.get("status") == "challenger":
            console.print(f"retrained in run {r['run_id']} on {r['span_rows']} labelled rows: {r['challenger']} "
                          f"is the challenger, canary {r['canary']['percent']:g}%", markup=False)  # fmt: skip
        else:
            console.print(f"retrain: {r.get('status')} — {r.get('why')}", markup=False)
            for item in r.get("anomalies", []):
                console.print(f"  {item}", markup=False)


def history(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The registered model."),
    json_out: bool = typer.Option(False, "--json", help="Print the events as JSON."),
) -> None:
    """The story of a model: versions, promotions and rollbacks, what the monitor saw, and every decision.

    Example: yard history penguins
    """
    from modelyard.monitor.history import model_history

    with metadata(ctx) as store:
        events = model_history(store, name)
    if json_out:
        emit_json([e.to_dict() for e in events])
        return
    for event in events:
        when = event.to_dict()["at"].replace("T", " ")[:19] if event.at != float("inf") else " " * 19
        console.print(f"{when}  {event.text}", markup=False, highlight=False, soft_wrap=True)
