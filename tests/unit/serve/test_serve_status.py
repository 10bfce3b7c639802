"""One table maps errors to HTTP codes; anything unplanned is a 500 that leaks no internals."""

from __future__ import annotations

from modelyard.errors import ConfigError, DataError, NotFound, PluginNotFound, UsageError, ValidationFailed
from modelyard.serve.status import BadRequest, NotReady, PayloadTooLarge, RequestTimeout, error_body, status_for


def test_client_mistakes_are_4xx_and_server_state_is_5xx() -> None:
    assert status_for(NotFound("no model")) == 404
    assert status_for(PluginNotFound("no flavor")) == 404
    assert status_for(ValidationFailed("bad", problems=["record 0"])) == 422
    assert status_for(BadRequest("bad")) == 400
    assert status_for(DataError("unreadable")) == 400
    assert status_for(UsageError("wrong")) == 400
    assert status_for(PayloadTooLarge("big")) == 413
    assert status_for(RequestTimeout("slow")) == 408
    assert status_for(NotReady("warming")) == 503
    assert status_for(ConfigError("server misconfigured")) == 500
    assert status_for(ZeroDivisionError()) == 500


def test_error_body_carries_the_hint_and_every_problem() -> None:
    body = error_body(ValidationFailed("2 bad", problems=["record 0, field 'a'", "record 1, field 'b'"], hint="fix"))
    assert body == {"error": "2 bad (fix)", "problems": ["record 0, field 'a'", "record 1, field 'b'"]}
    assert error_body(KeyError("secret internals")) == {"error": "internal error: KeyError"}
