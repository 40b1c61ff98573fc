"""An account's Gems, listed through the page's own gem RPC.

The web app lists Gems with batchexecute ``CNgdBe``: ``[3, [lang], 0]`` for the premade ones
(``4`` adds hidden ones) and ``[2, [lang], 0]`` for the account's own; each answer's ``[2]`` holds
rows ``[id, [name, description], [instructions]]`` (protocol.md §8; Gems since 2025-06, their
batchexecute RPCs since 2025-07/08). We ask both in one call from inside one of the account's pages
with its own tokens (``browser._rpc``), as ``browser._chats`` deletes chats; a Gem's chat is then
``/gem/<id>`` (docs/architecture/evidence.md#a2) and its turns carry the id at inner[19].
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from browser._account_context import PageHolder
from browser._rpc import call_from_context
from browser.errors import UpstreamRejected
from browser.protocol import jspb_get

log = logging.getLogger(__name__)

__all__ = ["GEMS_RPC", "Gem", "gem_path", "list_gems"]

GEMS_RPC = "CNgdBe"
_PREMADE = 3
_CUSTOM = 2


@dataclass(frozen=True)
class Gem:
    """One Gem of an account: ``id`` is what ``/gem/<id>`` and ``TurnRequest.gem`` take; ``premade``
    for Google's own Gems (the same for everyone), false for the account's custom ones."""

    id: str
    name: str
    description: str
    instructions: str
    premade: bool


async def list_gems(
    context: PageHolder | None,
    *,
    lang: str = "en",
    timeout: float,  # noqa: ASYNC109 - passed on to the page's fetch, which must be bounded too
) -> tuple[Gem, ...]:
    """The account's custom Gems, then the premade ones; raises ``UpstreamRejected`` when Google
    refuses either list, other ``BrowserError``s when the page cannot ask."""
    gems: list[Gem] = []
    # Two calls: ``call_rpcs`` tells answers apart by rpc id, and both lists are the same RPC.
    for kind, is_premade in ((_CUSTOM, False), (_PREMADE, True)):
        calls: list[tuple[str, object]] = [(GEMS_RPC, [kind, [lang], 0])]
        (result,) = await call_from_context(context, calls, timeout=timeout)
        if result.error_code is not None:
            raise UpstreamRejected(result.error_code, None, f"{GEMS_RPC} refused to list the Gems")
        gems.extend(_gems(result.payload, premade=is_premade))
    return tuple(gems)


def _gems(payload: Any, *, premade: bool) -> list[Gem]:
    rows = jspb_get(payload, 2)
    found: list[Gem] = []
    for row in rows if isinstance(rows, list) else []:
        gem_id, name = jspb_get(row, 0), jspb_get(row, 1, 0)
        if not isinstance(gem_id, str) or not gem_id or not isinstance(name, str):
            log.debug("a %s row without an id or a name was skipped", GEMS_RPC)
            continue
        found.append(
            Gem(
                id=gem_id,
                name=name,
                description=_text(jspb_get(row, 1, 1)),
                instructions=_text(jspb_get(row, 2, 0)),
                premade=premade,
            )
        )
    return found


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def gem_path(gem_id: str, chat_id: str | None = None) -> str:
    """A Gem's page, ``/gem/<id>``, and one of its chats, ``/gem/<id>/<hex>`` (the chat's hex as in
    ``/app/<hex>``; the Gem part of a continued chat's URL is our reading, as the app keeps the Gem
    in the address while one of its chats is open)."""
    return f"/gem/{gem_id}" if chat_id is None else f"/gem/{gem_id}/{chat_id.removeprefix('c_')}"
