"""What the server hands the page renderer: one immutable description of the page to draw."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageModel:
    """Everything the app page needs to render one visit.

    ``wiz`` becomes ``window.WIZ_global_data`` verbatim (``SNlM0e`` only when signed in);
    ``chat`` is ``{"cid","rid","rcid","context_token","turns": [{"prompt","text","thoughts","images"}]}``
    for ``/app/<hex>``; ``chat_missing`` marks a chat that cannot be loaded. ``plan`` is
    ``paid``/``plus``/``free``/``anon``; the other fields carry the settings the page reads.
    """

    ui: str
    plan: str
    wiz: dict[str, str]
    gem: str | None = None
    gem_card: tuple[str, str] | None = None  # the Gem's (name, description), None for an unknown id
    chat: dict[str, object] | None = None
    chat_missing: bool = False
    signin_marker_delay: float = 0.0  # signed-out markers appear this many seconds after boot
    thinking_control: str = "auto"
    label_fill_delay: float = 0.0
    tools_label: str = "Upload and tools"
    tools_exclusive: bool = False
    capacity: int = 1
    # The resumable upload's origin (the other loopback name) and the sim-only session token that
    # names the account there, where the page's cookies are not sent (simulator/routes/uploads.py).
    upload_origin: str = ""
    upload_session: str = ""
    temporary_chat: bool = True  # the side nav offers "Temporary chat" (simulator/page/temporary.py)
