"""The FastAPI app factory. The lifespan owns the stores and the pool (entered with ``async with``),
assembles the wrapper stack over the pool once, builds every service once and shares them as one
typed ``Gateway`` (``service.state``); routes live under ``/gemini_official/v1`` and ``/v1``. Pure
ASGI layers wrap everything; among them, outermost first, the API-key gate (so a caller without a
valid key gets 401 before any body is read or parsed), then the body-size limit.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import FastAPI

from browser import SharedCookieStore, SharedHealthStore
from service.account_groups import GroupedBackend
from service.admin.operations import ADMIN_PREFIXES, Operations
from service.admin.remote import account_reporter
from service.admin.router import metrics_router
from service.admin.router import router as admin_router
from service.admin.ui import router as ui_router
from service.anthropic.errors import AnthropicErrors
from service.anthropic.router import MESSAGES_PATH
from service.anthropic.router import router as anthropic_router
from service.auth import ApiKeyGate, KeyDoor
from service.backend import Backend
from service.body_limit import BodySizeLimit
from service.catalog import Catalog, OutputKind
from service.chat.admission import ImageAdmission
from service.chat.longrun import LongrunOptions, ResearchChat, ResearchOptions, ShapedChat
from service.chat.music import MusicChat
from service.chat.router import router as chat_router
from service.chat.serving import ChatService, ServingOptions
from service.chat.servings import ChatServings
from service.cluster.forward import FORWARDING_KEY, ForwardedGate, ForwardScope
from service.cluster.lifespan import forwarding, owned_pool, pool_settings
from service.completions.router import router as completions_router
from service.completions.serving import CompletionService
from service.conversations_api.router import router as conversations_router
from service.cors import add_cors
from service.errors import install_error_handlers
from service.fetch import FetchPolicy
from service.gem_models import GemAliases
from service.gemini_native.errors import google_error_response
from service.gemini_native.router import NATIVE_PREFIXES, UPLOAD_PREFIXES, upload_router
from service.gemini_native.router import router as gemini_native_router
from service.health import router as health_router
from service.images.chat import ImagenChat
from service.images.router import router as images_router
from service.images.serving import ImageOptions, ImageService
from service.janitor import ChatJanitor
from service.key_scopes import ScopedBackend, ScopeGate
from service.mcp.endpoint import McpEndpoint
from service.media.base_url import RequestBaseUrl
from service.media.delivery import MEDIA_ROUTE, MediaDelivery
from service.media.router import router as media_router
from service.metrics import MeteredBackend, RequestMetrics
from service.models.router import router as models_router
from service.request_ids import RequestIds
from service.responses.lifespan import responses_service
from service.responses.router import router as responses_router
from service.settings import GatewaySettings
from service.state import STATE_KEY, Gateway
from service.stores.backends import open_stores
from service.stores.interfaces import ChatMappings, ResearchLog
from service.videos.lifespan import video_jobs
from service.videos.router import router as videos_router
from service.watermark.auto import AutoCalibration

log = logging.getLogger(__name__)

__all__ = ["ROUTE_PREFIXES", "PoolFactory", "create_app"]

ROUTE_PREFIXES = ("/gemini_official/v1", "/v1")
# A refused image request may retry soon: slots free as soon as images are loaded.
IMAGE_RETRY_AFTER = 1.0

PoolFactory = Callable[[GatewaySettings], AbstractAsyncContextManager[Backend]]


def _browser_pool(
    settings: GatewaySettings,
    cookies: SharedCookieStore | None = None,
    health: SharedHealthStore | None = None,
) -> AbstractAsyncContextManager[Backend]:
    # Imported here so the service can be built (and tested) without starting Chromium.
    from service.pool_adapter import browser_backend

    return browser_backend(settings, shared_cookies=cookies, shared_health=health)


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
        reasoning_format=settings.reasoning_format,
        temporary_by_default=settings.temporary_chats_by_default,
        catalog=Catalog(GemAliases.from_settings(settings.gems)),  # this app's own Gem aliases
        admission=ImageAdmission(
            total=settings.image_requests,
            per_key=settings.image_requests_per_key,
            request_bytes=settings.image_request_bytes,
            retry_after=IMAGE_RETRY_AFTER,
        ),
    )


def _janitor(settings: GatewaySettings, store: ChatMappings, backend: Backend) -> ChatJanitor:
    return ChatJanitor(
        store,
        backend,
        settings.delete_chats,
        timeout=settings.delete_chats_timeout,
        purge_interval=settings.conversation_purge_interval,
    )


def longrun_options(settings: GatewaySettings, media: MediaDelivery) -> LongrunOptions:
    return LongrunOptions(
        delivery=media,
        bucket=settings.media.s3 is not None,
        video_inline_max_bytes=settings.video_inline_max_bytes,
        video_max_wait=settings.video_max_wait,
        video_poll_interval=settings.video_poll_interval,
    )


def research_options(settings: GatewaySettings, registry: ResearchLog) -> ResearchOptions:
    return ResearchOptions(
        registry=registry,
        max_wait=settings.research_max_wait,
        stream_max_wait=settings.research_stream_max_wait,
        poll_interval=settings.research_poll_interval,
    )


@asynccontextmanager
async def _running(
    settings: GatewaySettings, ops: Operations, pool_factory: PoolFactory | None
) -> AsyncIterator[Gateway]:
    """Everything the gateway runs, started in order and closed in reverse: the stores, the pool,
    the wrapper stack over it, the janitor, media delivery, the video jobs, the Responses runs and
    the watermark calibration; every service built here, once."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    async with AsyncExitStack() as stack:
        # Every store, on SQLite files or the shared Redis (``state.backend``), closed last.
        stores = await open_stores(
            settings.state,
            settings.data_dir,
            ttl=settings.conversation_ttl,
            purge_interval=settings.conversation_purge_interval,
        )
        stack.push_async_callback(stores.aclose)
        ops.use_keys(stores.keys)
        stack.callback(ops.use_keys, None)
        store = stores.conversations
        # The browser pool shares its accounts' cookies on Redis; a given factory's pool is its own.
        pool = await stack.enter_async_context(
            _browser_pool(pool_settings(settings, stores), stores.cookies, stores.health)
            if pool_factory is None
            else pool_factory(pool_settings(settings, stores))
        )
        # On a shared Redis, this replica drives its share of the accounts only (service.cluster).
        pool, ownership = await stack.enter_async_context(owned_pool(settings, pool, stores))
        # The wrapper stack, once: every turn and every lookup of the service goes through it.
        # Scopes first: a refused turn is the caller's error, never a turn that was metered; groups
        # innermost, so that the account a grouped turn names is the one metered.
        backend: Backend = ScopedBackend(MeteredBackend(GroupedBackend(pool), ops.metrics))
        await stack.enter_async_context(ops.running(backend, stores.accounts, ownership))
        # Expired mappings are purged by the janitor, at once and then periodically.
        janitor = await stack.enter_async_context(_janitor(settings, store, backend))
        # Replicas sign and check local links with one key, made once in the shared state.
        secret = None
        if stores.secrets is not None and settings.media.generated_key:
            secret = await stores.secrets.shared("media_links")
        media = await stack.enter_async_context(MediaDelivery.from_settings(settings, shared_secret=secret))
        registry = stores.researches
        videos = await stack.enter_async_context(
            video_jobs(settings, backend, stores.videos, clustered=ownership is not None)
        )
        chat = ChatService(backend, store, serving_options(settings), janitor)
        catalog = chat.options.catalog  # the models this app serves, its Gem aliases with them
        if ownership is not None:  # each round publishes this replica's accounts for the others
            ownership.reporter = account_reporter(ops.accounts, catalog)
            await ownership.report_now()  # before serving: the others route models by these fields
        # Requests that live on another replica go there (service.cluster.forward): clustered, with a secret.
        forwarder = await stack.enter_async_context(forwarding(settings, ownership, stores))
        responses = await stack.enter_async_context(
            responses_service(settings, chat, stores.responses, stores.objects)
        )
        # Calibration turns are the gateway's own: on the pool, unscoped and unmetered.
        watermark = await stack.enter_async_context(
            AutoCalibration(pool, settings.data_dir, settings.watermark_alpha_dir)
        )
        if settings.watermark_calibrate_at_start and settings.watermark_alpha_dir is None:
            watermark.start()
        images = ImageService(
            backend,
            ImageOptions(
                settings.stop_timeout, watermark=watermark, delivery=media, janitor=janitor, catalog=catalog
            ),
        )
        longrun = longrun_options(settings, media)
        chats = ChatServings(
            chat=chat,
            imagen=ImagenChat(images, chat.options),
            canvas=ShapedChat(chat, OutputKind.DOCUMENT, longrun),
            storybook=ShapedChat(chat, OutputKind.STORY, longrun),
            video=ShapedChat(chat, OutputKind.VIDEO, longrun),
            deep_research=ResearchChat(chat, research_options(settings, registry)),
            music=MusicChat(chat, longrun, audio_ttl=min(settings.media.link_ttl, settings.media.max_age)),
            catalog=catalog,
        )
        yield Gateway(
            settings=settings,
            backend=backend,
            conversations=store,
            chat=chat,
            chats=chats,
            completions=CompletionService(chat),
            images=images,
            responses=responses,
            videos=videos,
            media=media,
            ops=ops,
            catalog=catalog,
            watermark=watermark,
            stores=stores,
            forwarding=forwarder,
        )


