"""``TurnRequest.temporary``: the page's own Temporary chat button before the prompt, confirmed on
the page and on the network (inner[45] = 1); the chat is in no history and never continued."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from browser import AccountSpec, BrowserPool, TemporaryChatUnavailable, TurnRequest
from browser._temporary import sent_as_temporary
from tests.browser.conftest import Lender, Sim, cookie
from tests.browser.test_browser_pool import _settings
from tests.simulator.batchexecute_wire import LIST_ALL, one

pytestmark = pytest.mark.browser


def _body(inner45: object) -> str:
    inner: list[object] = [None] * 97
    inner[0] = ["hello", 0, None, None, None, None, 0]
    inner[45] = inner45
    return urlencode({"f.req": json.dumps([None, json.dumps(inner)]), "at": "token"})


def test_the_request_flag_is_read_from_the_sent_body() -> None:
    assert sent_as_temporary(_body(1)) is True
    assert sent_as_temporary(_body(None)) is False
    assert sent_as_temporary(_body(0)) is False
    assert sent_as_temporary("at=token") is None
    assert sent_as_temporary("f.req=not-json") is None


def test_a_temporary_chat_is_never_continued() -> None:
    with pytest.raises(ValueError, match="never continued"):
        TurnRequest(prompt="x", temporary=True, account_id="paid", chat_id="c_0123456789abcdef")


@pytest.fixture
async def temp_pool(
    simulators: dict[str, str], tmp_path: Path, lender: Lender
) -> AsyncIterator[tuple[BrowserPool, str]]:
    psid = cookie("paid")
    async with BrowserPool(_settings(simulators["oct2026"], tmp_path), **await lender.to()) as pool:
        await pool.add_account(AccountSpec(name="paid", psid=psid))
        yield pool, psid


async def test_a_temporary_turn_goes_through_the_pages_button(
    temp_pool: tuple[BrowserPool, str], simulators: dict[str, str]
) -> None:
    pool, psid = temp_pool
    base = simulators["oct2026"]
    sim = Sim(base)
    async with pool.turn(TurnRequest(prompt="off the record", temporary=True)) as turn:
        async for _ in turn:
            pass
    final = turn.final
    assert final is not None and final.completed and final.cid
    [entry] = [e for e in sim.requests() if e.get("prompt") == "off the record"]
    assert entry["temporary"] is True and entry["chat_temporary"] is True
    assert final.cid not in [row[0] for row in one(base, "MaZiqc", LIST_ALL, account=psid).payload[2]]

    # The tab went back to an ordinary new chat: the next turn is saved and listed.
    async with pool.turn(TurnRequest(prompt="on the record")) as turn:
        async for _ in turn:
            pass
    assert turn.final is not None and turn.final.completed
    [kept] = [e for e in sim.requests() if e.get("prompt") == "on the record"]
    assert kept["temporary"] is False and kept["chat_status"] == "new"
    listed = [row[0] for row in one(base, "MaZiqc", LIST_ALL, account=psid).payload[2]]
    assert listed == [turn.final.cid]


async def test_a_page_without_the_button_is_a_clear_error_and_nothing_is_sent(
    simulators: dict[str, str], tmp_path: Path, lender: Lender
) -> None:
    base = simulators["oct2026"]
    sim = Sim(base)
    sim.config(temporary_chat_button=False)
    try:
        async with BrowserPool(_settings(base, tmp_path), **await lender.to()) as pool:
            await pool.add_account(AccountSpec(name="paid", psid=cookie("paid")))
            with pytest.raises(TemporaryChatUnavailable, match="no Temporary chat button"):
                async with pool.turn(TurnRequest(prompt="must stay private", temporary=True)) as turn:
                    async for _ in turn:
                        pass
    finally:
        sim.config(temporary_chat_button=True)
    assert not [e for e in sim.requests() if e.get("prompt") == "must stay private"]
