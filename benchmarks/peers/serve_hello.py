"""A hello-world app on the same HTTP stack as ``yard serve`` (Starlette on uvicorn, orjson): the ceiling.

benchmarks/serve_vs_mlflow.py runs it as ``python -m uvicorn serve_hello:app`` from this folder; it reads
the body and answers a constant, so the figure is what the stack itself costs per request.
"""

from __future__ import annotations

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_ANSWER = orjson.dumps({"predictions": [0]})


async def invocations(request: Request) -> Response:
    await request.body()
    return Response(_ANSWER, media_type="application/json")


async def ping(request: Request) -> Response:
    return Response(b"\n", media_type="text/plain")


app = Starlette(routes=[Route("/invocations", invocations, methods=["POST"]), Route("/ping", ping)])
