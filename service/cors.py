"""CORS for browser clients: the outermost layer, so a preflight is answered before the API-key gate
(a browser never sends ``Authorization`` on a preflight) and error answers carry the headers too.

Keys travel in ``Authorization``, never in cookies, so credentials stay off: a page on any allowed
origin can call the API with a key it holds, and no ambient cookie is ever honoured.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

__all__ = ["DEFAULT_CORS_ORIGINS", "add_cors"]

DEFAULT_CORS_ORIGINS = ("*",)
# Allowed request headers are the preflight's own (``*`` mirrors them): SDKs running in a browser
# add their own (openai-node sends ``x-stainless-*``), and Authorization is never covered by a
# literal ``*`` in Access-Control-Allow-Headers, so it must be echoed by name.
_MAX_AGE = 600


def add_cors(app: FastAPI, origins: Sequence[str]) -> None:
    """Wrap ``app`` (call after every other ``add_middleware``: the last added runs first)."""
    if not origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(origins),
        allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
        allow_headers=["*"],
        allow_credentials=False,
        expose_headers=["Retry-After", "X-Request-Id"],
        max_age=_MAX_AGE,
    )
