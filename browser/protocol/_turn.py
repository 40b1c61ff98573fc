"""Decoding one StreamGenerate answer incrementally: bytes in, ``TurnSnapshot``s out.

``TurnDecoder`` chains the frame splitter, the envelope parser and the snapshot update. It hands
out a new snapshot as soon as a frame changes the state, so the first text is available the moment
its frame's last byte arrives, and the sequence of snapshots does not depend on how the body was
chunked.
"""

from __future__ import annotations

from browser.errors import ProtocolError
from browser.protocol._envelopes import (
    ErrorEnvelope,
    ResultEnvelope,
    TrailerEnvelope,
    XsrfError,
    parse_frame,
)
from browser.protocol._frames import FrameSplitter
from browser.protocol._snapshot import TurnSnapshot, apply_error, apply_payload, apply_xsrf

__all__ = ["TurnDecoder", "decode_turn"]


class TurnDecoder:
    """Feed the response body of one StreamGenerate call in chunks; read snapshots as they form."""

    def __init__(self) -> None:
        self._splitter = FrameSplitter()
        self._snapshot = TurnSnapshot()
        self._finished = False
        self._closed = False

    @property
    def snapshot(self) -> TurnSnapshot:
        """The state decoded so far (also after a ``ProtocolError``, for partial answers)."""
        return self._snapshot

    @property
    def finished(self) -> bool:
        """The ``e`` trailer arrived: the server ended the body normally."""
        return self._finished

    def feed(self, data: bytes) -> list[TurnSnapshot]:
        """Consume a chunk; return one snapshot per frame in it that changed the state."""
        if self._closed:
            raise ProtocolError("data fed to a closed turn decoder")
        return self._frames(self._splitter.feed(data))

    def close(self) -> TurnSnapshot:
        """End of body: the final snapshot; raises ``ProtocolError`` when the body was cut short."""
        if not self._closed:
            self._closed = True
            self._frames(self._splitter.close())
        if not self._finished and not self._snapshot.xsrf_rejected:
            raise ProtocolError(
                f"body ended without its trailer after {self._snapshot.frames} content frames"
            )
        return self._snapshot

    def _frames(self, texts: list[str]) -> list[TurnSnapshot]:
        snapshots: list[TurnSnapshot] = []
        for text in texts:
            before = self._snapshot
            self._frame(text)
            if self._snapshot != before:
                snapshots.append(self._snapshot)
        return snapshots

    def _frame(self, text: str) -> None:
        for envelope in parse_frame(text):
            if self._finished:
                raise ProtocolError("envelope items after the trailer")
            if isinstance(envelope, ResultEnvelope):
                if envelope.payload is not None:
                    self._snapshot = apply_payload(self._snapshot, envelope.payload)
            elif isinstance(envelope, ErrorEnvelope):
                self._snapshot = apply_error(self._snapshot, envelope.status, envelope.code)
            elif isinstance(envelope, XsrfError):
                self._snapshot = apply_xsrf(self._snapshot, envelope.token)
            elif isinstance(envelope, TrailerEnvelope):
                self._finished = True


def decode_turn(body: bytes) -> TurnSnapshot:
    """The final snapshot of a complete body; raises ``ProtocolError`` on any decoding failure."""
    decoder = TurnDecoder()
    decoder.feed(body)
    return decoder.close()
