"""A small forwarding HTTP proxy on loopback (one request per connection), recording what it served.

With ``credentials`` it answers 407 until the client sends matching Basic proxy credentials.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

from tests.support.servers import free_port


class RecordingProxy:
    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        self.credentials = credentials
        self.seen: list[str] = []  # request targets it forwarded
        self.refused = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            lines = head.decode("latin-1").split("\r\n")
            method, target, version = lines[0].split(" ", 2)
            headers = [line for line in lines[1:] if line]
            if self.credentials and not self._authorised(headers):
                self.refused += 1
                writer.write(
                    b'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="t"\r\n'
                    b"Content-Length: 0\r\nConnection: close\r\n\r\n"
                )
                await writer.drain()
                return
            parts = urlsplit(target)
            self.seen.append(target)
            upstream_reader, upstream_writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            kept = [
                h
                for h in headers
                if h.split(":", 1)[0].lower()
                not in {"connection", "proxy-connection", "proxy-authorization", "keep-alive"}
            ]
            upstream_writer.write(
                (
                    f"{method} {path} {version}\r\n" + "\r\n".join([*kept, "Connection: close"]) + "\r\n\r\n"
                ).encode("latin-1")
            )
            await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer))
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
            pass
        finally:
            writer.close()

    def _authorised(self, headers: list[str]) -> bool:
        assert self.credentials is not None
        expected = base64.b64encode(":".join(self.credentials).encode()).decode()
        return any(
            h.lower().startswith("proxy-authorization:") and h.split()[-1] == expected for h in headers
        )

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await asyncio.wait_for(source.read(65536), 30):
                sink.write(data)
                await sink.drain()
        with contextlib.suppress(OSError):
            sink.close()


@contextlib.contextmanager
def running_proxy(proxy: RecordingProxy) -> Iterator[str]:
    """Serve ``proxy`` in a background thread; yields ``http://127.0.0.1:<port>``."""
    port = free_port()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    stop = asyncio.Event()

    async def main() -> None:
        server = await asyncio.start_server(proxy.handle, "127.0.0.1", port)
        started.set()
        async with server:
            await stop.wait()

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("proxy did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=5)
