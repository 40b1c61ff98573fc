"""When the network gives no content although the page got its answer, the pool reads the page;
a body broken before any content moves the turn to another account."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from browser import _turn
from browser._accounts import AccountSpec, AccountState
from browser._answers import final_snapshot, shows_answer
from browser._capture import BodyCapture
from browser._requests import TurnRequest
from browser.errors import ProtocolError
from browser.protocol import TurnDecoder, decode_turn
from tests.browser.conftest import PoolOf, Sim, assert_answer_read_from_page, cookie
from tests.browser.test_browser_pool import _settings
from tests.protocol.bodies import GUARD, streamed_answer


def _first_frame_only(body: bytes) -> bytes:
    """The guard and the first frame (the locator): an answer whose trailer and content never came."""
    length_end = body.index(b"\n", len(GUARD))
    return body[: body.index(b"\n", length_end + 1) + 1]


# -- the decoder's last word (no browser) --


def test_a_body_cut_before_content_is_left_to_the_page() -> None:
    decoder = TurnDecoder()
    decoder.feed(_first_frame_only(streamed_answer("hello there, a whole answer")))
    last = final_snapshot(decoder)
    assert not shows_answer(last) and last.rid is not None


def test_a_body_cut_after_content_is_an_error() -> None:
    body = streamed_answer("hello there, a whole answer")
    decoder = TurnDecoder()
    decoder.feed(body[: body.rindex(b'[["di"')])  # everything up to the stats frame, no trailer
    assert shows_answer(decoder.snapshot)
    with pytest.raises(ProtocolError):
        final_snapshot(decoder)


# -- the pool against the simulator --


class _CutShort(BodyCapture):
    """The network delivers the locator frame and then ends: no content, no trailer."""

    async def chunks(self, *, first_timeout: float, idle_timeout: float) -> AsyncIterator[bytes]:
        body = b"".join(
            [c async for c in super().chunks(first_timeout=first_timeout, idle_timeout=idle_timeout)]
        )
        cut = _first_frame_only(body)
        with pytest.raises(ProtocolError):
            decode_turn(cut)
        yield cut


class _NoBodySession:
    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        raise RuntimeError("No resource with given identifier found")


class _BodyGone(BodyCapture):
    """Chromium cannot hand the body over (``Network.getResponseBody`` fails once it ended)."""

    async def _start_streaming(self) -> None:
        assert self._request_id is not None
        await self._read_whole_body(_NoBodySession(), self._request_id)


class _FirstBroken(BodyCapture):
    """The first capture made reads a body that is not StreamGenerate framing at all."""

    made = 0

    async def chunks(self, *, first_timeout: float, idle_timeout: float) -> AsyncIterator[bytes]:
        type(self).made += 1
        if type(self).made > 1:
            async for chunk in super().chunks(first_timeout=first_timeout, idle_timeout=idle_timeout):
                yield chunk
            return
        stream = super().chunks(first_timeout=first_timeout, idle_timeout=idle_timeout)
        try:
            await anext(stream)  # the real answer has started on the page
        finally:
            await stream.aclose()
        yield b"<html>an error page from a middlebox</html>"


@pytest.mark.browser
@pytest.mark.parametrize("capture", [_CutShort, _BodyGone], ids=["no-trailer", "body-unavailable"])
async def test_no_content_from_the_network_is_read_from_the_page(
    monkeypatch: pytest.MonkeyPatch,
    sim_url: str,
    sim: Sim,
    tmp_path: Path,
    capture: type[BodyCapture],
    pool_of: PoolOf,
) -> None:
    monkeypatch.setattr(_turn, "BodyCapture", capture)
    async with pool_of(_settings(sim_url, tmp_path)) as pool:
        await pool.add_account(AccountSpec(name="only", psid=cookie("paid")))
        prompt = f"read me from the page ({capture.__name__})"
        await assert_answer_read_from_page(pool, prompt)
        assert [e["outcome"] for e in sim.requests() if e.get("prompt") == prompt] == ["completed"]


@pytest.mark.browser
async def test_a_broken_body_before_content_moves_to_another_account(
    monkeypatch: pytest.MonkeyPatch, sim_url: str, sim: Sim, tmp_path: Path, pool_of: PoolOf
) -> None:
    monkeypatch.setattr(_FirstBroken, "made", 0)
    monkeypatch.setattr(_turn, "BodyCapture", _FirstBroken)
    async with pool_of(_settings(sim_url, tmp_path)) as pool:
        await pool.add_account(AccountSpec(name="first", psid=cookie("paid")))
        await pool.add_account(AccountSpec(name="second", psid=cookie("paid")))
        prompt = "survive a broken body"
        async with pool.turn(TurnRequest(prompt=prompt)) as turn:
            texts = [snapshot.text async for snapshot in turn]
        assert turn.account_id == "second"
        assert turn.final is not None and turn.final.completed
        assert f"Echo: {prompt}" in texts[-1]
        assert len([e for e in sim.requests() if e.get("prompt") == prompt]) == 2
        states = {info.id: info.state for info in pool.accounts()}
        assert states == {"first": AccountState.READY, "second": AccountState.READY}
