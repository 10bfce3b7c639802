"""``yard models``: the registry from the command line: list, show (with lineage), promote, rollback, diff.

Every command prints a table for people and, with ``--json``, one JSON document for scripts. Moves
(promote, rollback) record who ran them and why, so ``yard models show`` can tell the whole story.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from modelyard.cli.context import metadata, settings_of
from modelyard.cli.output import console, emit_json, when
from modelyard.errors import NotFound, did_you_mean

_JSON = typer.Option(False, "--json", help="Print JSON.")


def register(app: typer.Typer) -> None:
    models = typer.Typer(
        help="The model registry: versions, aliases and their history.\n\n"
        "Example: yard models promote penguins 1.1.0 --alias champion --reason 'better on Dream'",
        no_args_is_help=True,
    )
    models.command("list")(models_list)
    models.command("show")(models_show)
    models.command("promote")(models_promote)
    models.command("rollback")(models_rollback)
    models.command("diff")(models_diff)
    app.add_typer(models, name="models")


def _require_model(store: Any, name: str) -> None:
    known = store.list_registered_models()
    if name not in known:
        raise NotFound(f"no model named '{name}'", hint=did_you_mean(name, known) or "yard models list shows them")


def _artifacts(ctx: typer.Context) -> Any:
    from modelyard.store.artifacts import ArtifactStore

    return ArtifactStore.open(settings_of(ctx).store_url)


def models_list(ctx: typer.Context, json_out: bool = _JSON) -> None:
    """Registered models with their latest version and aliases.

    Example: yard models list --json
    """
    with metadata(ctx) as store:
        rows = []
        for name in store.list_registered_models():
            versions = store.list_model_versions(name)
            rows.append(
                {
                    "name": name,
                    "versions": len(versions),
                    "latest": versions[-1].version if versions else None,
                    "aliases": store.aliases(name),
                }
            )
    if json_out:
        emit_json(rows)
        return
    table = Table("model", "versions", "latest", "aliases")
    for row in rows:
        aliases = ", ".join(f"{a}={v}" for a, v in sorted(row["aliases"].items()))
        table.add_row(row["name"], str(row["versions"]), row["latest"] or "", aliases)
    console.print(table if rows else "no models registered yet")


def _split_target(target: str) -> tuple[str, str | None]:
    """``penguins`` -> (penguins, None); ``penguins/1.0.0`` and ``penguins@champion`` -> (name, selector)."""
    for sep in ("/", "@"):
        if sep in target:
            name, selector = target.split(sep, 1)
            return name, selector
    return target, None


def _show_model(store: Any, name: str, json_out: bool) -> None:
    versions = store.list_model_versions(name)
    history = store.alias_history(name)
    aliases = store.aliases(name)
    if json_out:
        emit_json({"name": name, "aliases": aliases, "versions": versions, "history": history})
        return
    table = Table("version", "digest", "run", "created", "aliases", title=f"model {name}")
    for v in versions:
        tagged = ", ".join(a for a, ver in aliases.items() if ver == v.version)
        table.add_row(v.version, v.digest[:12], v.run_id or "", when(v.created_at), tagged)
    console.print(table)
    if history:
        console.print("[bold]alias history[/] (who moved which alias, when, from which run, why):")
    for move in history:
        run = f" run {move.run_id}" if move.run_id else ""
        console.print(
            f"  {when(move.at)} {move.alias}: {move.from_version or '—'} -> {move.to_version or '—'} "
            f"by {move.actor}{run}: {move.reason}",
            highlight=False,
            soft_wrap=True,
        )


def _show_version(ctx: typer.Context, store: Any, name: str, selector: str, json_out: bool) -> None:
    from modelyard.registry.provenance import version_provenance
    from modelyard.registry.registry import Registry

    version = Registry(store).resolve(name, selector)
    provenance = version_provenance(store, version, _artifacts(ctx))
    aliases = sorted(a for a, v in store.aliases(name).items() if v == version.version)
    if json_out:
        emit_json({"name": name, "version": version, "aliases": aliases, "lineage": provenance})
        return
    console.print(f"[bold]{name} {version.version}[/] {' '.join('@' + a for a in aliases)}")
    console.print(f"  digest     {version.digest}")
    console.print(f"  registered {when(version.created_at)} by run {version.run_id or '—'}")
    if version.properties.get("breaking_changes"):
        console.print(f"  breaking   {'; '.join(version.properties['breaking_changes'])}")
    if version.signature:
        inputs = ", ".join(f"{f['name']}:{f['type']}{'' if f.get('nullable', True) else '!'}"
                           for f in version.signature.get("inputs", []))  # fmt: skip
        console.print(f"  inputs     {inputs}", soft_wrap=True)
    console.print("[bold]lineage[/]")
    for item in provenance["data"]:
        console.print(f"  data       {item['type']} {item['digest'][:12]} {item['uri']}", soft_wrap=True)
    for key in ("schema", "transform"):
        item = provenance[key]
        console.print(f"  {key:<10} {item['digest'][:12] if item else '—'}")
    training = provenance["training"]
    if training:
        console.print(
            f"  code       fingerprint {training['code_fingerprint'][:12]} "
            f"(step {training['step']}, run {training['run_id']})"
        )
    evaluation, blessing = provenance["evaluation"], provenance["blessing"]
    if evaluation:
        shown = {k: v for k, v in (evaluation.get("metrics") or {}).items() if "." not in k}
        text = ", ".join(f"{k} {v:.4g}" for k, v in list(shown.items())[:6])
        console.print(f"  evaluation {evaluation['digest'][:12]} {text}", soft_wrap=True)
    if blessing:
        console.print(f"  blessing   {blessing.get('summary') or blessing['digest'][:12]}", soft_wrap=True)


def models_show(
    ctx: typer.Context,
    target: str = typer.Argument(..., help="NAME, NAME/VERSION or NAME@ALIAS."),
    json_out: bool = _JSON,
) -> None:
    """A model's versions and alias history, or one version with its lineage.

    A version's lineage: its data, schema, transform, code fingerprint, evaluation and blessing.

    Example: yard models show penguins/1.1.0
    """
    name, selector = _split_target(target)
    with metadata(ctx) as store:
        _require_model(store, name)
        if selector is None:
            _show_model(store, name, json_out)
        else:
            _show_version(ctx, store, name, selector, json_out)


def models_promote(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Model name."),
    version: str = typer.Argument(..., help="Version to promote, e.g. 1.1.0."),
    alias: str = typer.Option("champion", "--alias", "-a", help="Alias to move."),
    reason: str = typer.Option("promoted by hand", "--reason", "-r", help="Why; kept in the alias history."),
    json_out: bool = _JSON,
) -> None:
    """Point an alias (default: champion) at a version.

    Example: yard models promote penguins 1.1.0 --alias champion --reason "better on every slice"
    """
    from modelyard.registry.registry import Registry

    with metadata(ctx) as store:
        _require_model(store, name)
        move = Registry(store).promote(name, version, alias=alias, reason=reason)
    if json_out:
        emit_json(move)
        return
    console.print(f"{name}@{alias}: {move.from_version or '—'} -> {move.to_version} ({reason})")


def models_rollback(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Model name."),
    alias: str = typer.Option("champion", "--alias", "-a", help="Alias to move back."),
    reason: str = typer.Option("rolled back by hand", "--reason", "-r", help="Why; kept in the alias history."),
    json_out: bool = _JSON,
) -> None:
    """Move an alias back to the version it pointed at before.

    Example: yard models rollback penguins --alias champion --reason "worse on live traffic"
    """
    from modelyard.registry.registry import Registry

    with metadata(ctx) as store:
        _require_model(store, name)
        current = store.get_alias(name, alias)
        target = Registry(store).rollback(name, alias=alias, reason=reason)
    if json_out:
        emit_json({"name": name, "alias": alias, "from_version": current, "to_version": target, "reason": reason})
        return
    console.print(f"{name}@{alias}: {current} -> {target} ({reason})")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "—" if value is None else str(value)


def models_diff(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Model name."),
    first: str = typer.Argument(..., help="Older version (or alias)."),
    second: str = typer.Argument(..., help="Newer version (or alias)."),
    json_out: bool = _JSON,
) -> None:
    """What changed between two versions: signature, estimator parameters, data, code, metrics.

    Example: yard models diff penguins 1.0.0 1.1.0
    """
    from modelyard.registry.diff import diff_versions
    from modelyard.registry.registry import Registry

    with metadata(ctx) as store:
        _require_model(store, name)
        registry = Registry(store)
        a, b = registry.resolve(name, first).version, registry.resolve(name, second).version
        result = diff_versions(store, _artifacts(ctx), name, a, b)
    if json_out:
        emit_json(result)
        return
    console.print(f"[bold]{name} {a} -> {b}[/]")
    sig = result["signature"]
    if sig["added"] or sig["removed"] or sig["changed"]:
        console.print(f"  signature: added {sig['added'] or '—'}, removed {sig['removed'] or '—'}, "
                      f"changed {list(sig['changed']) or '—'}", soft_wrap=True)  # fmt: skip
        for reason in sig["breaking"]:
            console.print(f"    breaking: {reason}")
    else:
        console.print("  signature: same")
    est = result["estimator"]
    if est["class"]:
        console.print(f"  estimator: {est['class']['from']} -> {est['class']['to']}")
    for key, change in est["params"].items():
        console.print(f"  param {key}: {_fmt(change['from'])} -> {_fmt(change['to'])}")
    for key in result["lineage"]:
        console.print(f"  {key} changed", highlight=False)
    if result["metrics"]:
        table = Table("metric", a, b, "change")
        for key, m in result["metrics"].items():
            change = "—" if m["change"] is None else f"{m['change']:+.4f}"
            table.add_row(key, _fmt(m["from"]), _fmt(m["to"]), change)
        console.print(table)
