"""Reading a request body within the server's limits: size cap, read deadline, JSON or CSV.

Why apart from the app: this is where a hostile or broken client is held off (413 before reading when the
declared length is too large, 408 for a stalled body), and it is the same for every protocol.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import orjson

from modelyard.serve import dialects
from modelyard.serve.front import Receive
from modelyard.serve.options import ServeOptions
from modelyard.serve.status import BadRequest, PayloadTooLarge, RequestTimeout


class BodyDeadlines:
    """Cuts off bodies that do not arrive in time, with one sweeper task per event loop.

    Why not ``asyncio.timeout`` around each read: it arms and cancels a loop timer on every request, about a
    tenth of the whole hot path, while a body nearly always arrives with its headers. Here a read registers
    its task and deadline in a dict; a sweeper wakes every quarter of the timeout (at most every second) and
    cancels the reads past their deadline, which then raise RequestTimeout. A stalled client is cut off
    between 1x and 1.25x the timeout instead of at exactly 1x, which is all a 408 needs.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.tick = min(1.0, seconds / 4)
        self._reading: dict[asyncio.Task[Any], float] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        self._sweeper: asyncio.Task[None] | None = None

    def enter(self) -> asyncio.Task[Any]:
        task = asyncio.current_task()
        assert task is not None, "a body is read inside a task"
        self._reading[task] = time.monotonic() + self.seconds
        sweeper = self._sweeper
        if sweeper is None or sweeper.done() or sweeper.get_loop() is not task.get_loop():
            self._sweeper = task.get_loop().create_task(self._sweep())
        return task

    def leave(self, task: asyncio.Task[Any]) -> None:
        self._reading.pop(task, None)

    def expired(self, task: asyncio.Task[Any]) -> bool:
        """Whether ``task`` was cancelled by the sweeper (then its cancellation is taken back)."""
        if task not in self._expired:
            return False
        self._expired.discard(task)
        task.uncancel()
        return True

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self.tick)
            now = time.monotonic()
            late = [task for task, deadline in self._reading.items() if deadline < now]
            for task in late:
                del self._reading[task]
                self._expired.add(task)
                task.cancel()


async def read_json(headers: Mapping[str, str], receive: Receive, options: ServeOptions,
                    deadlines: BodyDeadlines) -> Any:  # fmt: skip
    """The parsed JSON body; PayloadTooLarge past the cap (checked before reading when the client declares
    its length), RequestTimeout when the body does not arrive within the read timeout, BadRequest if not JSON
    or when the client hangs up before its body is complete."""
    if "inference-header-content-length" in headers:
        raise BadRequest(
            "the binary tensor data extension is not supported; this server reads tensors as JSON",
            hint="send data in the JSON body (tritonclient: set_data_from_numpy(..., binary_data=False))",
        )
    declared = headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > options.max_body_bytes:
        raise PayloadTooLarge(
            f"the body has {declared} bytes; this server accepts at most {options.max_body_bytes}",
            hint="send fewer rows per request, or start the server with a larger --max-body-bytes",
        )
    chunks: list[bytes] = []
    size = 0
    task = deadlines.enter()
    try:
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # http.disconnect: nobody is left to answer
                raise BadRequest("the client closed the connection before its body was complete")
            chunk = message.get("body", b"")
            more = message.get("more_body", False)
            size += len(chunk)
            if size > options.max_body_bytes:
                raise PayloadTooLarge(
                    f"the body is larger than {options.max_body_bytes} bytes",
                    hint="send fewer rows per request, or raise --max-body-bytes",
                )
            if chunk:
                chunks.append(chunk)
    except asyncio.CancelledError:
        if deadlines.expired(task):
            raise RequestTimeout(f"the request body did not arrive within {deadlines.seconds:g} s") from None
        raise
    finally:
        deadlines.leave(task)
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)  # one chunk: no copy
    if not body or body.isspace():  # the same test as "nothing after strip()", without copying the body
        raise BadRequest("the request body is empty; send a JSON object")
    if headers.get("content-type", "").split(";")[0].strip().lower() == "text/csv":
        try:
            return dialects.CsvBody(body.decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            raise BadRequest(f"the CSV body is not UTF-8 text (byte {exc.start})") from None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc}", hint="check the body with a JSON linter") from None
