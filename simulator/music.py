"""Create music (Lyria): the track the simulator renders and where the answer names it.

Evidence: protocol.md §3.3 inner[49] = 21 is music (Lyria, ~30 s, ZX); protocol.md §6 ``c[12][86]``
holds the media, ``[0][1][7] = [mp3_thumb, mp3_url]`` and ``[1][1][7] = [mp4_thumb, mp4_url]`` (GA
2026-03); protocol.md §7 the artefacts download from ``contribution.usercontent.google.com/download?c=…``
with the account's cookies (ZX). peers-late-2026.md §2 (zexadev 4.4.0): Lyria answers an MP3.

The MP3 is written here, byte by byte, so no encoder or asset is needed: an ID3v2.3 tag whose title
names the prompt's digest (so a test can tell whose track it holds), then silent MPEG-2 Layer III
frames (16 kHz mono, 8 kbit/s: 36 bytes and 576 samples a frame) for ``MUSIC_SECONDS``. A frame's
side information is all zeros (no Huffman data, ``part2_3_length`` 0), which decoders play as silence.
The MP4 is the video asset (a real, small MP4; our choice: the real one is the track with a cover).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = [
    "FRAME_BYTES",
    "MUSIC_SECONDS",
    "SAMPLES_PER_FRAME",
    "SAMPLE_RATE",
    "MusicTrack",
    "mp3",
    "music_field",
    "track_title",
]

MUSIC_SECONDS = 30  # Lyria's tracks are ~30 s (protocol.md §3.3, peers-late-2026.md §2)
SAMPLE_RATE = 16_000
SAMPLES_PER_FRAME = 576  # MPEG-2 Layer III
BITRATE = 8_000
FRAME_BYTES = 72 * BITRATE // SAMPLE_RATE  # 36, no padding
# sync (11 bits) | MPEG-2 (10) | Layer III (01) | no CRC (1); bitrate index 1 (8 kbit/s) | 16 kHz (10)
# | no padding | private 0; mono (11) | mode extension 00 | not copyrighted | copy | no emphasis.
FRAME_HEADER = bytes([0xFF, 0xF3, 0x18, 0xC0])
SIDE_INFO_BYTES = 9  # MPEG-2 mono


@dataclass(frozen=True)
class MusicTrack:
    """A rendered track: the download token (``c=``), its owner and the prompt it was made for."""

    token: str
    owner: str
    prompt: str


def track_title(prompt: str) -> str:
    """The ID3 title: the prompt's first 16 sha256 hex digits (docs/simulator-contract.md)."""
    return "Simulated track " + hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:16]


def _id3(title: str) -> bytes:
    """An ID3v2.3 tag with one TIT2 (title) frame, ISO-8859-1 text."""
    text = b"\x00" + title.encode("latin-1", "replace")
    frame = b"TIT2" + len(text).to_bytes(4, "big") + b"\x00\x00" + text
    size = len(frame)
    # The tag size is a 28-bit "synchsafe" integer: 7 bits per byte.
    synchsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    return b"ID3\x03\x00\x00" + synchsafe + frame


def mp3(prompt: str, seconds: float = MUSIC_SECONDS) -> bytes:
    """The track for ``prompt``: the tag, then enough silent frames to last ``seconds``."""
    frames = max(1, round(seconds * SAMPLE_RATE / SAMPLES_PER_FRAME))
    frame = FRAME_HEADER + bytes(FRAME_BYTES - len(FRAME_HEADER))
    return _id3(track_title(prompt)) + frame * frames


def music_field(mp3_thumb: str, mp3_url: str, mp4_thumb: str, mp4_url: str) -> list[object]:
    """Field 87 of c[12] (``c[12][86]``): ``[0][1][7] = [mp3_thumb, mp3_url]``, ``[1][1][7] =
    [mp4_thumb, mp4_url]`` (protocol.md §6, GA 2026-03); the other slots stay null."""

    def entry(thumb: str, url: str) -> list[object]:
        info: list[object] = [None] * 8
        info[7] = [thumb, url]
        return [None, info]

    return [entry(mp3_thumb, mp3_url), entry(mp4_thumb, mp4_url)]
