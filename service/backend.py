"""The port between the service and the browser pool: the few shapes serving code depends on.

These mirror the documented pool API (docs/browser-api.md): ``turn(request)`` is an async context
manager that leases an account and yields a ``Turn`` whose iteration gives cumulative snapshots;
``accounts()`` lists capability snapshots. ``service.pool_adapter`` fits the real ``BrowserPool``
to them and translates its errors into the service's tree; tests script them in-process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Protocol

from browser import GeneratedImage, Media
from service.catalog import AccountCapabilities, Family, ToolName

__all__ = ["AccountView", "Backend", "BackendTurn", "DelegatingTurn", "FileInput", "Snapshot", "TurnSpec"]


@dataclass(frozen=True)
class FileInput:
    """A file to upload with the prompt (an image, or ``message.txt`` for an oversized prompt)."""

    name: str
    mime: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class TurnSpec:
    """What to type into the page. ``chat_id`` continues a chat and needs ``account_id``."""

    prompt: str
    family: Family
    tool: ToolName | None = None
    gem: str | None = None
    files: tuple[FileInput, ...] = ()
    account_id: str | None = None
    chat_id: str | None = None
    paid_only: bool = False


class Snapshot(Protocol):
    """The cumulative state of an answer (the browser layer's ``TurnSnapshot`` fits)."""

    @property
    def text(self) -> str: ...
    @property
    def thoughts(self) -> str | None: ...
    @property
    def completed(self) -> bool: ...
    @property
    def error_code(self) -> int | None: ...
    @property
    def served_model_label(self) -> str | None: ...
    @property
    def cid(self) -> str | None: ...
    @property
    def images(self) -> Sequence[GeneratedImage]: ...


class BackendTurn(Protocol):
    """One leased turn: iterate for snapshots; ``stop()`` stops the page's answer. The media
    methods download through the account's context (its cookies): ``fetch_media`` one URL (the
    preview the page shows), ``fetch_original`` an image's full-size original (inside the lease)."""

    @property
    def account_id(self) -> str: ...
    def __aiter__(self) -> AsyncIterator[Snapshot]: ...
    async def stop(self) -> None: ...
    async def fetch_media(self, url: str) -> Media: ...
    async def fetch_original(self, image: GeneratedImage) -> Media: ...


class AccountView(AccountCapabilities, Protocol):
    @property
    def id(self) -> str: ...


class Backend(Protocol):
    """The pool as the service sees it. Errors raised are ``service.errors`` classes."""

    def turn(self, spec: TurnSpec) -> AbstractAsyncContextManager[BackendTurn]: ...
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

    def __aiter__(self) -> AsyncIterator[Snapshot]:
        return self._snapshots()

    async def _snapshots(self) -> AsyncIterator[Snapshot]:
        async for snapshot in self._turn:
            yield snapshot

    async def stop(self) -> None:
        await self._turn.stop()

    async def fetch_media(self, url: str) -> Media:
        return await self._turn.fetch_media(url)

    async def fetch_original(self, image: GeneratedImage) -> Media:
        return await self._turn.fetch_original(image)
