"""A webhook receiver on loopback (real uvicorn, ``tests.support.servers.serve``) for the alerts'
tests: it records every try and answers the first ``fail_first`` with 503, the rest with
``status_after``."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.servers import serve

__all__ = ["TOKEN", "Receiver", "receiving"]

TOKEN = "hook-token-5f1e9c"  # in the webhook's path: must never be logged


@dataclass
class Receiver:
    fail_first: int = 0
    status_after: int = 204
    tries: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def hook(self, request: Request) -> Response:
        raw = (await request.body()).decode()
        with self.lock:
            self.tries.append(
                {"body": json.loads(raw), "raw": raw, "event_header": request.headers.get("x-gateway-event")}
            )
            failing = len(self.tries) <= self.fail_first
        return Response(status_code=503 if failing else self.status_after)

    def delivered(self) -> list[dict[str, Any]]:
        """Bodies answered with success, in order."""
        with self.lock:
            answered = self.tries[self.fail_first :] if self.status_after < 300 else []
            return [entry["body"] for entry in answered]

    def raw(self) -> str:
        """Every body as sent, tries included: where a secret must never be."""
        with self.lock:
            return "\n".join(entry["raw"] for entry in self.tries)

    def app(self) -> Starlette:
        return Starlette(routes=[Route(f"/hooks/{TOKEN}", self.hook, methods=["POST"])])


@contextmanager
def receiving(receiver: Receiver) -> Iterator[str]:
    """Serve ``receiver``; yields the webhook's URL (its path carries ``TOKEN``)."""
    with serve(receiver.app()) as url:
        yield f"{url}/hooks/{TOKEN}"
