"""``yard runs``, ``yard artifacts`` and ``yard lineage``: what ran and where things came from."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table
from rich.tree import Tree

from modelyard.cli.context import metadata
from modelyard.cli.output import console, emit_json, seconds, size, when
from modelyard.errors import NotFound, UsageError


def register(app: typer.Typer) -> None:
    runs = typer.Typer(help="Pipeline and tracking runs.\n\nExample: yard runs list --limit 5", no_args_is_help=True)
    runs.command("list")(runs_list)
    runs.command("show")(runs_show)
    app.add_typer(runs, name="runs")
    artifacts = typer.Typer(help="Stored artifacts.\n\nExample: yard artifacts list --type model", no_args_is_help=True)
    artifacts.command("list")(artifacts_list)
    app.add_typer(artifacts, name="artifacts")
    app.command("lineage")(lineage)


def _run_dict(run: Any) -> dict[str, Any]:
    return {
        k: getattr(run, k)
        for k in (
            "id",
            "kind",
            "name",
            "pipeline",
            "experiment",
            "status",
            "started_at",
            "ended_at",
            "error",
            "parent_run_id",
        )
    }


def runs_list(
    ctx: typer.Context,
    pipeline: str | None = typer.Option(None, help="Only runs of this pipeline."),
    status: str | None = typer.Option(None, help="Only runs with this status (running, complete, failed, ...)."),
    limit: int = typer.Option(20, min=1, help="How many, newest first."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List runs, newest first.

    Example: yard runs list --pipeline penguins --json
    """
    with metadata(ctx) as store:
        runs = store.list_runs(pipeline=pipeline, status=status, limit=limit)
    if json_out:
        emit_json([_run_dict(run) for run in runs])
        return
    table = Table("run", "kind", "pipeline / name", "status", "started", "duration")
    for run in runs:
        duration = (run.ended_at - run.started_at) if run.ended_at and run.started_at else None
        if duration is not None and hasattr(duration, "total_seconds"):
            duration = duration.total_seconds()
        table.add_row(
            run.id,
            run.kind,
            run.pipeline or run.name or "",
            _status(run.status),
            when(run.started_at),
            seconds(duration),
        )
    console.print(table if runs else "no runs yet: try 'yard run'")


def _status(status: str) -> str:
    color = {"complete": "green", "failed": "red", "crashed": "red", "cancelled": "yellow", "running": "cyan"}
    return f"[{color.get(status, 'white')}]{status}[/]"


