"""The one table that turns modelyard errors into HTTP status codes, and the error body every route sends.

Why one table: a client's mistake must never become a 500, and the only way that stays true as routes are
added is that no route picks a status code for an error by itself. Order matters: the most specific class
comes first, because ``NotFound`` is a ``UsageError``.
"""

from __future__ import annotations

from modelyard.errors import (
    ConfigError,
    DataError,
    ModelyardError,
    NotFound,
    StoreError,
    UsageError,
    ValidationFailed,
)


class PayloadTooLarge(UsageError):
    """The request body is larger than ``--max-body-bytes``."""


class RequestTimeout(UsageError):
    """The client did not send its whole body within the read timeout (a slow or stalled client)."""


class NotReady(ModelyardError):
    """The model exists but has not passed its warm-up prediction yet (or failed it)."""


class Overloaded(ModelyardError):
    """The request waited longer than the queue timeout for the model; refused rather than queued forever."""


class BadRequest(UsageError):
    """The body is not what the route's protocol describes (malformed JSON, missing keys, wrong shapes)."""


STATUS_TABLE: tuple[tuple[type[BaseException], int], ...] = (
    (PayloadTooLarge, 413),
    (RequestTimeout, 408),
    (NotFound, 404),
    (ValidationFailed, 422),
    (BadRequest, 400),
    (DataError, 400),
    (ConfigError, 500),
    (UsageError, 400),
    (NotReady, 503),
    (Overloaded, 503),
    (StoreError, 503),
)


def status_for(exc: BaseException) -> int:
    """The HTTP status for an exception: the first matching row of STATUS_TABLE, else 500 (our fault)."""
    for kind, status in STATUS_TABLE:
        if isinstance(exc, kind):
            return status
    return 500


def error_body(exc: BaseException) -> dict[str, object]:
    """The JSON error body. ``error`` is the Open Inference Protocol's field (one string); ``problems`` adds
    one line per offending record and field so a client can fix every mistake in one round trip."""
    if isinstance(exc, ModelyardError):
        body: dict[str, object] = {"error": exc.one_line()}
        problems = getattr(exc, "problems", None)
        if problems:
            body["problems"] = list(problems)
        return body
    return {"error": f"internal error: {type(exc).__name__}"}
