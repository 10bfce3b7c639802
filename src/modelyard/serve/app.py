"""The ASGI application: routes of the three protocols, over one predict path and one error table.

The hot path is deliberately thin: the prediction POSTs come in through a raw-ASGI front (``front``), read
the body with a size cap and a deadline, parse it with orjson, turn it into records (``dialects``), let the
package check them against its signature, predict, and write the answer with orjson. No Pydantic, no
middleware, no Starlette Request or Response on that path. Small requests are micro-batched on the event loop
(``batching``: a thread hop costs more than a single-row prediction, and concurrent requests share one
estimator call); large ones predict in the thread pool so that health checks keep answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from modelyard.errors import NotFound
from modelyard.serve import dialects
from modelyard.serve.batching import MicroBatcher
from modelyard.serve.front import Answer, Call, PredictionFront, RequestIds, endpoint, headers_of
from modelyard.serve.metrics import Metrics
from modelyard.serve.openapi import openapi_document
from modelyard.serve.options import ServeOptions
from modelyard.serve.predlog import PredictionLog
from modelyard.serve.request_body import BodyDeadlines, read_json
from modelyard.serve.routing import KEY_HEADER
from modelyard.serve.served import ModelRepository, ServedModel
from modelyard.serve.shared_metrics import SharedMetrics
from modelyard.serve.status import error_body, status_for
from modelyard.serve.traffic import Traffic

JSON = "application/json"


def _json(obj: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(obj), status_code=status, media_type=JSON)


def _error(exc: BaseException) -> Response:
    return _json(error_body(exc), status_for(exc))


def _answer(obj: Any, status: int = 200) -> Answer:
    return Answer(status, orjson.dumps(obj))


@dataclass(frozen=True)
class Asked:
    """A request read by its protocol: the records, which outputs it wants, and what its answer needs."""

    records: Any
    proba: bool = False
    pred: bool = True
    context: Any = None


@dataclass(frozen=True)
class Dialect:
    """One protocol's two halves around the prediction, both plain functions: ``ask`` reads the body into
    records, ``reply`` writes the predictions as the answer (and the outputs the log and traffic keep).

    Why not one coroutine per protocol wrapping the prediction: every coroutine layer is crossed twice per
    request (suspend at the batch future, resume), and the request path had six; it has three now."""

    name: str
    ask: Callable[[ServedModel, Any, Call], Asked]
    reply: Callable[[ServedModel, Call, Asked, Any, Any], tuple[Answer, Any]]


def _ask_v2(model: ServedModel, body: Any, call: Call) -> Asked:
    package = model.require_ready()
    records = dialects.v2_records(body, model.input_names)
    can_proba = package.task == "classification" and hasattr(package.estimator, "predict_proba")
    wanted = dialects.v2_requested_outputs(body, package.label, can_proba)
    return Asked(records, proba=dialects.PROBABILITIES in wanted, pred=package.label in wanted, context=body)


def _reply_v2(model: ServedModel, call: Call, asked: Asked, predictions: Any, probabilities: Any) -> tuple[Answer, Any]:
    package, body = model.require_ready(), asked.context
    kind = (package.signature.get("outputs") or [{"type": "string"}])[0]["type"]
    answer_id = call.request_id
    if isinstance(body.get("id"), str) and body["id"]:
        answer_id = body["id"]  # the protocol's own id is echoed: the client knows it
        if _header_safe(answer_id):  # and names the request in the header, the log and feedback
            call.request_id = answer_id
    answer_body = dialects.v2_response(
        model=model.name,
        version=model.version,
        request_id=answer_id,
        label=package.label,
        kind=kind,
        predictions=predictions,
        probabilities=probabilities,
    )
    return _answer(answer_body), predictions if probabilities is None else answer_body["outputs"]


def _ask_tf(model: ServedModel, body: Any, call: Call) -> Asked:
    model.require_ready()
    return Asked(dialects.tf_records(body, model.input_names))


def _ask_mlflow(model: ServedModel, body: Any, call: Call) -> Asked:
    if isinstance(body, dialects.CsvBody):
        return Asked(dialects.csv_records(body, model.require_ready().signature["inputs"]))
    model.require_ready()
    return Asked(dialects.mlflow_records(body, model.input_names))


def _reply_predictions(
    model: ServedModel, call: Call, asked: Asked, predictions: Any, probabilities: Any
) -> tuple[Answer, Any]:
    return _answer({"predictions": predictions}), predictions


V2 = Dialect("v2", _ask_v2, _reply_v2)
TF_SERVING = Dialect("tfserving", _ask_tf, _reply_predictions)
MLFLOW = Dialect("mlflow", _ask_mlflow, _reply_predictions)


class InferenceServer:
    """Route handlers over a ModelRepository; ``build_app`` wires the prediction ones into the front
    (serve.front) and every one into Starlette."""

    def __init__(self, repository: ModelRepository, options: ServeOptions, server_version: str) -> None:
        self.repository = repository
        self.log: PredictionLog | None = None
        if options.log_db:  # kept even at sample 0: feedback labels go to the same database
            self.log = PredictionLog(database=options.log_db, sample=options.log_sample,
                                     flush_seconds=options.log_flush_seconds)  # fmt: skip
        elif options.log_dir and options.log_sample > 0:
            self.log = PredictionLog(Path(options.log_dir), sample=options.log_sample,
                                     flush_seconds=options.log_flush_seconds)  # fmt: skip
        self.options = options
        self.metrics = Metrics()
        self.shared_metrics = (
            SharedMetrics(Path(options.metrics_dir), self.metrics, interval=options.metrics_seconds)
            if options.metrics_dir
            else None
        )
        self.server_version = server_version
        self.counts_traffic = options.follows_deployments  # per-version counters exist for the watcher only
        self._batchers: dict[tuple[str, str], MicroBatcher] = {}
        self.request_ids = RequestIds()
        self.deadlines = BodyDeadlines(options.read_timeout)
        self.traffic = Traffic(
            [name for name in repository.names() if repository.canary(name)],
            options.canary_percent,
            options.shadow_percent,
        )

    # -- the one predict path ------------------------------------------------------------------------------

    def _batched(self, model: ServedModel, records: Any, *, proba: bool, pred: bool) -> asyncio.Future[Any] | None:
        """The micro-batcher's future for a plain prediction of a few records; None for any other work."""
        if not pred or proba or not 0 < len(records) <= self.options.max_batch_rows:
            return None
        package = model.require_ready()
        # checked here, per request: a bad record is this request's 422 and never enters a shared batch
        return self._batcher(model, package).submit(package.check_inputs(records))

    async def _predict(
        self, model: ServedModel, records: list[dict[str, Any]], *, proba: bool, pred: bool = True
    ) -> tuple[list[Any] | None, list[dict[str, float]] | None]:
        batched = self._batched(model, records, proba=proba, pred=pred)
        if batched is not None:
            return await batched, None
        package = model.require_ready()
        limit = self.options.max_batch_rows

        def work() -> tuple[list[Any] | None, list[dict[str, float]] | None]:
            return (package.predict(records) if pred else None, package.predict_proba(records) if proba else None)

        if len(records) <= max(limit, 1):
            return work()
        return await run_in_threadpool(work)

    def _batcher(self, model: ServedModel, package: Any) -> MicroBatcher:
        key = (model.name, model.version)
        batcher = self._batchers.get(key)
        if batcher is None:
            batcher = self._batchers[key] = MicroBatcher(
                functools.partial(package.predict, checked=True),
                max_rows=self.options.max_batch_rows,
                max_wait=self.options.max_wait_ms / 1000,
                queue_timeout=self.options.queue_timeout,
                on_batch=lambda requests: self.metrics.batched(key[0], key[1], requests),
            )
        return batcher

    async def _handle(self, call: Call, dialect: Dialect) -> Answer:
        """Time, count and answer one prediction request; every exception becomes its row of the error table."""
        started = time.perf_counter()
        model_label = version_label = route = ""
        call.request_id = call.headers.get("x-request-id") or self.request_ids.next()
        records: Any = None
        outputs: Any = None
        try:
            model = self._model(call.params, call.headers)
            model_label, version_label, route = model.name, model.version, model.source.route
            body = await read_json(call.headers, call.receive, self.options, self.deadlines)
            asked = dialect.ask(model, body, call)
            batched = self._batched(model, asked.records, proba=asked.proba, pred=asked.pred)
            if batched is not None:
                predictions, probabilities = await batched, None
            else:
                predictions, probabilities = await self._predict(
                    model, asked.records, proba=asked.proba, pred=asked.pred
                )
            records = asked.records  # only now: a rejected request is logged with its inputs null (docs)
            response, outputs = dialect.reply(model, call, asked, predictions, probabilities)
            if (
                route == "primary"
                and model.name in self.traffic.shadows
                and self.traffic.shadows[model.name].to_canary()
            ):
                name, request_id, mirrored = model.name, call.request_id, records
                response.after = lambda: self._shadow(name, request_id, dialect.name, mirrored)
        except Exception as exc:
            outputs = error_body(exc)
            response = Answer(status_for(exc), orjson.dumps(outputs))
        elapsed = time.perf_counter() - started
        headers = response.headers
        headers.append((b"x-request-id", call.request_id.encode("latin-1")))
        if model_label:  # errors too: a client (and a test) can tell which version failed it
            headers.append((b"x-model-version", version_label.encode("latin-1")))
            headers.append((b"x-modelyard-route", route.encode("latin-1")))
        self.metrics.observe(model_label, version_label, dialect.name, response.status, elapsed)
        if model_label and self.counts_traffic:
            self.traffic.count(model_label, version_label, response.status, elapsed, outputs)
        if self.log is not None and model_label:
            self.log.record(call.request_id, model_label, version_label, route, dialect.name,
                            response.status, elapsed, records, outputs)  # fmt: skip
        return response

    async def _shadow(self, name: str, request_id: str, protocol: str, records: Any) -> None:
        """Mirror a request to the canary after its answer was sent: logged, counted, never returned."""
        canary = self.repository.canary(name)
        if canary is None or not canary.ready or not isinstance(records, list):
            return
        started = time.perf_counter()
        try:
            predictions, _ = await self._predict(canary, records, proba=False)
            status, outputs = 200, predictions
        except Exception as exc:
            status, outputs = status_for(exc), error_body(exc)
        elapsed = time.perf_counter() - started
        self.metrics.observe(canary.name, canary.version, f"{protocol}-shadow", status, elapsed)
        if self.counts_traffic:
            self.traffic.count(canary.name, canary.version, status, elapsed, outputs)
        if self.log is not None:
            self.log.record(
                request_id, canary.name, canary.version, "shadow", protocol, status, elapsed, records, outputs
            )

    def _model(self, params: Mapping[str, Any], headers: Mapping[str, str]) -> ServedModel:
        model = (
            self.repository.default()
            if "name" not in params
            else self.repository.get(params["name"], params.get("version"))
        )
        router = self.traffic.routers.get(model.name)
        if router is None or "version" in params:
            return model
        canary = self.repository.canary(model.name)
        # a canary that is not ready (still warming, or failed) gets no traffic: the primary answers
        if canary is not None and canary.ready and router.to_canary(headers.get(KEY_HEADER)):
            return canary
        return model

    # -- Open Inference Protocol ---------------------------------------------------------------------------

    def v2_infer(self, call: Call) -> Awaitable[Answer]:
        return self._handle(call, V2)

    async def v2_model_metadata(self, request: Request) -> Response:
        try:
            model = self._model(request.path_params, request.headers)
            signature = model.require_ready().signature
        except Exception as exc:
            return _error(exc)
        versions = [m.version for m in self.repository.versions(model.name)]

        def tensors(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [{"name": f["name"], "datatype": dialects.datatype_of(f["type"]), "shape": [-1]} for f in fields]

        return _json(
            {
                "name": model.name,
                "versions": versions,
                "platform": "modelyard_sklearn",
                "inputs": tensors(signature["inputs"]),
                "outputs": tensors(signature.get("outputs", [])),
            }
        )

    async def v2_model_ready(self, request: Request) -> Response:
        try:
            model = self._model(request.path_params, request.headers)
        except NotFound as exc:
            return _error(exc)
        return _json({"name": model.name, "ready": model.ready}, 200 if model.ready else 503)

    async def live(self, request: Request) -> Response:
        return _json({"live": True})

    async def ready(self, request: Request) -> Response:
        ready = self.repository.ready()
        return _json({"ready": ready}, 200 if ready else 503)

    async def server_metadata(self, request: Request) -> Response:
        return _json({"name": "modelyard", "version": self.server_version, "extensions": []})

    # -- TF-Serving and MLflow -----------------------------------------------------------------------------

    def tf_predict(self, call: Call) -> Awaitable[Answer]:
        return self._handle(call, TF_SERVING)

    def invocations(self, call: Call) -> Awaitable[Answer]:
        return self._handle(call, MLFLOW)

    async def feedback(self, request: Request) -> Response:
        """Ground-truth labels for earlier predictions, by request id; stored before the answer."""
        from modelyard.serve.feedback import feedback_folder, parse_feedback, write_feedback

        try:
            name = self.repository.get(request.path_params["name"]).name
            if self.log is not None and self.log.folder is None:  # the log is a database: labels go there too
                pairs = parse_feedback(await self._body(request))
                await run_in_threadpool(self.log.database.insert_feedback, name, pairs)
            else:
                folder = feedback_folder(self.options.feedback_dir, self.options.log_dir)
                pairs = parse_feedback(await self._body(request))
                await run_in_threadpool(write_feedback, folder, name, pairs)
        except Exception as exc:
            return _error(exc)
        return _json({"model": name, "accepted": len(pairs)})

    async def _body(self, request: Request) -> Any:
        return await read_json(headers_of(request.scope["headers"]), request.receive, self.options, self.deadlines)

    async def ping(self, request: Request) -> Response:
        ready = self.repository.ready()
        return Response(b"\n" if ready else b"not ready\n", status_code=200 if ready else 503, media_type="text/plain")

    # -- operations ----------------------------------------------------------------------------------------

    async def prometheus(self, request: Request) -> Response:
        """This worker's figures, plus every other worker's latest snapshot when there are several."""
        shared = self.shared_metrics
        text = self.metrics.render() if shared is None else await run_in_threadpool(shared.render)
        return Response(text, media_type="text/plain; version=0.0.4; charset=utf-8")

    async def openapi(self, request: Request) -> Response:
        models = {}
        for name in self.repository.names():
            served = self.repository.get(name)
            models[name] = served.package.signature if served.package is not None else {"inputs": []}
        return _json(openapi_document(models, self.server_version))


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and wrong methods answer in the same JSON shape as every other error."""
    status = getattr(exc, "status_code", 500)
    detail = getattr(exc, "detail", "error")
    if status == 404:
        text = f"no route {request.method} {request.url.path}"
    elif status == 405:
        text = f"{request.method} is not allowed on {request.url.path}"
    else:
        text = str(detail)
    return Response(orjson.dumps({"error": text}), status, getattr(exc, "headers", None), JSON)


def _watcher(server: InferenceServer) -> Any:
    options = server.options
    if not options.follows_deployments:
        return None
    from modelyard.serve.deployment import DeploymentStore
    from modelyard.serve.watcher import DeploymentWatcher

    return DeploymentWatcher(server, DeploymentStore(Path(options.deployments_dir)), options.db_url,
                             options.store_url, interval=options.poll_seconds)  # fmt: skip


def build_app(repository: ModelRepository, options: ServeOptions | None = None) -> PredictionFront:
    """The ASGI app: the prediction front (serve.front) over Starlette. Models load and warm up in a
    background thread once the server starts, so that ``/v2/health/live`` answers at once and
    ``/v2/health/ready`` turns true only when every model can serve."""
    from importlib import metadata

    try:
        version = metadata.version("modelyard")
    except metadata.PackageNotFoundError:
        version = "0"
    server = InferenceServer(repository, options or ServeOptions(), version)
    watcher = _watcher(server)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        load = functools.partial(repository.load_all, freeze=server.options.freeze_after_load)
        threading.Thread(target=load, name="modelyard-load", daemon=True).start()
        if server.log is not None:
            server.log.start()
        if server.shared_metrics is not None:
            server.shared_metrics.start()
        if watcher is not None:
            watcher.start()
        try:
            yield
        finally:
            if watcher is not None:
                watcher.close()
            if server.shared_metrics is not None:
                server.shared_metrics.close()  # the worker's final figures stay counted after it stopped
            if server.log is not None:
                server.log.close()  # the last rows reach disk on a clean shutdown

    predictions: list[tuple[str, Any]] = [  # POSTs here take the front's short way (serve.front)
        ("/invocations", server.invocations),
        ("/v2/models/{name}/infer", server.v2_infer),
        ("/v2/models/{name}/versions/{version}/infer", server.v2_infer),
        ("/v1/models/{name}:predict", server.tf_predict),
        ("/v1/models/{name}/versions/{version}:predict", server.tf_predict),
    ]
    routes = [
        *(Route(path, endpoint(handler), methods=["POST"]) for path, handler in predictions),
        Route("/v2/health/live", server.live),
        Route("/v2/health/ready", server.ready),
        Route("/v2", server.server_metadata),
        Route("/v2/models/{name}", server.v2_model_metadata),
        Route("/v2/models/{name}/versions/{version}", server.v2_model_metadata),
        Route("/v2/models/{name}/ready", server.v2_model_ready),
        Route("/v2/models/{name}/versions/{version}/ready", server.v2_model_ready),
        Route("/v1/models/{name}/feedback", server.feedback, methods=["POST"]),
        Route("/ping", server.ping),
        Route("/health", server.ping),
        Route("/metrics", server.prometheus),
        Route("/openapi.json", server.openapi),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: _http_error})
    app.state.server = server
    return PredictionFront(app, predictions)


def _header_safe(text: str) -> bool:
    """Whether a client's id can travel in an HTTP header (printable ASCII, not too long)."""
    return len(text) <= 256 and text.isascii() and text.isprintable()
