"""The live view's service side: an operator signs an account in through the account's own page,
from the dashboard (docs/operations/live-sign-in.md).

``WS /admin/accounts/{id}/live`` (also under ``/gemini_official/admin``), admin only: the admin key
as ``Authorization: Bearer`` (API clients), or the dashboard's session cookie from a page of this
gateway (the ``Origin`` must be this host: a page of another origin, even a same-site one on another
port, never rides on the operator's session). Nothing secret is ever in the URL.

Server → client: binary messages are JPEG frames of the page; text messages are JSON:
``{"type": "size", "width", "height"}`` (the CSS pixels a frame shows, the space of input
coordinates; sent before the first frame and whenever it changes), ``{"type": "status", "state":
"open" | "signed_in"}`` (signed in: the account is being re-checked), ``{"type": "error",
"message"}`` (an input message refused; the view stays open) and ``{"type": "ended", "reason":
"signed_in" | "page_closed", "account_state"}`` before the server closes the socket.

Client → server: JSON text messages, coordinates in the frame's CSS pixels: ``down``/``up``
(``x``, ``y``, ``button``, ``clicks``), ``click`` (the same), ``move`` (``x``, ``y``), ``wheel`` (``x``,
``y``, ``dx``, ``dy``), ``key`` (``key``: a named key or one character, ``modifiers``), ``text``
(``text``: typed characters) and ``paste`` (``text``). What is typed or pasted is never logged, echoed
or put in an error: errors name the kind of message only.

Close codes: 1000 when the view ended (signed in, or the page closed); 4404 no such account; 4409 a
live view of the account is open already (one per account); 1011 the view could not be opened. A
handshake without the admin key is refused (HTTP 403) before anything is opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from browser import AccountInfo, AccountSpec, DriverError, LiveEnd, LiveView, SigninMethod
from service.admin.accounts import refuse_remote_profile
from service.admin.auth import SESSION_COOKIE
from service.admin.operations import Operations
from service.admin.remote import refuse_remote
from service.auth import match_key, presented_key
from service.errors import Conflict, NotFound, ServiceError
from service.state import STATE_KEY, Gateway

log = logging.getLogger(__name__)

__all__ = ["add_for_sign_in", "router"]

router = APIRouter()

MAX_MESSAGE = 64 * 1024  # characters of one input message (a paste is at most 10 000 of them)
CLOSE_ENDED = 1000
CLOSE_FAILED = 1011
CLOSE_UNKNOWN = 4404
CLOSE_BUSY = 4409


class _NoWireLines(logging.Filter):
    """uvicorn hands the ``websockets`` library its ``uvicorn.error`` logger, and at DEBUG that
    library logs the wire: every frame (a keystroke, a paste) and the handshake's headers (the
    dashboard's session cookie, an admin key), as ``< ...`` and ``> ...`` lines. Those never reach
    a handler; the library's other lines (``= connection is ...``, ``! ...``) and uvicorn's own do."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg
        return not (isinstance(message, str) and message.startswith(("< ", "> ")))


# On the logger itself, so that it holds whatever handlers the process configures.
logging.getLogger("uvicorn.error").addFilter(_NoWireLines())


class _BadMessage(Exception):
    """An input message that is not one of the protocol's (never carries what was sent)."""


def _ops(websocket: WebSocket) -> Operations:
    gateway = getattr(websocket.state, STATE_KEY, None)
    if not isinstance(gateway, Gateway):  # our bug (an app without the lifespan)
        raise RuntimeError("the gateway is not running (lifespan not started)")
    return gateway.ops


def _admitted(websocket: WebSocket, ops: Operations) -> bool:
    """The admin key, or a dashboard session from a page of this very origin."""
    admin_keys = ops.settings.admin_keys
    if not admin_keys:
        return False
    key = presented_key(websocket.headers.get("authorization"))
    if key is not None:
        return match_key(key, admin_keys) is not None
    if not ops.sessions.valid(websocket.cookies.get(SESSION_COOKIE)):
        return False
    # SameSite=Strict keeps other sites out, but not another port of this host (same site): a
    # browser always sends Origin on a WebSocket handshake, so the page must be ours.
    origin = websocket.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == websocket.headers.get("host")


@router.websocket("/accounts/{account_id}/live")
async def live_view(websocket: WebSocket, account_id: str) -> None:
    ops = _ops(websocket)
    if not _admitted(websocket, ops):
        await websocket.close(code=1008, reason="admin key required")  # before accept: HTTP 403
        return
    await websocket.accept()
    channel = _Channel(websocket)
    try:
        await refuse_remote(ops.accounts, account_id)  # another replica's page: closed as busy, naming it
        async with ops.accounts.backend.live_view(account_id) as view:
            log.info("live view of %s opened", account_id)
            await channel.send_json({"type": "status", "state": "open"})
            reason = await _serve(channel, view)
            if reason is LiveEnd.SIGNED_IN:
                # Leaving the block re-checks the account (a page load): say so meanwhile.
                await channel.send_json({"type": "status", "state": "signed_in"})
    except NotFound as exc:
        await channel.close(CLOSE_UNKNOWN, exc.message)
        return
    except Conflict as exc:
        await channel.close(CLOSE_BUSY, exc.message)
        return
    except ServiceError as exc:
        log.warning("live view of %s failed: %s", account_id, exc.message)
        await channel.close(CLOSE_FAILED, exc.message)
        return
    log.info("live view of %s ended: %s", account_id, reason.value if reason else "operator left")
    if reason is None or reason is LiveEnd.CLOSED:
        return
    state = _state(ops, account_id)
    await channel.send_json({"type": "ended", "reason": reason.value, "account_state": state})
    await channel.close(CLOSE_ENDED, "signed in" if reason is LiveEnd.SIGNED_IN else "the page closed")


