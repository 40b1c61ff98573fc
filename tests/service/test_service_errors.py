"""Every error class maps to one (status, type) and OpenAI's error body."""

from __future__ import annotations

import pytest

from service.errors import (
    AuthenticationFailed,
    CapacityExhausted,
    InvalidRequest,
    ModelNotFound,
    NoHealthyAccount,
    NotImplementedYet,
    PayloadTooLarge,
    ServiceError,
    UpstreamFailed,
    UpstreamTimedOut,
    error_body,
    error_response,
    status_and_type,
)


@pytest.mark.parametrize(
    ("exc", "status", "kind"),
    [
        (InvalidRequest("bad", param="messages"), 400, "invalid_request_error"),
        (AuthenticationFailed(), 401, "authentication_error"),
        (ModelNotFound("x"), 404, "invalid_request_error"),
        (PayloadTooLarge("big"), 413, "invalid_request_error"),
        (CapacityExhausted("busy", retry_after=2.5), 429, "rate_limit_error"),
        (NotImplementedYet("later"), 501, "not_implemented_error"),
        (UpstreamFailed("no", gemini_code=1037), 502, "upstream_error"),
        (NoHealthyAccount("none"), 503, "service_unavailable_error"),
        (UpstreamTimedOut("slow"), 504, "timeout_error"),
        (ServiceError("oops"), 500, "server_error"),
    ],
)
def test_table(exc: ServiceError, status: int, kind: str) -> None:
    assert status_and_type(exc) == (status, kind)
    assert error_body(exc).error.type == kind


def test_subclasses_inherit_their_parents_row() -> None:
    class Narrower(InvalidRequest):
        pass

    assert status_and_type(Narrower("x")) == (400, "invalid_request_error")


def test_body_shape_and_codes() -> None:
    body = error_body(ModelNotFound("nope")).model_dump()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["code"] == "model_not_found" and body["error"]["param"] == "model"
    assert error_body(UpstreamFailed("x", gemini_code=1060)).error.code == "gemini_1060"


def test_unexpected_errors_do_not_leak_their_message() -> None:
    body = error_body(RuntimeError("secret cookie value")).error
    assert body.type == "server_error" and "secret" not in body.message


def test_retry_after_is_a_whole_number_of_seconds() -> None:
    response = error_response(CapacityExhausted("busy", retry_after=2.1))
    assert response.status_code == 429 and response.headers["retry-after"] == "3"
    assert error_response(CapacityExhausted("busy", retry_after=0)).headers["retry-after"] == "1"
