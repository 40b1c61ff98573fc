"""Decoding what the Gemini page receives from StreamGenerate: pure functions, no I/O.

Layers, each usable alone: ``FrameSplitter`` / ``split_body`` turn body bytes into frame JSON texts
(UTF-16 lengths, frames split anywhere across chunks); ``parse_frame`` turns a frame into envelope
items; ``jspb_get`` / ``normalise`` read JSPB arrays in dense or ``{"26": ...}`` object form;
``TurnDecoder`` / ``decode_turn`` build ``TurnSnapshot``s of one answer; ``check_framing`` lists
framing-rule violations for fidelity tests. Every decoding failure raises
``browser.errors.ProtocolError``. Wire layout: research/protocol.md §4-§6.
"""

from __future__ import annotations

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
from browser.protocol._rich import GeneratedImage, ResearchInfo, ResearchStep, VideoInfo, WebImage
from browser.protocol._snapshot import TurnSnapshot, clean_text
from browser.protocol._turn import TurnDecoder, decode_turn

__all__ = [
    "Envelope",
    "ErrorEnvelope",
    "FrameSplitter",
    "GeneratedImage",
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
    "check_framing",
    "clean_text",
    "decode_turn",
    "jspb_get",
    "normalise",
    "parse_frame",
    "split_body",
    "utf16_len",
]
