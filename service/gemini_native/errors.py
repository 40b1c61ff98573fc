"""Google's error envelope for the Gemini-native door, produced here and nowhere else:
``{"error": {"code": <http status>, "message", "status"}}``. ``GoogleErrorRoute`` maps the
``service.errors`` tree (and body validation errors) for the door's routes; ``google_error_response``
serves the key gate, which answers before any route runs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from service.errors import Redirected, ServiceError, status_and_type

log = logging.getLogger(__name__)

__all__ = ["GoogleErrorRoute", "google_error", "google_error_response"]

# Google's canonical status names, by HTTP status (https://ai.google.dev/gemini-api/docs/troubleshooting).
_STATUS: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    410: "NOT_FOUND",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def google_error(status: int, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": _STATUS.get(status, "INTERNAL")}}


def google_error_response(exc: BaseException) -> Response:
    """The whole error response for ``exc``; unexpected errors never leak their message; a request
    another replica answers (``Redirected``) gets that replica's answer."""
    if isinstance(exc, Redirected):
        return exc.response
    if isinstance(exc, ServiceError):
        status, _ = status_and_type(exc)
        return JSONResponse(google_error(status, exc.message), status_code=status, headers=exc.headers())
    return JSONResponse(google_error(500, "Internal error."), status_code=500)


def _validation_message(exc: RequestValidationError) -> str:
    errors = list(exc.errors())
    first: dict[str, Any] = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        return "The request body is not valid JSON."
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    message = str(first.get("msg", "Invalid request."))
    return f"{message} (at {where})" if where else message


class GoogleErrorRoute(APIRoute):
    """A route whose errors are Google-shaped (the app's handlers answer OpenAI's shape)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except Redirected as exc:  # another replica answers it (service.cluster.forward)
                return exc.response
            except ServiceError as exc:
                return google_error_response(exc)
            except RequestValidationError as exc:
                return JSONResponse(google_error(400, _validation_message(exc)), status_code=400)
            except HTTPException:  # FastAPI's own (an unparsable body): the app's handlers shape it
                raise
            except Exception as exc:  # a bug: Google's envelope too, the traceback only in the log
                log.exception("unexpected error on %s %s", request.method, request.url.path)
                return google_error_response(exc)

        return handle
