"""The port between the service and the browser pool, as the service's serving code sees it.

The request, attachment, mode and snapshot types are the browser layer's own (``TurnRequest``,
``Attachment``, ``ModeFamily``, ``Tool``, ``TurnSnapshot``, exported by ``browser``); only what is
the service's own lives here. ``Backend.turn(request)`` is an async context manager that leases an
account and yields a ``BackendTurn`` whose iteration gives cumulative snapshots; ``accounts()``
lists capability snapshots. ``service.pool_adapter`` fits the real ``BrowserPool`` to it and
translates its errors into the service's tree; wrappers (metering, account groups, long-running
answers) stack on it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from browser import GeneratedImage, Media, TurnRequest, TurnSnapshot
from service.catalog import AccountCapabilities

__all__ = ["AccountView", "Backend", "BackendTurn", "DelegatingBackend", "DelegatingTurn"]


class BackendTurn(Protocol):
    """One leased turn: iterate for snapshots; ``stop()`` stops the page's answer. The media
    methods download through the account's context (its cookies): ``fetch_media`` one URL (the
    preview the page shows), ``fetch_original`` an image's full-size original (inside the lease)."""

    @property
    def account_id(self) -> str: ...
    def __aiter__(self) -> AsyncIterator[TurnSnapshot]: ...
    async def stop(self) -> None: ...
    async def fetch_media(self, url: str) -> Media: ...
    async def fetch_original(self, image: GeneratedImage) -> Media: ...


class AccountView(AccountCapabilities, Protocol):
    @property
    def id(self) -> str: ...


class Backend(Protocol):
    """The pool as the service sees it. Errors raised are ``service.errors`` classes."""

    def turn(self, request: TurnRequest) -> AbstractAsyncContextManager[BackendTurn]: ...
    def accounts(self) -> Sequence[AccountView]: ...
    async def delete_chat(self, account_id: str, chat_id: str) -> None:
        """Delete a chat from the account's Gemini history (through its page)."""
        ...


class DelegatingTurn:
    """A ``BackendTurn`` that passes everything to ``turn``; a wrapper overrides ``_snapshots``
    (metering, replaying a first snapshot, reshaping) and inherits the rest."""

    def __init__(self, turn: BackendTurn) -> None:
        self._turn = turn

    @property
    def account_id(self) -> str:
        return self._turn.account_id

    def __aiter__(self) -> AsyncIterator[TurnSnapshot]:
        return self._snapshots()

    async def _snapshots(self) -> AsyncIterator[TurnSnapshot]:
        async for snapshot in self._turn:
            yield snapshot

    async def stop(self) -> None:
        await self._turn.stop()

    async def fetch_media(self, url: str) -> Media:
        return await self._turn.fetch_media(url)

    async def fetch_original(self, image: GeneratedImage) -> Media:
        return await self._turn.fetch_original(image)


class DelegatingBackend:
    """A ``Backend`` wrapper's pass-through part: everything but ``turn`` goes to ``inner``, also
    what the backend protocol gains later (reads such as a research's state, not turns)."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner

    def accounts(self) -> Sequence[AccountView]:
        return self.inner.accounts()

    async def delete_chat(self, account_id: str, chat_id: str) -> None:
        await self.inner.delete_chat(account_id, chat_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
