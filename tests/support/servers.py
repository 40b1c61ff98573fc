"""Run an ASGI app in a real uvicorn server on a free loopback port, in a background thread."""

from __future__ import annotations

import asyncio
import contextlib
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


_GRACE = 10.0  # seconds a response still running may take to finish when the server stops


class _ThreadServer(uvicorn.Server):
    """uvicorn in a thread that stops as soon as it is told to: uvicorn's own loop looks for the
    exit flag every 100 ms and its shutdown sleeps another 100 ms, 0.2 s for every test's server."""

    _wake: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    def install_signal_handlers(self) -> None:  # the main thread belongs to pytest
        pass

    async def main_loop(self) -> None:
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's steps (stop listening, close the connections once their responses end, then
        the app's lifespan shutdown), polled every 5 ms; responses still running after ``_GRACE``
        seconds are cancelled, as uvicorn's ``timeout_graceful_shutdown`` does."""
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        deadline = time.monotonic() + _GRACE
        busy = self.server_state  # connections and tasks: uvicorn signals no event when they end
        while (busy.connections or busy.tasks) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        for task in self.server_state.tasks:
            task.cancel()
        for server in self.servers:
            await server.wait_closed()
        await self.lifespan.shutdown()

    def stop(self) -> None:
        self.should_exit = True
        if self._loop is not None and self._wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has ended already
                self._loop.call_soon_threadsafe(self._wake.set)


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
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                # Stopped all the same: an app still starting (a loaded machine) would otherwise
                # run on, a clustered one heartbeating into the next tests' Redis.
                raise RuntimeError(f"server on port {port} did not start")
            time.sleep(0.02)
        yield f"http://localhost:{port}"
    finally:
        server.stop()
        thread.join(timeout=_GRACE + 5)
