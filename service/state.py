"""The one typed object the lifespan shares with routes, and the dependencies that read it.

Routes never touch ``app.state`` or ``request.state`` directly: they declare ``GatewayDep`` (the
running gateway) and ``CallerDep`` (the caller ``service.auth.ApiKeyGate`` authenticated before the
body was read).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from service.auth import CALLER_KEY, Caller
from service.backend import Backend
from service.chat.serving import ChatService
from service.conversations import ConversationStore
from service.media.delivery import MediaDelivery
from service.settings import GatewaySettings

__all__ = ["STATE_KEY", "CallerDep", "Gateway", "GatewayDep", "get_caller", "get_gateway"]

STATE_KEY = "gateway"


@dataclass(frozen=True)
class Gateway:
    """Everything a request may use, built once by the lifespan."""

    settings: GatewaySettings
    backend: Backend
    conversations: ConversationStore
    chat: ChatService
    media: MediaDelivery


def get_gateway(request: Request) -> Gateway:
    gateway = getattr(request.state, STATE_KEY, None)
    if not isinstance(gateway, Gateway):
        raise RuntimeError("the gateway is not running (lifespan not started)")
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


def get_caller(request: Request) -> Caller:
    caller = getattr(request.state, CALLER_KEY, None)
    if not isinstance(caller, Caller):
        raise RuntimeError("no authenticated caller (the app was built without ApiKeyGate)")
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]
