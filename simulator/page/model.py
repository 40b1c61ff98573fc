"""What the server hands the page renderer: one immutable description of the page to draw."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageModel:
    """Everything the app page needs to render one visit.

    ``wiz`` becomes ``window.WIZ_global_data`` verbatim (``SNlM0e`` only when signed in);
    ``chat`` is ``{"cid","rid","rcid","context_token","turns": [{"prompt","text","thoughts","images"}]}``
    for ``/app/<cid>``; ``chat_missing`` marks an unknown cid.
    """

    ui: str
    tier: str
    wiz: dict[str, str]
    gem: str | None = None
    chat: dict[str, object] | None = None
    chat_missing: bool = False
    signin_marker_delay: float = 0.0  # signed-out markers appear this many seconds after boot
