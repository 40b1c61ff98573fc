"""The one typed object the lifespan shares with routes, and the dependencies that read it.

The lifespan (``service.app``) builds every service once and leaves one ``Gateway`` in the request
state, under one key. Routes never touch ``app.state`` or ``request.state`` directly: they declare
``GatewayDep`` (the running gateway) and ``CallerDep`` (the caller ``service.auth.ApiKeyGate``
authenticated before the body was read), and do HTTP only: no service is built per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from service.admin.operations import Operations
from service.auth import CALLER_KEY, Caller
from service.backend import Backend
from service.catalog import Catalog
from service.chat.serving import ChatService
from service.chat.servings import ChatServings
from service.cluster.forward import Forwarding
from service.completions.serving import CompletionService
from service.images.serving import ImageService
from service.media.delivery import MediaDelivery
from service.responses.serving import ResponsesService
from service.settings import GatewaySettings
from service.stores.backends import Stores
from service.stores.interfaces import ChatMappings
from service.videos.jobs import VideoJobs
from service.watermark.auto import AutoCalibration

__all__ = ["STATE_KEY", "CallerDep", "Gateway", "GatewayDep", "get_caller", "get_gateway"]

STATE_KEY = "gateway"


@dataclass(frozen=True)
class Gateway:
    """Everything a request may use, built once by the lifespan."""

    settings: GatewaySettings
    backend: Backend  # the wrapper stack: scopes, metering, account groups, the pool
    conversations: ChatMappings
    chat: ChatService  # text chat; the engine of Responses and legacy completions too
    chats: ChatServings  # /chat/completions: the serving of each kind of model
    completions: CompletionService
    images: ImageService
    responses: ResponsesService
    videos: VideoJobs
    media: MediaDelivery
    ops: Operations  # keys, metrics, account admin, dashboard sessions
    catalog: Catalog  # the models this app serves: the catalog, its Gem aliases, the accounts' Gems
    watermark: AutoCalibration | None = None  # the mark's alpha maps, calibrated on first need
    stores: Stores | None = None  # every store, on SQLite or the shared Redis (``state.backend``)
    forwarding: Forwarding | None = None  # the way to the other replicas (``service.cluster.forward``)


def get_gateway(request: Request) -> Gateway:
    gateway = getattr(request.state, STATE_KEY, None)
    if not isinstance(gateway, Gateway):  # our bug (an app without the lifespan), not the caller's
        raise RuntimeError("the gateway is not running (lifespan not started)")
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


def get_caller(request: Request) -> Caller:
    caller = getattr(request.state, CALLER_KEY, None)
    if not isinstance(caller, Caller):
        raise RuntimeError("no authenticated caller (the app was built without ApiKeyGate)")
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]