def _state(ops: Operations, account_id: str) -> str | None:
    try:
        info: AccountInfo = ops.accounts.get(account_id)
    except NotFound:
        return None
    return "paused" if info.paused else info.state.value


async def _serve(channel: _Channel, view: LiveView) -> LiveEnd | None:
    """Frames out and input in until the view ends (its reason) or the operator leaves (None)."""
    frames = asyncio.create_task(_pump(channel, view))
    inputs = asyncio.create_task(_listen(channel, view))
    ended = asyncio.create_task(view.wait_ended())
    tasks = (frames, inputs, ended)
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
    if view.ended and view.end_reason is not LiveEnd.CLOSED:
        return view.end_reason
    return None  # the operator's tab closed (the socket is gone)


async def _pump(channel: _Channel, view: LiveView) -> None:
    size: tuple[int, int] | None = None
    while (frame := await view.next_frame()) is not None:
        if (frame.width, frame.height) != size:
            size = (frame.width, frame.height)
            await channel.send_json({"type": "size", "width": frame.width, "height": frame.height})
        await channel.send_bytes(frame.jpeg)


async def _listen(channel: _Channel, view: LiveView) -> None:
    """Input messages until the socket closes. A refused message is answered, never quoted."""
    while True:
        message = await channel.websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        try:
            if not isinstance(text, str) or len(text) > MAX_MESSAGE:
                raise _BadMessage("input messages are JSON text of at most 64 KiB")
            await _apply(view, _parse(text))
        except _BadMessage as exc:
            await channel.send_json({"type": "error", "message": str(exc)})
        except DriverError as exc:
            if view.ended:
                return
            await channel.send_json({"type": "error", "message": str(exc)})


def _parse(text: str) -> dict[str, Any]:
    try:
        message = json.loads(text)
    except ValueError:
        raise _BadMessage("an input message is not JSON") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise _BadMessage("an input message is a JSON object with a type")
    return message


def _number(message: dict[str, Any], field: str) -> float:
    value = message.get(field)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _BadMessage(f"{field} must be a number")
    return float(value)


def _string(message: dict[str, Any], field: str, default: str | None = None) -> str:
    value = message.get(field, default)
    if not isinstance(value, str):
        raise _BadMessage(f"{field} must be a string")
    return value


def _clicks(message: dict[str, Any]) -> int:
    value = message.get("clicks", 1)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _BadMessage("clicks must be a whole number")
    return value


async def _apply(view: LiveView, message: dict[str, Any]) -> None:
    kind = message["type"]
    if kind in ("down", "up"):
        await view.press_button(
            _number(message, "x"),
            _number(message, "y"),
            button=_string(message, "button", "left"),
            down=kind == "down",
            clicks=_clicks(message),
        )
    elif kind == "click":
        await view.click(
            _number(message, "x"),
            _number(message, "y"),
            button=_string(message, "button", "left"),
            clicks=_clicks(message),
        )
    elif kind == "move":
        await view.move(_number(message, "x"), _number(message, "y"))
    elif kind == "wheel":
        await view.wheel(
            _number(message, "x"), _number(message, "y"), _number(message, "dx"), _number(message, "dy")
        )
    elif kind == "key":
        modifiers = message.get("modifiers", [])
        if not isinstance(modifiers, list) or not all(isinstance(m, str) for m in modifiers):
            raise _BadMessage("modifiers must be a list of names")
        await view.key(_string(message, "key"), tuple(modifiers))
    elif kind == "text":
        await view.type_text(_string(message, "text"))
    elif kind == "paste":
        await view.paste(_string(message, "text"))
    else:
        raise _BadMessage("unknown input message type")


class _Channel:
    """The socket, written by the frame pump and the input loop at once: one send at a time, and
    nothing sent once it is closed."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self._lock = asyncio.Lock()

    async def send_json(self, value: dict[str, Any]) -> None:
        await self._send({"type": "websocket.send", "text": json.dumps(value)})

    async def send_bytes(self, data: bytes) -> None:
        await self._send({"type": "websocket.send", "bytes": data})

    async def _send(self, message: dict[str, Any]) -> None:
        async with self._lock:
            if self.websocket.application_state is not WebSocketState.CONNECTED:
                raise WebSocketDisconnect()
            try:
                await self.websocket.send(message)
            except (OSError, RuntimeError):  # the operator's side went away meanwhile
                raise WebSocketDisconnect() from None

    async def close(self, code: int, reason: str) -> None:
        async with self._lock:
            if self.websocket.application_state is not WebSocketState.CONNECTED:
                return
            # A close reason is at most 123 bytes.
            shown = reason.encode()[:120].decode(errors="ignore")
            with contextlib.suppress(OSError, RuntimeError):
                await self.websocket.close(code=code, reason=shown)


async def add_for_sign_in(ops: Operations, name: str) -> AccountInfo:
    """The account "Add account → Sign in inside the gateway" creates, before its live view opens: a
    profile account (``SigninMethod.SIGNED_IN_INSIDE``) whose new, empty profile starts signed out;
    the session the operator signs in then lives in that profile."""
    spec = AccountSpec(name=name, signin_method=SigninMethod.SIGNED_IN_INSIDE)
    refuse_remote_profile(spec, ops.settings.pool_settings().launch_mode)
    return await ops.accounts.add(spec)
