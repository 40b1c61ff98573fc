"""The service layer's exception tree and the ONE place that turns errors into OpenAI's JSON shape.

ServiceError                    500 server_error
 ├── ClientDisconnected         499 client_closed_request (nobody is left to read it)
 ├── InvalidRequest             400 invalid_request_error (``param`` names the field)
 ├── AuthenticationFailed       401 authentication_error (code ``invalid_api_key``)
 │    └── ForwardNotTrusted     401 authentication_error (code ``invalid_forward_signature``)
 ├── MediaLinkRefused           403 permission_error (code ``invalid_signature``)
 ├── ModelNotFound              404 invalid_request_error (code ``model_not_found``)
 ├── MediaLinkExpired           410 invalid_request_error (code ``link_expired`` / ``media_gone``)
 ├── PayloadTooLarge            413 invalid_request_error
 ├── NotOffered                 403 permission_error (code ``not_offered``: no account's page offers it)
 ├── OutOfScope                 403 permission_error (code ``out_of_scope``: outside the key's scopes)
 ├── ForwardRefused             403 permission_error (code ``forwarding_disabled``: no cluster.secret here)
 ├── NotImplementedYet          501 not_implemented_error
 ├── CapacityExhausted          429 rate_limit_error (+ ``Retry-After``)
 │    └── RateLimited           429 rate_limit_error (code ``rate_limit_exceeded``: a key's limits)
 ├── NotFound                   404 invalid_request_error (code ``not_found``: an admin resource)
 ├── Conflict                   409 invalid_request_error (code ``conflict``: e.g. a duplicate account)
 ├── UpstreamFailed             502 upstream_error (code ``gemini_<BardErrorInfo code>``)
 ├── MediaStorageFailed         502 server_error (code ``media_storage_failed``)
 ├── ForwardFailed              502 replica_error (code ``forward_failed``: our replicas, not Gemini)
 ├── NoHealthyAccount           503 service_unavailable_error
 └── UpstreamTimedOut           504 timeout_error

Every HTTP error body is ``{"error": {"message", "type", "param", "code"}}``: raised service errors,
request validation (400 with ``param`` = the field path), malformed JSON (400), unknown routes
(404), wrong methods (405) and anything unexpected (500, without internals in the message).

``Redirected`` is no error: the request belongs to another replica (``service.cluster.forward``), and
its response, sent wherever an error response would be, is that replica's answer.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

log = logging.getLogger(__name__)

__all__ = [
    "AuthenticationFailed",
    "CapacityExhausted",
    "ClientDisconnected",
    "Conflict",
    "ErrorBody",
    "ErrorInfo",
    "ForwardFailed",
    "ForwardNotTrusted",
    "ForwardRefused",
    "InvalidRequest",
    "MediaLinkExpired",
    "MediaLinkRefused",
    "MediaStorageFailed",
    "ModelNotFound",
    "NoHealthyAccount",
    "NotFound",
    "NotImplementedYet",
    "NotOffered",
    "OutOfScope",
    "PayloadTooLarge",
    "RateLimited",
    "Redirected",
    "ServiceError",
    "UpstreamFailed",
    "UpstreamTimedOut",
    "error_body",
    "error_response",
    "install_error_handlers",
    "status_and_type",
]


class ServiceError(Exception):
    """Root of every error the service raises on purpose; ``param``/``code`` fill the JSON body."""

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code

    def headers(self) -> dict[str, str]:
        return {}


class ClientDisconnected(ServiceError):
    """The client went away before the answer was ready (logged as 499; nobody reads the body)."""


class InvalidRequest(ServiceError):
    """The request is well-formed JSON but a field is wrong or unsupported."""


class AuthenticationFailed(ServiceError):
    """No API key, or a key that matches none of the configured keys."""

    def __init__(self, message: str = "Invalid API key.") -> None:
        super().__init__(message, code="invalid_api_key")


class ForwardNotTrusted(AuthenticationFailed):
    """A request that claims to come from another replica with a missing, forged or expired
    signature (``service.cluster.signing``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.code = "invalid_forward_signature"


class ForwardRefused(ServiceError):
    """A request that claims to come from another replica, on a replica without ``cluster.secret``."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="forwarding_disabled")


class ForwardFailed(ServiceError):
    """Forwarding to the replica that owns the request failed after it was reached (our transport
    between replicas, not Gemini's answer)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="forward_failed")


class Redirected(Exception):
    """The request belongs to another replica; ``response`` answers it from there."""

    def __init__(self, response: Response) -> None:
        super().__init__("answered by another replica")
        self.response = response


class ModelNotFound(ServiceError):
    """The model name is not in the catalog."""

    def __init__(self, model: str) -> None:
        super().__init__(f"The model {model!r} does not exist.", param="model", code="model_not_found")


class MediaLinkRefused(ServiceError):
    """A media link without a valid signature (the signature is the link's only credential)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="invalid_signature")


class MediaLinkExpired(ServiceError):
    """A correctly signed media link past its expiry, or whose file is no longer kept."""


class MediaStorageFailed(ServiceError):
    """The media could not be stored (the bucket refused or was unreachable, the disk failed)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="media_storage_failed")


class PayloadTooLarge(ServiceError):
    """The request body (or an image inside it) exceeds a configured size limit."""

    @classmethod
    def body_over(cls, limit: int) -> PayloadTooLarge:
        """The whole request body is over ``max_body_bytes`` (the body limit and the forwarded gate)."""
        return cls(f"Request body exceeds the limit of {limit} bytes.")


class NotOffered(ServiceError):
    """Accounts are in rotation, and none of their pages offers what the model needs (its family in
    the picker, its tool in the tools menu): adding an account that offers it is the remedy."""

    def __init__(self, message: str) -> None:
        super().__init__(message, param="model", code="not_offered")


class OutOfScope(ServiceError):
    """The API key's scopes do not cover this model family or kind of work (``scope`` names it)."""

    def __init__(self, scope: str, *, param: str | None = None) -> None:
        super().__init__(f"This API key's scopes do not include {scope!r}.", param=param, code="out_of_scope")
        self.scope = scope


class NotImplementedYet(ServiceError):
    """The model exists in the catalog but this gateway cannot serve it through this route yet."""


class CapacityExhausted(ServiceError):
    """Every fitting account is busy or cooling; ``retry_after`` is a hint in seconds."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, code="no_capacity")
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(max(1, math.ceil(self.retry_after)))}


class RateLimited(CapacityExhausted):
    """An API key went over its own limits (requests per minute, concurrent requests)."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, retry_after=retry_after)
        self.code = "rate_limit_exceeded"


class NotFound(ServiceError):
    """An admin resource (account, key) that does not exist."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="not_found")


class Conflict(ServiceError):
    """The resource exists already (e.g. an account with the same name or session)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="conflict")


