"""A tiny page + server that streams a StreamGenerate-like body chunk by chunk, gated by the test."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, StreamingResponse

PATH = "/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate"

PAGE = f"""<!doctype html><html><body>
<button id="go-xhr" onclick="goXhr()">xhr</button><button id="go-fetch" onclick="goFetch()">fetch</button>
<pre id="out"></pre>
<script>
function goXhr() {{
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "{PATH}?rt=c");
  xhr.onprogress = () => {{ document.getElementById("out").textContent = xhr.responseText; }};
  xhr.send("f.req=x");
  window.currentXhr = xhr;
}}
async function goFetch() {{
  const response = await fetch("{PATH}?rt=c", {{method: "POST", body: "f.req=x"}});
  await response.text();
}}
</script></body></html>"""


class Gate:
    """Chunks the server may send; the test releases them one by one."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.released = 0
        self.lock = threading.Lock()
        self.disconnected = threading.Event()

    def release(self, count: int = 1) -> None:
        with self.lock:
            self.released += count


def create_app(gate: Gate) -> FastAPI:
    app = FastAPI()

    @app.get("/")
    async def page() -> HTMLResponse:
        return HTMLResponse(PAGE)

    @app.post(PATH)
    async def stream() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            sent = 0
            try:
                for _ in range(2000):  # bounded: 20 s at most
                    with gate.lock:
                        allowed = gate.released
                    while sent < min(allowed, len(gate.chunks)):
                        yield gate.chunks[sent]
                        sent += 1
                    if sent == len(gate.chunks):
                        return
                    await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                gate.disconnected.set()
                raise

        return StreamingResponse(body(), media_type="application/json")

    return app
