"""Reading a request body within the server's limits: size cap, read deadline, JSON or CSV.

Why apart from the app: this is where a hostile or broken client is held off (413 before reading when the
declared length is too large, 408 for a stalled body), and it is the same for every protocol.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import orjson

from modelyard.serve import dialects
from modelyard.serve.front import Receive
from modelyard.serve.options import ServeOptions
from modelyard.serve.status import BadRequest, PayloadTooLarge, RequestTimeout


async def read_json(headers: Mapping[str, str], receive: Receive, options: ServeOptions) -> Any:
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
    try:
        async with asyncio.timeout(options.read_timeout):
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
    except TimeoutError:
        raise RequestTimeout(f"the request body did not arrive within {options.read_timeout:g} s") from None
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