class UpstreamFailed(ServiceError):
    """Gemini (or the page serving it) failed the turn; ``gemini_code`` is its BardErrorInfo code."""

    def __init__(self, message: str, *, gemini_code: int | None = None, code: str | None = None) -> None:
        # ``gemini_<n>`` only for Gemini's own codes; transport failures name themselves (``code``).
        code = f"gemini_{gemini_code}" if gemini_code is not None else code or "upstream_error"
        super().__init__(message, code=code)
        self.gemini_code = gemini_code


class NoHealthyAccount(ServiceError):
    """No account in rotation can serve this model right now."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="no_healthy_account")


class UpstreamTimedOut(ServiceError):
    """The answer did not start, stalled, or ran past its time budget."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="upstream_timeout")


# Most specific class wins: lookup walks the MRO, so subclasses inherit their parent's row.
_TABLE: dict[type[ServiceError], tuple[int, str]] = {
    ServiceError: (500, "server_error"),
    ClientDisconnected: (499, "client_closed_request"),
    InvalidRequest: (400, "invalid_request_error"),
    AuthenticationFailed: (401, "authentication_error"),
    MediaLinkRefused: (403, "permission_error"),
    MediaLinkExpired: (410, "invalid_request_error"),
    MediaStorageFailed: (502, "server_error"),
    ModelNotFound: (404, "invalid_request_error"),
    PayloadTooLarge: (413, "invalid_request_error"),
    NotOffered: (403, "permission_error"),
    ForwardRefused: (403, "permission_error"),
    ForwardFailed: (502, "replica_error"),
    OutOfScope: (403, "permission_error"),
    NotImplementedYet: (501, "not_implemented_error"),
    CapacityExhausted: (429, "rate_limit_error"),
    NotFound: (404, "invalid_request_error"),
    Conflict: (409, "invalid_request_error"),
    UpstreamFailed: (502, "upstream_error"),
    NoHealthyAccount: (503, "service_unavailable_error"),
    UpstreamTimedOut: (504, "timeout_error"),
}

