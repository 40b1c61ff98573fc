"""An MCP tool call whose work lives on another replica (issue 20 item 3), carried out there.

The tools run on the gateway's services, whose forwarding hooks (``service.cluster.forward``) raise
``Redirected`` where an HTTP request would be sent to another replica: a model no local account
serves, a conversation or a research whose account another replica drives, a video file kept by
the replica that rendered it. An HTTP request's answer would pass through; a tool call's HTTP
response was started by the MCP SDK before the tool ran, so the call itself is sent on instead: the
same ``tools/call`` (its arguments, its id and progress token), as a stateless MCP request to that
replica's ``/mcp`` with the caller's own headers (its key among them), signed like any forward. The
receiver serves it where it arrives (one hop) with its own tools, so the caller gets that replica's
``CallToolResult`` as it is (no second conversion) and its progress notifications as they come.

- Unreachable (nothing was sent): ``None``, and the caller serves the call here as without replicas.
- Reached and failed (an HTTP error, a broken or missing answer): a tool error ``forward_failed``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, ErrorData
from starlette.types import Scope

from service.cluster.forward import Forwarding, Target
from service.errors import ForwardFailed
from service.mcp import results
from service.mcp.tools import Progress

log = logging.getLogger(__name__)

__all__ = ["call_on", "tool_call_body"]


def tool_call_body(request_id: str | int, params: dict[str, Any]) -> bytes:
    """The JSON-RPC ``tools/call`` that carried ``params`` (with its ``_meta``: the progress token)."""
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}).encode()


async def call_on(
    forwarding: Forwarding, target: Target, scope: Scope, body: bytes, progress: Progress
) -> CallToolResult | None:
    """The tool call ``body`` answered by ``target``; None when it could not be connected to."""
    try:
        upstream = await forwarding.open(target, scope, body)
    except (httpx.ConnectError, httpx.ConnectTimeout) as error:
        log.warning("replica %s is unreachable (%s): served here", target.replica, type(error).__name__)
        return None
    except httpx.HTTPError as error:
        log.warning("forwarding to replica %s failed (%s)", target.replica, type(error).__name__)
        return _failed(target, "did not answer")
    try:
        if upstream.status_code != 200:
            log.warning("replica %s answered the tool call %d", target.replica, upstream.status_code)
            return _failed(target, f"answered HTTP {upstream.status_code}")
        async for message in _messages(upstream):
            if message.get("method") == "notifications/progress":
                params = message.get("params") or {}
                await progress(float(params.get("progress") or 0), str(params.get("message") or ""))
            elif "result" in message:
                return CallToolResult.model_validate(message["result"])
            elif "error" in message:  # a protocol error there is the same protocol error here
                raise MCPError.from_error_data(ErrorData.model_validate(message["error"]))
        log.warning("replica %s ended without answering the tool call", target.replica)
        return _failed(target, "stopped answering")
    except (httpx.HTTPError, ValueError) as error:
        log.warning("the answer of replica %s broke off (%s)", target.replica, type(error).__name__)
        return _failed(target, "stopped answering")
    finally:
        await upstream.aclose()


async def _messages(upstream: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The JSON-RPC messages of the answer: one JSON body, or an event stream's ``data`` events."""
    if not upstream.headers.get("content-type", "").startswith("text/event-stream"):
        yield json.loads(await upstream.aread())
        return
    data: list[str] = []
    async for line in upstream.aiter_lines():
        if line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif not line and data:
            yield json.loads("\n".join(data))
            data = []


def _failed(target: Target, what: str) -> CallToolResult:
    return results.failure(ForwardFailed(f"The replica {target.replica!r} that serves this call {what}."))
