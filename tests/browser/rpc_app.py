"""A tiny page + batchexecute server for ``call_rpcs``: it records each request and answers with a
framed body built here from docs/architecture/wire-protocol.md (#framing, #batchexecute) (not from
``simulator/``)."""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from tests.protocol.bodies import body, dumps, stats

PATH = "/_/BardChatUi/data/batchexecute"
WIZ = {
    "SNlM0e": "AD1_test_token:1782560022823",
    "cfb2h": "boq_assistant-bard-web-server_20260317.00_p6",
    "FdrFJe": "-2496153149795386683",
    "TuX5cc": "en",
}
PAGE = f"""<!doctype html><html lang="en"><body><p>rpc test page</p>
<script data-id="_gd">window.WIZ_global_data = {json.dumps(WIZ)};</script></body></html>"""


@dataclass
class Recorded:
    query: dict[str, list[str]]
    headers: dict[str, str]
    form: dict[str, list[str]]


@dataclass
class Script:
    """What the server answers next: ``status`` and either the default echo or ``raw``."""

    status: int = 200
    raw: bytes | None = None
    stall: bool = False
    omit: set[str] = field(default_factory=set)
    requests: list[Recorded] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)

    def reset(self) -> None:
        self.released.set()  # frees a handler still stalled by the last test
        self.__init__()  # type: ignore[misc]


def answer_for(rpc_id: str, payload: Any) -> list[Any]:
    """The echo server's answer: the payload it got back, and ``[7]`` for the rpc id ``deny``."""
    if rpc_id == "deny":
        return ["wrb.fr", rpc_id, None, None, None, [7], "generic"]
    return ["wrb.fr", rpc_id, dumps({"echo": payload}), None, None, None, "generic"]


def create_app(script: Script) -> FastAPI:
    app = FastAPI()

    @app.get("/app")
    async def page() -> HTMLResponse:
        return HTMLResponse(PAGE)

    @app.post(PATH)
    async def batchexecute(request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8"))
        script.requests.append(Recorded(parse_qs(request.url.query), dict(request.headers), form))
        if script.stall:
            # Bounded, so the server always shuts down; the client gives up long before.
            await asyncio.to_thread(script.released.wait, 5)
        if script.raw is not None or script.status != 200:
            return Response(script.raw or b"", status_code=script.status)
        calls = json.loads(form["f.req"][0])[0]
        items = [answer_for(rpc_id, json.loads(payload)) for rpc_id, payload, _, _ in calls]
        items = [item for item in items if item[1] not in script.omit]
        return Response(body([[item] for item in items] + [stats()]), media_type="application/json")

    return app
