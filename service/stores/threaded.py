"""The SQLite stores behind the async store interfaces (``service.stores.interfaces``): their code
stays synchronous (``sqlite3`` blocks) and each call runs in a worker thread, so the event loop
never waits on the disk. One line per method::

    class ThreadedKeyStore(Threaded[KeyStore]):
        get = threaded(KeyStore.get)

keeps the method's signature (parameters typed through ``ParamSpec``), awaited."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

__all__ = ["Threaded", "threaded"]

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")


class Threaded(Generic[S]):
    """An async face of the synchronous store ``sync`` (which the tests of its own may still use)."""

    def __init__(self, sync: S) -> None:
        self.sync = sync

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.sync!r})"


def threaded(
    method: Callable[Concatenate[S, P], R],
) -> Callable[Concatenate[Threaded[S], P], Coroutine[Any, Any, R]]:
    """``method`` of the synchronous store, as an async method of its ``Threaded`` face."""

    async def call(self: Threaded[S], /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.to_thread(method, self.sync, *args, **kwargs)

    call.__name__ = method.__name__
    call.__doc__ = method.__doc__
    return call