def create_app(settings: GatewaySettings, pool_factory: PoolFactory | None = None) -> FastAPI:
    """Build the gateway app; nothing starts until the ASGI lifespan does."""
    ops = Operations(settings)  # keys and metrics (the gates read them), admin, dashboard
    mcp = McpEndpoint(max_body_bytes=settings.max_body_bytes)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with _running(settings, ops, pool_factory) as gateway, mcp.running():
            state: dict[str, Any] = {STATE_KEY: gateway}
            if gateway.forwarding is not None:  # what the forwarding layers read (pure ASGI)
                state[FORWARDING_KEY] = gateway.forwarding
            yield state

    app = FastAPI(title="Gemini gateway", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    install_error_handlers(app)
    for prefix in ROUTE_PREFIXES:
        app.include_router(chat_router, prefix=prefix)
        app.include_router(completions_router, prefix=prefix)
        app.include_router(models_router, prefix=prefix)
        app.include_router(images_router, prefix=prefix)
        app.include_router(videos_router, prefix=prefix)
        app.include_router(responses_router, prefix=prefix)
        app.include_router(conversations_router, prefix=prefix)
        app.include_router(anthropic_router, prefix=prefix)  # Anthropic's Messages API
    for prefix in NATIVE_PREFIXES:  # Google's /v1beta generateContent surface (google-genai SDK)
        app.include_router(gemini_native_router, prefix=prefix)
    for prefix in UPLOAD_PREFIXES:  # its Files API upload path: refused in Google's envelope
        app.include_router(upload_router, prefix=prefix)
    app.router.routes.append(mcp.route)  # POST /mcp (service.mcp), behind the API keys like /v1
    app.include_router(media_router)  # GET /media/<name>: signed links, at the root (no API key)
    # /healthz, /readyz, /metrics, /admin: gated by themselves (``ops.own_gates``), not by API keys.
    app.include_router(health_router)
    app.include_router(metrics_router)
    for prefix in ADMIN_PREFIXES:
        app.include_router(admin_router, prefix=prefix)
    app.include_router(ui_router, prefix="/admin/ui")
    # The last middleware added runs first: the key is checked before the body is even counted.
    # Innermost: a request that lives on another replica is sent there (service.cluster.forward).
    app.add_middleware(ForwardScope, prefixes=ROUTE_PREFIXES + NATIVE_PREFIXES)
    app.add_middleware(RequestBaseUrl)  # lets MediaDelivery.url_for build links for this request
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(ScopeGate)  # the key's scopes, by route, once the gate knows the key
    app.add_middleware(
        ApiKeyGate,
        keys=settings.api_keys,
        open_access=settings.open_access,
        public_prefixes=(MEDIA_ROUTE,),
        own_gates=ops.own_gates,
        directory=ops,
        doors=(KeyDoor(NATIVE_PREFIXES + UPLOAD_PREFIXES, google_error_response),),
    )
    # A request forwarded by another replica proves it before the key gate (which then counts it once).
    app.add_middleware(ForwardedGate, max_bytes=settings.max_body_bytes)
    # Anthropic's error shape on its routes, whoever refused (the key gate included): outside the gate.
    app.add_middleware(AnthropicErrors, prefixes=[prefix + MESSAGES_PATH for prefix in ROUTE_PREFIXES])
    app.add_middleware(RequestMetrics, metrics=ops.metrics, media_prefix=MEDIA_ROUTE, quiet=ops.own_gates)
    app.add_middleware(RequestIds)  # every request (401s included) gets its id before it is counted
    add_cors(app, settings.cors_origins)  # outermost: a preflight never meets the key gate
    return app
