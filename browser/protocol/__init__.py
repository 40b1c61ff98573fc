"""Decoding what the Gemini page receives from StreamGenerate: pure functions, no I/O.

Layers, each usable alone: ``FrameSplitter`` / ``split_body`` turn body bytes into frame JSON texts
(UTF-16 lengths, frames split anywhere across chunks); ``parse_frame`` turns a frame into envelope
items; ``jspb_get`` / ``normalise`` read JSPB arrays in dense or ``{"26": ...}`` object form;
``TurnDecoder`` / ``decode_turn`` build ``TurnSnapshot``s of one answer; ``check_framing`` lists
framing-rule violations for fidelity tests; ``decode_batchexecute`` turns a side-RPC answer into
one ``BatchResult`` per RPC (#batchexecute) and ``decode_account_status`` reads the ``otAQ7b`` answer
(#account-status).
Every decoding failure raises ``browser.errors.ProtocolError``. Wire layout:
docs/architecture/wire-protocol.md.
"""

from __future__ import annotations

from browser.protocol._account_status import (
    ACCOUNT_STATUS_RPC,
    STATUS_AVAILABLE,
    STATUS_LOCATION_UNSUPPORTED,
    STATUS_TERMS_OUTDATED,
    STATUS_TERMS_PENDING,
    STATUS_UNAUTHENTICATED,
    AccountStatusAnswer,
    OfferedModel,
    capacity_of,
    decode_account_status,
)
from browser.protocol._batchexecute import BatchResult, decode_batchexecute
from browser.protocol._envelopes import (
    Envelope,
    ErrorEnvelope,
    ResultEnvelope,
    StatsEnvelope,
    TrailerEnvelope,
    UnknownEnvelope,
    XsrfError,
    parse_frame,
)
from browser.protocol._frames import FrameSplitter, split_body, utf16_len
from browser.protocol._framing_check import check_framing
from browser.protocol._jspb import jspb_get, normalise
from browser.protocol._quota import QuotaBucket, QuotaInfo
from browser.protocol._rich import (
    GeneratedImage,
    MusicInfo,
    ResearchInfo,
    ResearchStep,
    VideoInfo,
    WebImage,
)
from browser.protocol._snapshot import TurnSnapshot, clean_text
from browser.protocol._turn import TurnDecoder, decode_turn

__all__ = [
    "ACCOUNT_STATUS_RPC",
    "STATUS_AVAILABLE",
    "STATUS_LOCATION_UNSUPPORTED",
    "STATUS_TERMS_OUTDATED",
    "STATUS_TERMS_PENDING",
    "STATUS_UNAUTHENTICATED",
    "AccountStatusAnswer",
    "BatchResult",
    "Envelope",
    "ErrorEnvelope",
    "FrameSplitter",
    "GeneratedImage",
    "MusicInfo",
    "OfferedModel",
    "QuotaBucket",
    "QuotaInfo",
    "ResearchInfo",
    "ResearchStep",
    "ResultEnvelope",
    "StatsEnvelope",
    "TrailerEnvelope",
    "TurnDecoder",
    "TurnSnapshot",
    "UnknownEnvelope",
    "VideoInfo",
    "WebImage",
    "XsrfError",
    "capacity_of",
    "check_framing",
    "clean_text",
    "decode_account_status",
    "decode_batchexecute",
    "decode_turn",
    "jspb_get",
    "normalise",
    "parse_frame",
    "split_body",
    "utf16_len",
]
