"""The one typed object the lifespan shares with routes, and the dependencies that read it.

Routes never touch ``app.state`` or ``request.state`` directly: they declare ``GatewayDep`` (the
running gateway) and ``CallerDep`` (the caller ``service.auth.ApiKeyGate`` authenticated before the
body was read).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Request

from service.auth import CALLER_KEY, Caller
from service.backend import Backend
from service.chat.serving import ChatService
from service.conversations import ConversationStore
from service.media.delivery import MediaDelivery
from service.settings import GatewaySettings
from service.watermark.auto import AutoCalibration

__all__ = ["STATE_KEY", "CallerDep", "Gateway", "GatewayDep", "get_caller", "get_gateway", "lifespan_part"]

STATE_KEY = "gateway"
_T = TypeVar("_T")


@dataclass(frozen=True)
class Gateway:
    """Everything a request may use, built once by the lifespan."""

    settings: GatewaySettings
    backend: Backend
    conversations: ConversationStore
    chat: ChatService
    media: MediaDelivery
    watermark: AutoCalibration | None = None  # the mark's alpha maps, calibrated on first need


def lifespan_part(request: Request, key: str, kind: type[_T], what: str) -> _T:
    """The ``kind`` the lifespan left in the request state under ``key``; its absence is our bug
    (an app built without that lifespan part), never the caller's."""
    part = getattr(request.state, key, None)
    if not isinstance(part, kind):
        raise RuntimeError(f"{what} is not running (lifespan not started)")
    return part


def get_gateway(request: Request) -> Gateway:
    return lifespan_part(request, STATE_KEY, Gateway, "the gateway")


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


def get_caller(request: Request) -> Caller:
    caller = getattr(request.state, CALLER_KEY, None)
    if not isinstance(caller, Caller):
        raise RuntimeError("no authenticated caller (the app was built without ApiKeyGate)")
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]