_HTTP_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "method_not_allowed_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}


class ErrorInfo(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorBody(BaseModel):
    error: ErrorInfo


def status_and_type(exc: ServiceError) -> tuple[int, str]:
    for cls in type(exc).__mro__:
        if cls in _TABLE:
            return _TABLE[cls]
    return _TABLE[ServiceError]


def error_body(exc: BaseException) -> ErrorBody:
    """The OpenAI error body for any exception (unexpected ones never leak their message)."""
    if isinstance(exc, ServiceError):
        _, kind = status_and_type(exc)
        return ErrorBody(error=ErrorInfo(message=exc.message, type=kind, param=exc.param, code=exc.code))
    return ErrorBody(error=ErrorInfo(message="Internal server error.", type="server_error"))


def error_response(exc: BaseException) -> Response:
    """The complete HTTP error response for ``exc`` (for code that runs outside the handlers); for
    ``Redirected``, the other replica's answer."""
    if isinstance(exc, Redirected):
        return exc.response
    if isinstance(exc, ServiceError):
        status, _ = status_and_type(exc)
        return _response(status, error_body(exc), exc.headers())
    return _response(500, error_body(exc))


def _response(status: int, body: ErrorBody, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


async def _on_service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    status, _ = status_and_type(exc)
    if status >= 500:
        log.warning("%s %s failed: %s", request.method, request.url.path, exc.message)
    return error_response(exc)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    first: dict[str, Any] = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        return _response(400, _invalid("The request body is not valid JSON.", None, "invalid_json"))
    location: Sequence[Any] = first.get("loc", ())
    param = _param_path(location)
    message = str(first.get("msg", "Invalid request."))
    detail = f"{message} (at {param})" if param else message
    return _response(400, _invalid(detail, param, None))


def _param_path(location: Sequence[Any]) -> str | None:
    """``("body", "messages", 0, "role")`` → ``messages[0].role``."""
    parts = [part for part in location if part not in ("body", "query", "path", "header")]
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or None


def _invalid(message: str, param: str | None, code: str | None) -> ErrorBody:
    return ErrorBody(error=ErrorInfo(message=message, type="invalid_request_error", param=param, code=code))


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    kind = _HTTP_TYPES.get(
        exc.status_code, "server_error" if exc.status_code >= 500 else "invalid_request_error"
    )
    message = _http_message(request, exc)
    headers = dict(exc.headers) if exc.headers else None
    body = ErrorBody(error=ErrorInfo(message=message, type=kind, code=_http_code(exc.status_code)))
    return _response(exc.status_code, body, headers)


def _http_message(request: Request, exc: StarletteHTTPException) -> str:
    if exc.status_code == 404:
        return f"Unknown route: {request.method} {request.url.path}"
    if exc.status_code == 405:
        return f"Method {request.method} is not allowed on {request.url.path}"
    if exc.status_code == 400 and "parsing the body" in str(exc.detail):
        return "The request body is not valid JSON."
    return str(exc.detail)


def _http_code(status: int) -> str | None:
    return {404: "unknown_route", 405: "method_not_allowed"}.get(status)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _response(500, error_body(exc))


async def _on_redirected(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Redirected)
    return exc.response


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that make every error response OpenAI-shaped."""
    app.add_exception_handler(Redirected, _on_redirected)
    app.add_exception_handler(ServiceError, _on_service_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(Exception, _on_unexpected)
