"""``yard serve``: resolve the model URIs in the project, then run the inference server on uvicorn.

URIs are resolved here, in the parent process, so that a wrong name fails at once with exit code 2; the
resolved sources reach each worker process through one environment variable, which ``worker_app`` (the
factory uvicorn imports in every worker) reads. That variable is the edge of the server, as the command
line is the edge of the CLI.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import typer

from modelyard.cli.context import settings_of
from modelyard.cli.output import errors
from modelyard.errors import ConfigError, UsageError

SOURCES_ENV = "MODELYARD_SERVE_SPEC"


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def worker_app() -> object:
    """The ASGI app of one worker, built from the spec the parent process put in the environment."""
    from modelyard.serve.app import ServeOptions, build_app
    from modelyard.serve.served import ModelRepository, ModelSource

    text = os.environ.get(SOURCES_ENV)
    if not text:
        raise ConfigError(f"{SOURCES_ENV} is not set; start the server with `yard serve MODEL_URI`")
    spec = json.loads(text)
    sources = [ModelSource(**source) for source in spec["sources"]]
    return build_app(ModelRepository(sources), ServeOptions(**spec["options"]))


def serve(
    ctx: typer.Context,
    uris: list[str] = typer.Argument(
        ..., metavar="MODEL_URI...", help="models:/NAME@champion, models:/NAME/1.2.0, NAME@alias or a package folder."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0 for every interface)."),
    port: int = typer.Option(8080, "--port", "-p", help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Worker processes (each loads every model)."),
    max_body_bytes: int = typer.Option(1_048_576, "--max-body-bytes", min=1, help="Larger request bodies get 413."),
    read_timeout: float = typer.Option(10.0, "--read-timeout", min=0.1, help="Seconds a client has to send its body."),
    max_batch: int = typer.Option(64, "--max-batch", min=0, help="Rows per micro-batch (0: no batching)."),
    max_wait_ms: float = typer.Option(0.0, "--max-wait-ms", min=0.0, help="Hold a batch open this long for company."),
    queue_timeout: float = typer.Option(5.0, "--queue-timeout", min=0.01, help="Refuse (503) after queuing this long."),
    canary: float = typer.Option(
        0.0, "--canary", min=0.0, max=100.0, help="Percent of each model's requests for its --canary-alias version."
    ),
    shadow: float = typer.Option(
        0.0, "--shadow", min=0.0, max=100.0, help="Percent of requests mirrored to the --canary-alias version."
    ),
    canary_alias: str = typer.Option("challenger", "--canary-alias", help="The alias whose version is the canary."),
    log_dir: Path | None = typer.Option(
        None, "--log-dir", help="Prediction log folder (default: .modelyard/predictions of the project, if any)."
    ),
    log_db: str | None = typer.Option(
        None, "--log-db", help="Log to database tables instead of Parquet (sqlite:///log.db, postgresql://...)."
    ),
    log_sample: float = typer.Option(1.0, "--log-sample", min=0.0, max=1.0, help="Share of requests logged (0: off)."),
    access_log: bool = typer.Option(False, "--access-log", help="Log every request (costs throughput)."),
) -> None:
    """Serve models over HTTP: Open Inference Protocol (/v2), TF-Serving (/v1/models/NAME:predict) and
    MLflow (/invocations), with /metrics and /openapi.json.

    Example: yard serve models:/penguins@champion --port 8080
    Canary:  yard serve models:/penguins@champion --canary 10   (10% to penguins@challenger)
    Shadow:  yard serve models:/penguins@champion --shadow 100  (every request mirrored to penguins@challenger)
    """
    from modelyard.serve.served import ModelRepository, canary_source, resolve_source

    settings = settings_of(ctx)
    sources = [resolve_source(uri, settings) for uri in uris]
    if canary > 0 or shadow > 0:
        sources += [canary_source(source, canary_alias, settings) for source in sources]
    ModelRepository(sources)  # refuses the same version listed twice before any worker starts
    try:
        import uvicorn
    except ImportError as exc:
        raise UsageError(f"yard serve needs uvicorn and starlette: {exc}", hint="pip install modelyard") from exc
    if log_db and log_dir:
        raise UsageError("--log-db and --log-dir both name where the prediction log goes", hint="give one of them")
    default_log = str(settings.home / "predictions") if settings.home.is_dir() else None
    if log_db:
        log_db = _prepare_log_db(log_db)
    spec = {
        "sources": [source.to_dict() for source in sources],
        "options": {
            "max_body_bytes": max_body_bytes,
            "freeze_after_load": True,
            "read_timeout": read_timeout,
            "max_batch_rows": max_batch,
            "max_wait_ms": max_wait_ms,
            "queue_timeout": queue_timeout,
            "canary_percent": canary,
            "shadow_percent": shadow,
            "log_dir": None if log_db else (str(log_dir.resolve()) if log_dir else default_log),
            "log_db": log_db,
            "log_sample": log_sample,
        },
    }
    if settings.home.is_dir() and any(source.uri.startswith("models:/") for source in sources):
        from modelyard.serve.deployment import Deployment, DeploymentStore

        deployments = DeploymentStore(settings.home / "deployments")
        spec["options"].update(deployments_dir=str(deployments.folder), db_url=settings.db_url,
                               store_url=settings.store_url)  # fmt: skip
        if canary > 0 or shadow > 0:  # the shares given here become the deployment every worker follows
            for source in sources:
                if source.route == "canary":
                    record = deployments.find(source.name) or Deployment(name=source.name)
                    deployments.put(record.restarted(canary_percent=canary, shadow_percent=shadow))
    from modelyard.store.metadata.connect import mask_url

    log_place = mask_url(log_db) if log_db else spec["options"]["log_dir"]
    if log_place and log_sample > 0:
        errors.print(f"prediction log: {log_place} ({log_sample:.0%} of requests)")
    for source in sources:
        share = f", {canary:g}% of requests, {shadow:g}% mirrored" if source.route == "canary" else ""
        errors.print(f"serving {source.name} {source.version} ({source.uri}{share}) on http://{host}:{port}")
    # with several workers, each publishes its figures in this folder so that /metrics sums over all of them
    metrics_dir = tempfile.mkdtemp(prefix="modelyard-metrics-") if workers > 1 else None
    spec["options"]["metrics_dir"] = metrics_dir
    os.environ[SOURCES_ENV] = json.dumps(spec)
    try:
        uvicorn.run(
            "modelyard.cli.serve_commands:worker_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=access_log,
            proxy_headers=False,  # nothing here reads the client address: no X-Forwarded-* rewriting per request
            server_header=False,
            log_level="warning",
            timeout_graceful_shutdown=5,
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _prepare_log_db(url: str) -> str:
    """Check the log database once, before any worker starts (a wrong URL or an unreachable server fails the
    command with one line), create its tables, and return the URL the workers use."""
    from modelyard.serve.predlog_sql import PredictionDatabase
    from modelyard.store.metadata.connect import parse_url

    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        parsed = parsed.set(database=str(Path(parsed.database).resolve()))  # workers may not share our cwd
    normalized = parsed.render_as_string(hide_password=False)
    PredictionDatabase.open(normalized).close()
    return normalized
