"""The browser layer's exception tree. Every error that leaves ``browser/`` is one of these.

BrowserError
 └── ProtocolError          the page's network answer could not be decoded
"""

from __future__ import annotations

__all__ = ["BrowserError", "ProtocolError"]


class BrowserError(Exception):
    """Root of every error raised by the browser layer."""


class ProtocolError(BrowserError):
    """A StreamGenerate body broke the framing or payload rules."""
