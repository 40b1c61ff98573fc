"""Splitting a StreamGenerate body into its frames' JSON texts (docs/architecture/wire-protocol.md#framing).

A ``rt=c`` body is ``)]}'\\n\\n`` then frames ``<len>\\n<json>\\n`` where ``len`` counts UTF-16 code
units from the newline after the digits to the newline after the JSON (``utf16len(json) + 2``).
Without ``rt=c`` the body is the guard then one JSON array; that form is handed out at ``close()``.

Bytes arrive in arbitrary network chunks, so the splitter keeps a strictly incremental state: an
incremental UTF-8 decoder (chunks may end inside a character), the digits read so far, and the
pieces of the pending frame with the UTF-16 units they hold. Every byte is decoded and measured
once, so feeding a body costs time linear in its size however it is chunked.
"""

from __future__ import annotations

import codecs
import enum

from browser.errors import ProtocolError

__all__ = ["GUARD", "FrameSplitter", "split_body", "utf16_len"]

GUARD = ")]}'"
_MAX_LENGTH_DIGITS = 12
_BLANKS = " \t\r\n"


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, i.e. JavaScript's ``String.length``."""
    return len(text.encode("utf-16-le")) // 2


def _utf16_prefix(text: str, units: int) -> str:
    """The prefix of ``text`` that is exactly ``units`` UTF-16 code units long.

    The caller guarantees ``text`` holds at least ``units`` units; a boundary that falls between
    the two halves of a surrogate pair means the declared length is wrong.
    """
    encoded = text.encode("utf-16-le")[: 2 * units]
    try:
        return encoded.decode("utf-16-le")
    except UnicodeDecodeError as exc:
        raise ProtocolError("frame length ends inside a character") from exc


class _Phase(enum.Enum):
    GUARD = "guard"
    LENGTH = "length"
    FRAME = "frame"
    UNFRAMED = "unframed"


class FrameSplitter:
    """Incremental splitter: ``feed`` bytes in any chunking, get each complete frame's JSON text."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
        self._phase = _Phase.GUARD
        self._guard = ""
        self._digits = ""
        self._needed = 0
        self._pieces: list[str] = []
        self._units = 0
        self._closed = False

    @property
    def framed(self) -> bool | None:
        """True for a ``rt=c`` body, False for a plain JSON body, None while undecided."""
        if self._phase is _Phase.UNFRAMED:
            return False
        if self._phase is _Phase.FRAME or self._digits:
            return True
        return None

    def feed(self, data: bytes) -> list[str]:
        """Consume ``data``; return the JSON text of every frame completed by it, in order."""
        if self._closed:
            raise ProtocolError("data fed to a closed frame splitter")
        try:
            text = self._decoder.decode(data)
        except UnicodeDecodeError as exc:
            raise ProtocolError(f"body is not valid UTF-8 near byte {exc.start} of a chunk") from exc
        return self._consume(text)

    def close(self) -> list[str]:
        """End of body: return a plain (non-``rt=c``) body's JSON, or raise if bytes are left over."""
        if self._closed:
            return []
        self._closed = True
        try:
            tail = self._decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise ProtocolError("body ends inside a UTF-8 character") from exc
        frames = self._consume(tail)
        if self._phase is _Phase.GUARD:
            raise ProtocolError("body ended before the )]}' guard was complete")
        if self._phase is _Phase.UNFRAMED:
            document = "".join(self._pieces).strip()
            self._pieces = []
            return [*frames, document]
        if self._phase is _Phase.FRAME:
            raise ProtocolError(
                f"body truncated: a frame declared {self._needed + 1} units, {self._units + 1} arrived"
            )
        if self._digits:
            raise ProtocolError("body truncated inside a frame's length digits")
        return frames

    def _consume(self, text: str) -> list[str]:
        frames: list[str] = []
        index = 0
        while index < len(text):
            if self._phase is _Phase.GUARD:
                index = self._read_guard(text, index)
            elif self._phase is _Phase.LENGTH:
                index = self._read_length(text, index)
            elif self._phase is _Phase.FRAME:
                index = self._read_frame(text, index, frames)
            else:
                self._pieces.append(text[index:])
                index = len(text)
        return frames

    def _read_guard(self, text: str, index: int) -> int:
        take = text[index : index + len(GUARD) - len(self._guard)]
        self._guard += take
        if not GUARD.startswith(self._guard):
            raise ProtocolError("body does not start with the )]}' guard")
        if self._guard == GUARD:
            self._phase = _Phase.LENGTH
        return index + len(take)

    def _read_length(self, text: str, index: int) -> int:
        while index < len(text):
            char = text[index]
            if char.isascii() and char.isdigit():
                self._digits += char
                if len(self._digits) > _MAX_LENGTH_DIGITS:
                    raise ProtocolError("frame length has too many digits")
            elif char == "\n" and self._digits:
                self._start_frame()
                return index + 1
            elif char in _BLANKS and not self._digits:
                pass  # the empty line after the guard
            elif char == "[" and not self._digits:
                self._phase = _Phase.UNFRAMED
                return index
            else:
                raise ProtocolError(f"expected a frame length, found {char!r}")
            index += 1
        return index

    def _start_frame(self) -> None:
        declared = int(self._digits)
        self._digits = ""
        if declared < 2:
            raise ProtocolError(f"frame length {declared} is too small")
        # The newline after the digits is the first unit; the rest is the JSON plus its newline.
        self._needed = declared - 1
        self._pieces = []
        self._units = 0
        self._phase = _Phase.FRAME

    def _read_frame(self, text: str, index: int, frames: list[str]) -> int:
        missing = self._needed - self._units
        # Every character is at least one unit, so the frame ends within ``missing`` characters.
        window = text[index : index + missing]
        units = utf16_len(window)
        if units < missing:
            self._pieces.append(window)
            self._units += units
            return index + len(window)
        head = _utf16_prefix(window, missing)
        self._pieces.append(head)
        frame = "".join(self._pieces)
        self._pieces = []
        self._units = 0
        if not frame.endswith("\n"):
            raise ProtocolError("frame does not end with a newline where its length says")
        frames.append(frame[:-1])
        self._phase = _Phase.LENGTH
        return index + len(head)


def split_body(body: bytes) -> list[str]:
    """The JSON texts of a whole body, framed (``rt=c``) or a guard plus one JSON array."""
    splitter = FrameSplitter()
    return [*splitter.feed(body), *splitter.close()]
