"""Per-key scopes: an API key may be limited to model families (``flash``, ``pro``) and to kinds of
work (``chat``, ``images``, ``video``, ``research``, ``canvas``, ``storybook``). A key without
scopes may use everything (the behaviour before scopes existed).

The two halves are independent: a key naming families may use only models of those families, a key
naming kinds only those kinds, and a key naming both only their intersection (``["flash", "chat"]``:
Flash text chat). A request outside them is ``OutOfScope`` (403 ``permission_error`` naming the scope).

Checked in three places, so that no route can slip past: the ``/images`` and ``/videos`` routes by
path, before the body is read (``ScopeGate``); every turn by its mode, tool and gem, whichever route
asked for it (``ScopedBackend``: chat, Responses, completions, long-running answers, video jobs);
and the model list, which shows only what the key may use (``allows``). The reads of a running
research or video job are research and video work: a key without that kind may not make them
(a research confirmed earlier is collected without a turn).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager

from starlette.types import ASGIApp, Receive, Scope, Send

from browser import Tool, TurnRequest, VideoInfo
from service.auth import CALLER_KEY, CURRENT_CALLER, Caller
from service.backend import BackendTurn, BackendWrapper
from service.catalog import CATALOG, ModelSpec
from service.errors import InvalidRequest, OutOfScope, error_response

__all__ = [
    "FAMILY_SCOPES",
    "KIND_SCOPES",
    "SCOPES",
    "ScopeGate",
    "ScopedBackend",
    "allows",
    "check_model",
    "kind_of",
    "normalise_scopes",
    "refusal",
]

FAMILY_SCOPES: tuple[str, ...] = tuple(sorted({spec.family.value for spec in CATALOG}))
KIND_SCOPES: tuple[str, ...] = ("chat", "images", "video", "research", "canvas", "storybook", "music")
SCOPES: tuple[str, ...] = FAMILY_SCOPES + KIND_SCOPES

_TOOL_KINDS = {
    Tool.IMAGE: "images",
    Tool.VIDEO: "video",
    Tool.DEEP_RESEARCH: "research",
    Tool.CANVAS: "canvas",
    Tool.MUSIC: "music",
}
_GEM_KINDS = {"storybook": "storybook"}
# Routes that are one kind of work whatever the body says (suffixes of the path after a prefix).
_ROUTE_KINDS = (("/images/", "images"), ("/videos", "video"))


def kind_of(tool: Tool | None, gem: str | None) -> str:
    """The kind of work a turn with this tool and gem is; plain text is ``chat``."""
    if gem is not None:
        return _GEM_KINDS.get(gem, "chat")
    return _TOOL_KINDS.get(tool, "chat") if tool is not None else "chat"


def normalise_scopes(values: Iterable[str] | None) -> tuple[str, ...] | None:
    """Scopes as stored: known names only (400 naming the unknown one), lower case, each once, in
    ``SCOPES`` order; None or an empty list means no scopes (everything allowed)."""
    if values is None:
        return None
    wanted = {value.strip().lower() for value in values if value.strip()}
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        message = f"Unknown scope {unknown[0]!r}; scopes are {', '.join(SCOPES)}."
        raise InvalidRequest(message, param="scopes", code="unknown_scope")
    return tuple(scope for scope in SCOPES if scope in wanted) or None


def refusal(scopes: frozenset[str] | None, family: str, kind: str) -> str | None:
    """The scope a key lacks for ``family`` and ``kind`` work, or None when it may do it."""
    return _lacking(scopes, FAMILY_SCOPES, family) or _lacking(scopes, KIND_SCOPES, kind)


def _lacking(scopes: frozenset[str] | None, half: tuple[str, ...], wanted: str) -> str | None:
    """``wanted`` when the key names scopes of this half and not it (a half it leaves out is open)."""
    named = scopes.intersection(half) if scopes else frozenset()
    return wanted if named and wanted not in named else None


def allows(scopes: frozenset[str] | None, spec: ModelSpec) -> bool:
    return refusal(scopes, spec.family.value, kind_of(spec.tool, spec.gem)) is None


def check_model(caller: Caller | None, spec: ModelSpec) -> None:
    """``OutOfScope`` when ``caller``'s key may not use the model ``spec``."""
    scopes = caller.scopes if caller is not None else None
    missing = refusal(scopes, spec.family.value, kind_of(spec.tool, spec.gem))
    if missing is not None:
        raise OutOfScope(missing, param="model")


class ScopedBackend(BackendWrapper):
    """A ``Backend`` that refuses turns outside the calling key's scopes (``CURRENT_CALLER``, set by
    the key gate for the request being served), before any account is leased, and research and
    video lookups to a key without that kind. Chat deletion and the account operations (no
    caller) pass on unchanged."""

    def turn(self, request: TurnRequest) -> AbstractAsyncContextManager[BackendTurn]:
        missing = refusal(_scopes(), request.mode.value, kind_of(request.tool, request.gem))
        if missing is not None:
            raise OutOfScope(missing, param="model")
        return self.inner.turn(request)

    async def research_state(self, account_id: str, research_id: str) -> str:
        _check_kind("research")
        return await self.inner.research_state(account_id, research_id)

    async def research_report(self, account_id: str, chat_id: str) -> str | None:
        _check_kind("research")
        return await self.inner.research_report(account_id, chat_id)

    async def video_job(self, account_id: str, job_id: str, chat_id: str | None) -> bool | None:
        _check_kind("video")
        return await self.inner.video_job(account_id, job_id, chat_id)

    async def chat_video(self, account_id: str, chat_id: str) -> VideoInfo | None:
        _check_kind("video")
        return await self.inner.chat_video(account_id, chat_id)


def _scopes() -> frozenset[str] | None:
    caller = CURRENT_CALLER.get()
    return caller.scopes if caller is not None else None


def _check_kind(kind: str) -> None:
    """``OutOfScope`` when the calling key names kinds of work and not ``kind``."""
    missing = _lacking(_scopes(), KIND_SCOPES, kind)
    if missing is not None:
        raise OutOfScope(missing)


class ScopeGate:
    """Pure ASGI, inside the key gate: the image and video routes are refused to a key without the
    ``images`` / ``video`` scope before their body (a multipart upload, maybe) is read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            caller = scope.get("state", {}).get(CALLER_KEY)
            kind = _route_kind(str(scope.get("path", "")))
            # Only the kind is known here: the family is checked on the model, when a turn starts.
            scopes = caller.scopes if isinstance(caller, Caller) else None
            missing = _lacking(scopes, KIND_SCOPES, kind) if kind is not None else None
            if missing is not None:
                await error_response(OutOfScope(missing))(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _route_kind(path: str) -> str | None:
    for prefix in ("/gemini_official/v1", "/v1"):
        if path.startswith(prefix + "/"):
            rest = path[len(prefix) :]
            for start, kind in _ROUTE_KINDS:
                if rest.startswith(start) or rest == start.rstrip("/"):
                    return kind
    return None
