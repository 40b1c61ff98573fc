"""The only module that imports ``browser``: it fits ``BrowserPool`` to ``service.backend.Backend``
and translates the browser layer's errors into the service's tree at the boundary.

    NoCapacity         → CapacityExhausted (429, Retry-After)
    NoEligibleAccount  → NoHealthyAccount (503)
    UpstreamRejected   → UpstreamFailed naming the BardErrorInfo code (502)
    UpstreamTimeout    → UpstreamTimedOut (504)
    any other BrowserError → UpstreamFailed without a code (502)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import Protocol

from browser import (
    AccountInfo,
    Attachment,
    BrowserError,
    BrowserPool,
    ModeFamily,
    NoCapacity,
    NoEligibleAccount,
    PoolSettings,
    Tool,
    TurnRequest,
    TurnSnapshot,
    UpstreamRejected,
    UpstreamTimeout,
)
from service.backend import AccountView, Backend, BackendTurn, Snapshot, TurnSpec
from service.errors import CapacityExhausted, NoHealthyAccount, UpstreamFailed, UpstreamTimedOut
from service.settings import GatewaySettings

__all__ = [
    "BrowserBackend",
    "PoolAPI",
    "PoolTurn",
    "browser_backend",
    "map_browser_errors",
    "to_turn_request",
]


class PoolTurn(Protocol):
    """The part of the pool's ``Turn`` the service uses."""

    @property
    def account_id(self) -> str: ...
    def __aiter__(self) -> AsyncIterator[TurnSnapshot]: ...
    async def stop(self) -> None: ...


class PoolAPI(Protocol):
    """The part of ``BrowserPool`` the service uses (docs/browser-api.md)."""

    def turn(self, request: TurnRequest) -> AbstractAsyncContextManager[PoolTurn]: ...
    def accounts(self) -> list[AccountInfo]: ...


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
        raise UpstreamFailed(f"Gemini rejected the request (code {exc.code}).", gemini_code=exc.code) from exc
    except UpstreamTimeout as exc:
        raise UpstreamTimedOut(str(exc) or "Gemini did not answer in time.") from exc
    except BrowserError as exc:
        raise UpstreamFailed(f"The browser serving Gemini failed ({type(exc).__name__}).") from exc


def to_turn_request(spec: TurnSpec) -> TurnRequest:
    return TurnRequest(
        prompt=spec.prompt,
        mode=ModeFamily(spec.family.value),
        tool=Tool(spec.tool.value) if spec.tool else None,
        gem=spec.gem,
        attachments=tuple(Attachment(name=f.name, mime=f.mime, data=f.data) for f in spec.files),
        account_id=spec.account_id,
        chat_id=spec.chat_id,
    )


class _TranslatedTurn:
    """A pool ``Turn`` whose iteration and stop raise service errors."""

    def __init__(self, turn: PoolTurn) -> None:
        self._turn = turn

    @property
    def account_id(self) -> str:
        return self._turn.account_id

    def __aiter__(self) -> AsyncIterator[Snapshot]:
        return self._snapshots()

    async def _snapshots(self) -> AsyncIterator[Snapshot]:
        with map_browser_errors():
            async for snapshot in self._turn:
                yield snapshot

    async def stop(self) -> None:
        with map_browser_errors():
            await self._turn.stop()


class BrowserBackend:
    """``Backend`` over a running ``BrowserPool`` (or anything with its API)."""

    def __init__(self, pool: PoolAPI) -> None:
        self.pool = pool

    @asynccontextmanager
    async def turn(self, spec: TurnSpec) -> AsyncIterator[BackendTurn]:
        with map_browser_errors():
            async with self.pool.turn(to_turn_request(spec)) as turn:
                yield _TranslatedTurn(turn)

    def accounts(self) -> Sequence[AccountView]:
        return self.pool.accounts()


@asynccontextmanager
async def browser_backend(settings: GatewaySettings) -> AsyncIterator[Backend]:
    """The default pool factory: a ``BrowserPool`` on the gateway's data directory."""
    pool_settings = PoolSettings(**{**settings.browser, "data_dir": settings.data_dir})
    async with BrowserPool(pool_settings) as pool:
        yield BrowserBackend(pool)
