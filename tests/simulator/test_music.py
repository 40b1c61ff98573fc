"""Create music (simulator/music.py): the MP3 the simulator writes, and the turn naming it at
c[12][86] (protocol.md §6) with its files behind the account's cookies (protocol.md §7)."""

from __future__ import annotations

import hashlib

import httpx

from simulator.music import mp3
from tests.simulator.batchexecute_wire import one, read_payload
from tests.simulator.wire import TOOL_MUSIC, cookies, decode, generate

# MPEG-2 Layer III (ISO 13818-3) bit rates in kbit/s and sample rates in Hz, by their header index.
_BITRATES = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_SAMPLE_RATES = (22050, 24000, 16000)


def _frames(data: bytes) -> tuple[str, list[tuple[int, int]]]:
    """The ID3 title and the (sample rate, length) of every MPEG frame after the tag, read by the
    frame sync headers alone; every byte after the tag must belong to a frame."""
    assert data[:3] == b"ID3" and data[3] in (3, 4)
    size = 0
    for byte in data[6:10]:
        assert byte < 0x80, "ID3 size is synchsafe"
        size = size << 7 | byte
    tag = data[10 : 10 + size]
    assert tag[:4] == b"TIT2"
    title = tag[10 + 1 : 10 + int.from_bytes(tag[4:8], "big")].decode("latin-1")
    frames: list[tuple[int, int]] = []
    pos = 10 + size
    while pos < len(data):
        header = int.from_bytes(data[pos : pos + 4], "big")
        assert header >> 21 == 0x7FF, f"no frame sync at byte {pos}"
        version, layer = header >> 19 & 3, header >> 17 & 3
        assert (version, layer) == (0b10, 0b01), "MPEG-2 Layer III"
        rate = _SAMPLE_RATES[header >> 10 & 3]
        bitrate = _BITRATES[header >> 12 & 0xF] * 1000
        length = 72 * bitrate // rate + (header >> 9 & 1)
        assert length > 4 + 9, "the frame holds its header and side information"
        frames.append((rate, length))
        pos += length
    assert pos == len(data), "the last frame ends where the file ends"
    return title, frames


def test_the_mp3_is_mpeg_frames_lasting_thirty_seconds() -> None:
    title, frames = _frames(mp3("a song about tea"))
    assert title == "Simulated track " + hashlib.sha256(b"a song about tea").hexdigest()[:16]
    seconds = len(frames) * 576 / frames[0][0]
    assert 29.9 < seconds < 30.1
    assert {rate for rate, _ in frames} == {16000}


def test_a_music_turn_names_its_track_at_c12_86(sim: str) -> None:
    httpx.post(f"{sim}/_sim/config", json={"music_render_seconds": 0.05}, timeout=5).raise_for_status()
    decoded = decode(generate(sim, "a song about tea", tool=TOOL_MUSIC).content)
    assert all(candidate[12] is None for candidate in decoded.candidates[:-1]), "only the final frame"
    field = decoded.candidates[-1][12][86]
    mp3_thumb, mp3_url = field[0][1][7]
    mp4_thumb, mp4_url = field[1][1][7]
    assert "/download?c=" in mp3_url and mp3_url.endswith(".mp3") and mp4_url.endswith(".mp4")
    assert "Lyria" in decoded.text
    [turn] = one(sim, "hNvQHb", read_payload(decoded.final[1][0])).payload[0]
    assert turn[3][0][0][12][86] == field, "the chat's history shows the same track"

    assert httpx.get(mp3_url, timeout=10).status_code == 403, "no cookies, no track"
    track = httpx.get(mp3_url, cookies=cookies("paid-alice"), timeout=10)
    assert track.headers["content-type"] == "audio/mpeg"
    title, frames = _frames(track.content)
    assert title.endswith(hashlib.sha256(b"a song about tea").hexdigest()[:16]) and frames
    video = httpx.get(mp4_url, cookies=cookies("paid-alice"), timeout=10)
    assert video.headers["content-type"] == "video/mp4" and video.content[4:8] == b"ftyp"
    cover = httpx.get(mp3_thumb, cookies=cookies("paid-alice"), timeout=10)
    assert cover.content[:2] == b"\xff\xd8" and mp4_thumb


def test_a_free_account_makes_music_too(sim: str) -> None:
    """Create music is in every signed-in plan's menu (simulator/toolbox.py, ZHT)."""
    httpx.post(f"{sim}/_sim/config", json={"music_render_seconds": 0}, timeout=5).raise_for_status()
    decoded = decode(generate(sim, "a lullaby", tool=TOOL_MUSIC, account="free-bob").content)
    assert decoded.candidates[-1][12][86][0][1][7][1].endswith(".mp3")
