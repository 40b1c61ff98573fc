"""The port between the service and the browser pool: ``Backend`` states everything the service
needs from the pool, and nothing is found at run time beyond it.

The request, account, media and snapshot types are the browser layer's own (``TurnRequest``,
``AccountInfo``, ``TurnSnapshot``, ``VideoInfo``, ``Media``, exported by ``browser``); only the two
protocols are the service's. ``Backend.turn(request)`` is an async context manager that leases an
account and yields a ``BackendTurn`` whose iteration gives cumulative snapshots. Beside turns the
port holds the chat history (deleting a chat), the reads of a running research and of a video job
(polled outside any turn), and the account operations of the admin API.

``service.pool_adapter.BrowserBackend`` fits the real ``BrowserPool`` to it and translates its
errors into the service's tree. The wrappers stacked on it once, in the app's lifespan
(``service.app``): ``service.account_groups.GroupedBackend``, ``service.metrics.MeteredBackend``,
``service.key_scopes.ScopedBackend``. Each derives from ``BackendWrapper``, which passes every
method on explicitly, and overrides what it changes; mypy checks the whole stack against
``Backend``, so a method the port gains is a method every layer states.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from browser import (
    AccountInfo,
    AccountSpec,
    EgressInfo,
    Gem,
    GeneratedImage,
    LiveView,
    Media,
    TurnRequest,
    TurnSnapshot,
    VideoInfo,
)

__all__ = ["Backend", "BackendTurn", "BackendWrapper", "DelegatingTurn"]


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


class Backend(Protocol):
    """The pool as the service sees it. Errors raised are ``service.errors`` classes."""

    # -- turns --

    def turn(self, request: TurnRequest) -> AbstractAsyncContextManager[BackendTurn]:
        """Lease an account fitting ``request`` and run the turn on it."""
        ...

    def accounts(self) -> Sequence[AccountInfo]:
        """The accounts and what their pages offer (a snapshot)."""
        ...

    def egresses(self) -> Sequence[EgressInfo]:
        """The egresses (``direct`` or proxies without credentials) and their pacing (a snapshot)."""
        ...

    # -- chat history --

    async def delete_chat(self, account_id: str, chat_id: str) -> None:
        """Delete a chat from the account's Gemini history (through its page)."""
        ...

    # -- research --

    async def research_state(self, account_id: str, research_id: str) -> str:
        """A confirmed research's state: ``awaiting`` | ``running`` | ``done`` (kwDCne)."""
        ...

    async def research_report(self, account_id: str, chat_id: str) -> str | None:
        """The report a finished research wrote into its chat (hNvQHb); None until written."""
        ...

    # -- video lookups --

    async def video_job(self, account_id: str, job_id: str, chat_id: str | None) -> bool | None:
        """Whether a Create-video job finished (kwDCne): a hint, None when it cannot tell."""
        ...

    async def chat_video(self, account_id: str, chat_id: str) -> VideoInfo | None:
        """The newest video of a chat, from its history (hNvQHb): the truth about a job."""
        ...

    # -- account operations (the admin API) --

    async def add_account(self, spec: AccountSpec) -> AccountInfo: ...
    async def remove_account(self, account_id: str, *, forget: bool = False) -> None: ...
    async def check_account(self, account_id: str) -> AccountInfo: ...
    async def refresh_gems(self, account_id: str) -> tuple[Gem, ...]:
        """List the account's Gems again through its page (its ``AccountInfo.gems`` follow)."""
        ...

    async def pause_account(self, account_id: str) -> AccountInfo: ...
    async def resume_account(self, account_id: str) -> AccountInfo: ...
    async def screenshot(self, account_id: str) -> bytes: ...
    def live_view(self, account_id: str) -> AbstractAsyncContextManager[LiveView]:
        """A live view of the account's page at Google's sign-in page, for an operator to sign it
        in (``browser.LiveView``: frames out, input in); ``Conflict`` when one is open for the
        account already. Its input methods raise the browser's ``DriverError`` (naming the kind of
        input only, never what was typed)."""
        ...


class BackendWrapper:
    """A ``Backend`` around ``inner`` that changes nothing: every method of the port passed on,
    each written out. A wrapper derives from it and overrides what it adds to (metering, account
    groups, scopes)."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner

    def turn(self, request: TurnRequest) -> AbstractAsyncContextManager[BackendTurn]:
        return self.inner.turn(request)

    def accounts(self) -> Sequence[AccountInfo]:
        return self.inner.accounts()

    def egresses(self) -> Sequence[EgressInfo]:
        return self.inner.egresses()

    async def delete_chat(self, account_id: str, chat_id: str) -> None:
        await self.inner.delete_chat(account_id, chat_id)

    async def research_state(self, account_id: str, research_id: str) -> str:
        return await self.inner.research_state(account_id, research_id)

    async def research_report(self, account_id: str, chat_id: str) -> str | None:
        return await self.inner.research_report(account_id, chat_id)

    async def video_job(self, account_id: str, job_id: str, chat_id: str | None) -> bool | None:
        return await self.inner.video_job(account_id, job_id, chat_id)

    async def chat_video(self, account_id: str, chat_id: str) -> VideoInfo | None:
        return await self.inner.chat_video(account_id, chat_id)

    async def add_account(self, spec: AccountSpec) -> AccountInfo:
        return await self.inner.add_account(spec)

    async def remove_account(self, account_id: str, *, forget: bool = False) -> None:
        await self.inner.remove_account(account_id, forget=forget)

    async def check_account(self, account_id: str) -> AccountInfo:
        return await self.inner.check_account(account_id)

    async def refresh_gems(self, account_id: str) -> tuple[Gem, ...]:
        return await self.inner.refresh_gems(account_id)

    async def pause_account(self, account_id: str) -> AccountInfo:
        return await self.inner.pause_account(account_id)

    async def resume_account(self, account_id: str) -> AccountInfo:
        return await self.inner.resume_account(account_id)

    async def screenshot(self, account_id: str) -> bytes:
        return await self.inner.screenshot(account_id)

    def live_view(self, account_id: str) -> AbstractAsyncContextManager[LiveView]:
        return self.inner.live_view(account_id)


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
