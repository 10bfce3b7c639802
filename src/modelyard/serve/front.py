"""The prediction routes' short way in: raw ASGI for the three protocols' POSTs, Starlette for everything else.

Why: on a 2-core machine a hello-world Starlette app answers about three times as many requests per second as
a model server whose every step is lean, and a profile of the server showed Starlette's middleware, router,
``Request``, ``Headers`` and ``Response`` objects as the largest single share of the hot path (about 16 µs of
a request). The prediction handlers need little of that: the path parameters, five headers and the body. So
the front matches the five prediction paths itself, hands the handler a ``Call`` and writes its ``Answer``
straight to the ASGI ``send``. Every other request, and a prediction path with another method (405), goes
to the Starlette app, whose routes for the prediction paths stay the definition: ``endpoint`` adapts the same
handlers to Starlette, so an app mounted without the front behaves the same.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

JSON = "application/json"
_JSON_TYPE = (b"content-type", b"application/json")


@dataclass(slots=True)
class Call:
    """One prediction request as the handlers see it: path parameters, headers (lower-case names, first
    occurrence wins, as in Starlette) and the ASGI ``receive`` that yields its body."""

    params: dict[str, str]
    headers: dict[str, str]
    receive: Receive
    request_id: str = ""


@dataclass(slots=True)
class Answer:
    """A JSON answer: status, body bytes, headers beyond content type and length, and work to do once the
    answer is sent (a shadow prediction), off the client's latency."""

    status: int
    body: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    after: Callable[[], Awaitable[None]] | None = None


Handler = Callable[[Call], Awaitable[Answer]]


def headers_of(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """ASGI header pairs as a dict; reversed so that the first of repeated headers wins."""
    return {key.decode("latin-1"): value.decode("latin-1") for key, value in reversed(raw)}


class RequestIds:
    """Ids for requests that bring none: a random per-process prefix and a counter, 32 hex digits like a
    uuid4's, unique across workers and restarts, at a tenth of ``uuid4()``'s cost."""

    def __init__(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._counter = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter):016x}"


def _pattern(path: str) -> re.Pattern[str]:
    """Starlette's own reading of a route path: ``{param}`` matches one path segment."""
    return re.compile("^" + re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$")


class PredictionFront:
    """ASGI app: POSTs to the prediction paths go to their handlers directly; the rest to ``app``."""

    def __init__(self, app: ASGIApp, routes: list[tuple[str, Handler]]) -> None:
        self.app = app
        self.state = getattr(app, "state", None)  # Starlette's app.state, reachable from the outer app
        self._exact = {path: handler for path, handler in routes if "{" not in path}
        self._patterns = [(_pattern(path), handler) for path, handler in routes if "{" in path]

    def _match(self, path: str) -> tuple[Handler, dict[str, str]] | None:
        handler = self._exact.get(path)
        if handler is not None:
            return handler, {}
        for pattern, handler in self._patterns:
            found = pattern.match(path)
            if found is not None:
                return handler, found.groupdict()
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            hit = self._match(scope["path"])
            if hit is not None:
                handler, params = hit
                answer = await handler(Call(params, headers_of(scope["headers"]), receive))
                await send_answer(send, answer)
                if answer.after is not None:
                    await answer.after()
                return
        await self.app(scope, receive, send)


async def send_answer(send: Send, answer: Answer) -> None:
    headers = [_JSON_TYPE, (b"content-length", str(len(answer.body)).encode()), *answer.headers]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """The same handler as a Starlette endpoint, for the routes that define the prediction paths."""

    async def starlette_endpoint(request: Request) -> Response:
        call = Call(dict(request.path_params), headers_of(request.scope["headers"]), request.receive)
        answer = await handler(call)
        response = Response(answer.body, answer.status, media_type=JSON)
        response.raw_headers.extend(answer.headers)
        if answer.after is not None:
            response.background = BackgroundTask(answer.after)
        return response

    return starlette_endpoint
