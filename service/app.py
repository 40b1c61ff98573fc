"""The FastAPI app factory. The lifespan owns the conversation store and the pool (entered with
``async with``) and shares them as one typed ``Gateway``; routes live under ``/gemini_official/v1``
and ``/v1``. Two pure ASGI layers wrap everything, outermost first: the API-key gate (so a caller
without a valid key gets 401 before any body is read or parsed), then the body-size limit.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from service.auth import ApiKeyGate
from service.backend import Backend
from service.body_limit import BodySizeLimit
from service.chat.router import router as chat_router
from service.chat.serving import ChatService, ServingOptions
from service.conversations import ConversationStore
from service.errors import install_error_handlers
from service.fetch import FetchPolicy
from service.models.router import router as models_router
from service.settings import GatewaySettings
from service.state import STATE_KEY, Gateway

log = logging.getLogger(__name__)

__all__ = ["ROUTE_PREFIXES", "PoolFactory", "create_app"]

ROUTE_PREFIXES = ("/gemini_official/v1", "/v1")

PoolFactory = Callable[[GatewaySettings], AbstractAsyncContextManager[Backend]]


def _browser_pool(settings: GatewaySettings) -> AbstractAsyncContextManager[Backend]:
    # Imported here so the service can be built (and tested) without starting Chromium.
    from service.pool_adapter import browser_backend

    return browser_backend(settings)


def serving_options(settings: GatewaySettings) -> ServingOptions:
    policy = FetchPolicy(
        timeout=settings.fetch_timeout,
        max_bytes=settings.max_image_bytes,
        allowed_types=settings.image_types,
        max_redirects=settings.fetch_max_redirects,
        allow_private=settings.fetch_allow_private,
    )
    return ServingOptions(
        fetch_policy=policy,
        max_images=settings.max_images,
        max_prompt_bytes=settings.max_prompt_bytes,
        stop_timeout=settings.stop_timeout,
    )


def create_app(settings: GatewaySettings, pool_factory: PoolFactory = _browser_pool) -> FastAPI:
    """Build the gateway app; nothing starts until the ASGI lifespan does."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Gateway]]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with ConversationStore(settings.conversations_path, ttl=settings.conversation_ttl) as store:
            purged = store.purge_expired()
            log.info("conversation store ready (%d expired entries purged)", purged)
            async with pool_factory(settings) as backend:
                chat = ChatService(backend, store, serving_options(settings))
                yield {STATE_KEY: Gateway(settings, backend, store, chat)}

    app = FastAPI(title="Gemini gateway", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    install_error_handlers(app)
    for prefix in ROUTE_PREFIXES:
        app.include_router(chat_router, prefix=prefix)
        app.include_router(models_router, prefix=prefix)
    # The last middleware added runs first: the key is checked before the body is even counted.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(ApiKeyGate, keys=settings.api_keys, open_access=settings.open_access)
    return app
