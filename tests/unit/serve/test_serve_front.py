"""The prediction front (raw ASGI for the prediction POSTs) answers exactly as the Starlette routes would."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from modelyard.serve.front import PredictionFront, RequestIds, headers_of


def _call(app: Any, path: str, body: bytes | None, *, method: str = "POST", headers: list | None = None) -> tuple:
    """One request through the raw ASGI app; ``body=None`` means the client hangs up before sending it."""
    sent: list[dict] = []
    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "root_path": "",
             "query_string": b"", "headers": headers or [(b"content-type", b"application/json")],
             "http_version": "1.1", "scheme": "http", "client": ("127.0.0.1", 1),
             "server": ("127.0.0.1", 2)}  # fmt: skip

    async def receive() -> dict:
        if body is None:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), payload


@pytest.fixture(scope="module")
def front(client) -> PredictionFront:
    app = client.app
    assert isinstance(app, PredictionFront)
    return app


def test_the_front_and_the_starlette_routes_give_the_same_answer(front, feature_rows) -> None:
    body = orjson.dumps({"instances": feature_rows[:3]})
    direct = _call(front, "/v1/models/penguins:predict", body)
    via_starlette = _call(front.app, "/v1/models/penguins:predict", body)
    assert direct[0] == via_starlette[0] == 200
    assert orjson.loads(direct[2]) == orjson.loads(via_starlette[2])
    assert direct[1][b"content-type"] == via_starlette[1][b"content-type"] == b"application/json"
    assert direct[1][b"content-length"] == str(len(direct[2])).encode()
    assert direct[1][b"x-model-version"] == b"1.0.0"


def test_paths_params_and_methods_the_front_does_not_take_fall_through(front, feature_rows) -> None:
    body = orjson.dumps({"inputs": [{"name": "island", "shape": [1], "datatype": "BYTES", "data": ["Dream"]}]})
    assert _call(front, "/v2/models/nobody/versions/9.9.9/infer", body)[0] == 404  # matched: unknown model
    status, _, payload = _call(front, "/v2/models/penguins/extra/infer", body)  # a segment too many: no route
    assert status == 404 and b"no route" in payload
    status, _, payload = _call(front, "/invocations", None, method="GET")  # Starlette: wrong method
    assert status == 405 and b"not allowed" in payload


def test_a_client_that_hangs_up_before_its_body_is_a_4xx_not_a_500(front) -> None:
    status, _, payload = _call(front, "/invocations", None)
    assert status == 400 and b"closed the connection" in payload
    text = front.state.server.metrics.render()
    assert 'code="500"' not in text


def test_repeated_headers_keep_the_first_and_request_ids_are_unique() -> None:
    assert headers_of([(b"x-request-id", b"a"), (b"x-request-id", b"b")]) == {"x-request-id": "a"}
    ids = RequestIds()
    many = {ids.next() for _ in range(10_000)}
    assert len(many) == 10_000 and all(len(i) == 32 and int(i, 16) >= 0 for i in many)
    assert RequestIds().next()[:16] != ids.next()[:16]


def test_a_stalled_body_is_cut_off_near_its_deadline_and_other_cancellations_pass_through() -> None:
    from modelyard.serve.options import ServeOptions
    from modelyard.serve.request_body import BodyDeadlines, read_json
    from modelyard.serve.status import RequestTimeout

    options = ServeOptions(read_timeout=0.2)
    deadlines = BodyDeadlines(options.read_timeout)

    async def stalled() -> dict:
        await asyncio.sleep(60)
        return {}

    async def whole() -> dict:
        return {"type": "http.request", "body": b'{"a": 1}', "more_body": False}

    async def scenario() -> tuple[float, Any, bool]:
        started = asyncio.get_running_loop().time()
        with pytest.raises(RequestTimeout, match=r"within 0\.2 s"):
            await read_json({}, stalled, options, deadlines)
        waited = asyncio.get_running_loop().time() - started
        parsed = await read_json({}, whole, options, deadlines)
        reader = asyncio.create_task(read_json({}, stalled, options, deadlines))
        await asyncio.sleep(0.01)
        reader.cancel()  # a shutdown, not a deadline: stays a cancellation
        try:
            await reader
        except asyncio.CancelledError:
            cancelled = True
        else:
            cancelled = False
        return waited, parsed, cancelled

    waited, parsed, cancelled = asyncio.run(scenario())
    assert 0.2 <= waited < 0.5
    assert parsed == {"a": 1} and cancelled
    assert not deadlines._reading and not deadlines._expired
