"""The gateway's pool: ``BrowserPool`` fitted to ``service.backend.Backend`` (the browser's own
``TurnRequest`` passes through untouched), with the browser layer's errors translated into the
service's tree at the boundary.

    NoCapacity         → CapacityExhausted (429, Retry-After)
    NoEligibleAccount  → NoHealthyAccount (503)
    UpstreamRejected   → UpstreamFailed naming the BardErrorInfo code (502, ``gemini_<code>``)
    ConnectionLost     → UpstreamFailed (502, ``upstream_connection_lost``): no Gemini code exists
    HTTPStatusError    → UpstreamFailed (502, ``upstream_http_<status>``)
    UpstreamTimeout    → UpstreamTimedOut (504)
    any other BrowserError → UpstreamFailed without a code (502)

The account operations of the admin API name the account they act on, so two more apply there
first: ``UnknownAccount`` → NotFound (404), and a cookie export that cannot be read
(``CookieFormatError``) → InvalidRequest (400, ``param`` ``cookies``); a second live view of an
account (``LiveViewBusy``) → Conflict (409).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager

from pydantic import SecretStr

from browser import (
    USAGE_LIMIT,
    AccountInfo,
    AccountSpec,
    BrowserError,
    BrowserPool,
    ConnectionLost,
    CookieFileFormat,
    CookieFormatError,
    EgressInfo,
    Gem,
    GeneratedImage,
    HTTPStatusError,
    LiveView,
    LiveViewBusy,
    Media,
    NoCapacity,
    NoEligibleAccount,
    SharedCookieStore,
    SharedHealthStore,
    TemporaryChatUnavailable,
    Turn,
    TurnRequest,
    TurnSnapshot,
    UnknownAccount,
    UpstreamRejected,
    UpstreamTimeout,
    VideoInfo,
    read_cookie_file,
)
from service.backend import Backend, BackendTurn
from service.errors import (
    CapacityExhausted,
    Conflict,
    InvalidRequest,
    NoHealthyAccount,
    NotFound,
    UpstreamFailed,
    UpstreamTimedOut,
)
from service.settings import AccountConfig, GatewaySettings

log = logging.getLogger(__name__)

__all__ = [
    "BrowserBackend",
    "account_spec",
    "add_configured_accounts",
    "browser_backend",
    "map_browser_errors",
]


@contextmanager
def map_browser_errors() -> Iterator[None]:
    """Re-raise browser errors as the service errors the HTTP layer knows how to answer."""
    try:
        yield
    except NoCapacity as exc:
        raise CapacityExhausted(str(exc), retry_after=exc.retry_after) from exc
    except NoEligibleAccount as exc:
        raise NoHealthyAccount(str(exc)) from exc
    except UpstreamRejected as exc:
        if exc.code == USAGE_LIMIT:  # one the pool could not move: pinned, or after content
            raise UpstreamFailed(
                "Gemini's usage limit for this model is reached on the account serving the chat (code 1037).",
                gemini_code=exc.code,
            ) from exc
        raise UpstreamFailed(f"Gemini rejected the request (code {exc.code}).", gemini_code=exc.code) from exc
    except UpstreamTimeout as exc:
        raise UpstreamTimedOut(str(exc) or "Gemini did not answer in time.") from exc
    except ConnectionLost as exc:
        raise UpstreamFailed(
            "The connection to Gemini dropped before the answer ended.", code="upstream_connection_lost"
        ) from exc
    except HTTPStatusError as exc:
        raise UpstreamFailed(
            f"Google answered HTTP {exc.status} to the {exc.what}.", code=f"upstream_http_{exc.status}"
        ) from exc
    except TemporaryChatUnavailable as exc:  # its message names page steps only, never a secret
        raise UpstreamFailed(
            f"A temporary chat could not be started: {exc}.", code="temporary_chat_unavailable"
        ) from exc
    except BrowserError as exc:
        raise UpstreamFailed(f"The browser serving Gemini failed ({type(exc).__name__}).") from exc


@contextmanager
def _account_operation(account_id: str | None, failed: str | None = None) -> Iterator[None]:
    """An admin operation on one account: unknown → 404, unreadable cookies → 400; any other
    browser error as ``map_browser_errors`` has it, or a 502 worded ``failed`` when given (naming
    the error's type only: a message about cookies could quote them)."""
    try:
        yield
    except UnknownAccount:
        raise NotFound(f"No account {account_id!r}.") from None
    except CookieFormatError as exc:
        raise InvalidRequest(f"The cookies cannot be read: {exc}", param="cookies") from None
    except BrowserError as exc:
        if failed is not None:
            raise UpstreamFailed(f"{failed} ({type(exc).__name__}).") from exc
        with map_browser_errors():
            raise


class _TranslatedTurn:
    """A pool ``Turn`` whose iteration and stop raise service errors."""

    def __init__(self, turn: Turn) -> None:
        self._turn = turn

    @property
    def account_id(self) -> str:
        return self._turn.account_id

    def __aiter__(self) -> AsyncIterator[TurnSnapshot]:
        return self._snapshots()

    async def _snapshots(self) -> AsyncIterator[TurnSnapshot]:
        with map_browser_errors():
            async for snapshot in self._turn:
                yield snapshot

    async def stop(self) -> None:
        with map_browser_errors():
            await self._turn.stop()

    async def fetch_media(self, url: str) -> Media:
        with map_browser_errors():
            return await self._turn.fetch_media_full(url)

    async def fetch_original(self, image: GeneratedImage) -> Media:
        with map_browser_errors():
            return await self._turn.fetch_original(image)


class BrowserBackend:
    """``Backend`` over a running ``BrowserPool``: every method of the port, each a call of the
    pool's own (docs/browser-api.md) under the error translation."""

    def __init__(self, pool: BrowserPool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def turn(self, request: TurnRequest) -> AsyncIterator[BackendTurn]:
        with map_browser_errors():
            async with self.pool.turn(request) as turn:
                yield _TranslatedTurn(turn)

    def accounts(self) -> Sequence[AccountInfo]:
        return self.pool.accounts()

    def egresses(self) -> Sequence[EgressInfo]:
        return self.pool.egresses()

    async def delete_chat(self, account_id: str, chat_id: str) -> None:
        with map_browser_errors():
            await self.pool.delete_chat(account_id, chat_id)

    async def research_state(self, account_id: str, research_id: str) -> str:
        with map_browser_errors():
            return await self.pool.research_state(account_id, research_id)

    async def research_report(self, account_id: str, chat_id: str) -> str | None:
        with map_browser_errors():
            return await self.pool.research_report(account_id, chat_id)

    async def video_job(self, account_id: str, job_id: str, chat_id: str | None) -> bool | None:
        with map_browser_errors():
            return await self.pool.video_job(account_id, job_id, chat_id)

    async def chat_video(self, account_id: str, chat_id: str) -> VideoInfo | None:
        with map_browser_errors():
            return await self.pool.chat_video(account_id, chat_id)

    async def add_account(self, spec: AccountSpec) -> AccountInfo:
        with _account_operation(spec.name, "The account could not be started"):
            return await self.pool.add_account(spec)

    async def remove_account(self, account_id: str, *, forget: bool = False) -> None:
        with _account_operation(account_id):
            await self.pool.remove_account(account_id, forget=forget)

    async def check_account(self, account_id: str) -> AccountInfo:
        with _account_operation(account_id):
            return await self.pool.check_account(account_id)

    async def refresh_gems(self, account_id: str) -> tuple[Gem, ...]:
        with _account_operation(account_id):
            return await self.pool.refresh_gems(account_id)

    async def pause_account(self, account_id: str) -> AccountInfo:
        with _account_operation(account_id):
            return await self.pool.pause_account(account_id)

    async def resume_account(self, account_id: str) -> AccountInfo:
        with _account_operation(account_id):
            return await self.pool.resume_account(account_id)

    async def screenshot(self, account_id: str) -> bytes:
        with _account_operation(account_id, f"No screenshot of {account_id!r}"):
            return await self.pool.screenshot(account_id)

    @asynccontextmanager
    async def live_view(self, account_id: str) -> AsyncIterator[LiveView]:
        with _account_operation(account_id, f"No live view of {account_id!r}"):
            try:
                async with self.pool.live_view(account_id) as view:
                    yield view
            except LiveViewBusy:
                raise Conflict(f"A live view of {account_id!r} is open already.") from None


def account_spec(config: AccountConfig) -> AccountSpec:
    """The pool's ``AccountSpec`` for a configured account. A cookie file is read as bytes (Firefox's
    ``cookies.sqlite`` is binary) in any format ``read_cookie_file`` detects; only its Google cookies
    are kept."""
    cookies = None
    if config.cookie_file is not None:
        found = read_cookie_file(config.cookie_file.read_bytes(), CookieFileFormat.AUTO)
        cookies = [cookie.to_export() for cookie in found]
    return AccountSpec(
        name=config.name,
        psid=_reveal(config.psid),
        psidts=_reveal(config.psidts),
        cookies=cookies,
        proxy=_reveal(config.proxy),
    )


def _reveal(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


async def add_configured_accounts(pool: BrowserPool, accounts: Sequence[AccountConfig]) -> int:
    """Add every configured account; one that cannot be read is logged and skipped, not fatal.

    The pool keeps the newest cookies of each account in its store; when the configured cookies carry
    the same session, the stored (refreshed) ones are used, so a restart never goes back to stale
    cookies. Returns how many accounts were added. The accounts start concurrently: each start is a
    page load, and one after another they held back the first request.
    """

    async def add(config: AccountConfig) -> bool:
        try:
            info = await pool.add_account(account_spec(config))
        except (OSError, BrowserError) as exc:
            # Only the exception's type: messages about cookie files could quote their content.
            log.error("account %s was not added (%s)", config.name, type(exc).__name__)
            return False
        log.info("account %s added: %s, tier %s", info.name, info.state.value, info.tier)
        return True

    return sum(await asyncio.gather(*(add(config) for config in accounts)))


@asynccontextmanager
async def browser_backend(
    settings: GatewaySettings,
    *,
    shared_cookies: SharedCookieStore | None = None,
    shared_health: SharedHealthStore | None = None,
) -> AsyncIterator[Backend]:
    """The default pool factory: a ``BrowserPool`` on the gateway's data directory, with the
    configured accounts added before the first request is served. ``shared_cookies``: the
    replicas' shared copy of the accounts' cookies (``state.backend: redis``); ``shared_health``:
    their shared session records and cooldowns."""
    async with BrowserPool(
        settings.pool_settings(), shared_cookies=shared_cookies, shared_health=shared_health
    ) as pool:
        await add_configured_accounts(pool, settings.accounts)
        yield BrowserBackend(pool)
