"""Run an ASGI app in a real uvicorn server on a free loopback port, in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _ThreadServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the main thread belongs to pytest
        pass


@contextmanager
def serve(app: Any, *, port: int | None = None, startup_timeout: float = 15.0) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 and yield its base URL (``http://localhost:<port>``).

    The URL uses ``localhost`` because Chromium treats it as a secure origin, so the
    ``__Secure-`` cookies that Gemini uses can be set and sent over plain HTTP.
    """
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = _ThreadServer(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"server on port {port} did not start")
        time.sleep(0.02)
    try:
        yield f"http://localhost:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