def runs_show(
    ctx: typer.Context,
    run_id: str = typer.Argument(..., help="Run id (a unique prefix is enough)."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a run: its steps (reused or not, time, CPU, memory), params and latest metrics.

    Example: yard runs show 3f2a
    """
    with metadata(ctx) as store:
        run = store.get_run(run_id)
        executions = store.list_executions(run.id)
        params, metrics, tags = store.get_params(run.id), store.latest_metrics(run.id), store.get_tags(run.id)
    if json_out:
        emit_json(
            {
                **_run_dict(run),
                "params": params,
                "metrics": metrics,
                "tags": tags,
                "executions": [_execution_dict(e) for e in executions],
            }
        )
        return
    console.print(f"run [bold]{run.id}[/] · {run.kind} · {run.pipeline or run.name or ''} · {_status(run.status)}")
    if run.error:
        console.print(f"[red]{run.error}[/]", highlight=False)
    if executions:
        table = Table("step", "component", "status", "wall", "cpu", "peak mem", "outputs")
        for e in executions:
            outs = ", ".join(f"{k}={ref.digest[:10]}" for k, ref in e.outputs.items())
            table.add_row(
                e.step,
                e.component,
                _status(e.status),
                seconds(e.wall_seconds),
                seconds(e.cpu_seconds),
                size(e.peak_memory_bytes),
                outs,
            )
        console.print(table)
    for title, values in (("params", params), ("metrics", metrics), ("tags", tags)):
        if values:
            console.print(
                f"[bold]{title}[/]: "
                + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in sorted(values.items())),
                highlight=False,
            )


def _execution_dict(e: Any) -> dict[str, Any]:
    fields = (
        "id",
        "step",
        "component",
        "status",
        "params",
        "code_fingerprint",
        "cache_key",
        "started_at",
        "ended_at",
        "cpu_seconds",
        "peak_memory_bytes",
        "wall_seconds",
        "error",
        "cached_from",
        "attempts",
        "tags",
        "environment",
    )
    return {
        **{k: getattr(e, k, None) for k in fields},
        "inputs": {k: _ref_dict(r) for k, r in e.inputs.items()},
        "outputs": {k: _ref_dict(r) for k, r in e.outputs.items()},
    }


def _ref_dict(ref: Any) -> dict[str, Any]:
    return {"id": ref.id, "type": str(ref.type), "uri": ref.uri, "digest": ref.digest, "properties": ref.properties}


def artifacts_list(
    ctx: typer.Context,
    type: str | None = typer.Option(None, "--type", help="Only this type (dataset, model, statistics, ...)."),
    limit: int = typer.Option(50, min=1),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List stored artifacts, newest first.

    Example: yard artifacts list --type model
    """
    with metadata(ctx) as store:
        refs = store.list_artifacts(type=type, limit=limit)
    if json_out:
        emit_json([_ref_dict(ref) for ref in refs])
        return
    table = Table("id", "type", "digest", "properties", "uri")
    for ref in refs:
        props = ", ".join(f"{k}={v}" for k, v in ref.properties.items() if not isinstance(v, list | dict))
        table.add_row(str(ref.id), str(ref.type), ref.digest[:12], props[:60], ref.uri)
    console.print(table)


def _resolve_target(store: Any, target: str) -> tuple[int, str]:
    """An artifact id, a digest prefix, or a model (NAME, NAME@alias, NAME/1.0.0) -> (artifact id, label)."""
    from modelyard.registry.loader import parse_model_uri
    from modelyard.registry.registry import Registry

    if target.isdigit():
        return store.get_artifact(int(target)).id, f"artifact {target}"
    name_part = target.split("@")[0].split("/")[0]
    if name_part in store.list_registered_models():
        uri = target if target.startswith("models:/") else f"models:/{target}"
        name, selector = parse_model_uri(uri)
        version = Registry(store).resolve(name, selector)
        return version.artifact_id, f"model {name} {version.version} ({selector})"
    matches = store.find_artifacts_by_digest(target) if len(target) >= 6 else []
    if len(matches) == 1:
        return matches[0].id, f"artifact {matches[0].digest[:12]}"
    if len(matches) > 1:
        raise UsageError(f"digest prefix '{target}' matches {len(matches)} artifacts", hint="give more characters")
    raise NotFound(
        f"no model or artifact '{target}'",
        hint="give a model name (penguins, penguins@champion, penguins/1.0.0), an artifact id or a digest",
    )


def lineage(
    ctx: typer.Context,
    target: str = typer.Argument(..., help="Model (NAME, NAME@alias, NAME/VERSION), artifact id or digest prefix."),
    downstream: bool = typer.Option(False, "--downstream", help="What was made from it, instead of what made it."),
    json_out: bool = typer.Option(False, "--json", help="Print the graph as JSON."),
) -> None:
    """Where an artifact or model came from: the chain of steps and artifacts back to the raw data.

    Example: yard lineage penguins        (the champion, back to data/penguins.csv and its sha256)
    """
    with metadata(ctx) as store:
        artifact_id, label = _resolve_target(store, target)
        graph = store.lineage(artifact_id, direction="downstream" if downstream else "upstream")
    if json_out:
        emit_json({"target": target, "resolved": label, **graph.to_dict()})
        return
    root = graph.nodes[graph.root]
    tree = Tree(f"[bold]{label}[/] {_node_label(root)}")
    _grow(tree, graph, graph.root, downstream, set())
    console.print(tree)


def _node_label(node: Any) -> str:
    props = node.properties
    if node.kind == "artifact":
        text = f"[cyan]{props.get('type', '')}[/] {props.get('digest', '')[:12]}"
        if props.get("type") == "file":
            text = f"[cyan]file[/] {props.get('uri', '')} sha256:{props.get('digest', '')}"
        return text
    status = props.get("status", "")
    return (
        f"[magenta]step {props.get('step', node.label)}[/] ({props.get('component', '')}, {status}, "
        f"run {props.get('run_id', '')})"
    )


def _grow(branch: Tree, graph: Any, key: str, downstream: bool, seen: set[str]) -> None:
    for node in graph.children(key) if downstream else graph.parents(key):
        child = branch.add(_node_label(node) + (" (see above)" if node.key in seen else ""))
        if node.key not in seen:
            seen.add(node.key)
            _grow(child, graph, node.key, downstream, seen)
