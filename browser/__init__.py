"""The browser layer: Chromium pages logged in per account, driven like a user, answers read from
the page's own StreamGenerate responses. ``service/`` uses only the names exported here."""

from __future__ import annotations

from browser._accounts import AccountInfo, AccountSpec, AccountState, SigninMethod
from browser._answers import USAGE_LIMIT
from browser._capabilities import PageModel, ThinkingControl
from browser._cookie import Cookie
from browser._cookie_formats import CookieFileFormat, detect_format, read_cookie_file
from browser._diagnosis import Diagnosis, ElementCheck, Presence, Presentation, RpcCall, diagnose
from browser._egress import EgressInfo
from browser._gems import Gem
from browser._health import Cooldown, NeedsPerson, SessionRecord
from browser._launcher import profile_dir
from browser._live import LiveEnd, LiveFrame, LiveView
from browser._media import Media
from browser._overrides import PageOverrides, load_overrides
from browser._pool import BrowserPool
from browser._profiles import (
    chromium_major,
    import_profile,
    profile_holder,
    refuse_if_held,
    run_signin_window,
    signin_command,
)
from browser._requests import Attachment, ModeFamily, ThinkingLevel, Tool, TurnRequest
from browser._settings import EgressLimits, EgressPacing, LaunchMode, PoolSettings
from browser._store import SharedCookieStore, SharedHealthStore, StoredCookies
from browser._turn import Turn
from browser.errors import (
    AccountUnavailable,
    BrowserError,
    ConnectionLost,
    CookieFormatError,
    DriverError,
    EgressBusy,
    HTTPStatusError,
    InvalidProxy,
    LaunchFailed,
    LiveViewBusy,
    NavigationFailed,
    NoCapacity,
    NoEligibleAccount,
    ProfileRefused,
    ProtocolError,
    SelectorMissing,
    StepTimeout,
    TargetClosed,
    TemporaryChatUnavailable,
    ToolNotOffered,
    TransportError,
    UnavailableReason,
    UnknownAccount,
    UpstreamRejected,
    UpstreamTimeout,
)
from browser.protocol import GeneratedImage, MusicInfo, ResearchInfo, TurnSnapshot, VideoInfo, clean_text

__all__ = [
    "USAGE_LIMIT",
    "AccountInfo",
    "AccountSpec",
    "AccountState",
    "AccountUnavailable",
    "Attachment",
    "BrowserError",
    "BrowserPool",
    "ConnectionLost",
    "Cookie",
    "CookieFileFormat",
    "CookieFormatError",
    "Cooldown",
    "Diagnosis",
    "DriverError",
    "EgressBusy",
    "EgressInfo",
    "EgressLimits",
    "EgressPacing",
    "ElementCheck",
    "Gem",
    "GeneratedImage",
    "HTTPStatusError",
    "InvalidProxy",
    "LaunchFailed",
    "LaunchMode",
    "LiveEnd",
    "LiveFrame",
    "LiveView",
    "LiveViewBusy",
    "Media",
    "ModeFamily",
    "MusicInfo",
    "NavigationFailed",
    "NeedsPerson",
    "NoCapacity",
    "NoEligibleAccount",
    "PageModel",
    "PageOverrides",
    "PoolSettings",
    "Presence",
    "Presentation",
    "ProfileRefused",
    "ProtocolError",
    "ResearchInfo",
    "RpcCall",
    "SelectorMissing",
    "SessionRecord",
    "SharedCookieStore",
    "SharedHealthStore",
    "SigninMethod",
    "StepTimeout",
    "StoredCookies",
    "TargetClosed",
    "TemporaryChatUnavailable",
    "ThinkingControl",
    "ThinkingLevel",
    "Tool",
    "ToolNotOffered",
    "TransportError",
    "Turn",
    "TurnRequest",
    "TurnSnapshot",
    "UnavailableReason",
    "UnknownAccount",
    "UpstreamRejected",
    "UpstreamTimeout",
    "VideoInfo",
    "chromium_major",
    "clean_text",
    "detect_format",
    "diagnose",
    "import_profile",
    "load_overrides",
    "profile_dir",
    "profile_holder",
    "read_cookie_file",
    "refuse_if_held",
    "run_signin_window",
    "signin_command",
]
