"""call_rpcs in real Chromium: the request the page sends, decoding, every typed failure (against a
tiny recording server), and the simulator's answers from inside its own page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Page

from browser._cookies import for_site, from_session
from browser._rpc import call_rpcs
from browser.errors import (
    AccountUnavailable,
    ConnectionLost,
    HTTPStatusError,
    ProtocolError,
    UnavailableReason,
    UpstreamTimeout,
)
from browser.protocol import BatchResult
from tests.browser.conftest import Sim, cookie
from tests.browser.rpc_app import WIZ, Script, create_app
from tests.conftest import NewContext
from tests.protocol.bodies import GUARD
from tests.support.servers import serve


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, Script]]:
    script = Script()
    with serve(create_app(script)) as url:
        yield url, script


@pytest.fixture
async def page(served: tuple[str, Script], new_context: NewContext) -> AsyncIterator[Page]:
    url, script = served
    script.reset()  # a fresh script for every test, same server
    context = await new_context()
    tab = await context.new_page()
    await tab.goto(f"{url}/app")
    yield tab


@pytest.fixture
def script(served: tuple[str, Script]) -> Script:
    return served[1]


async def test_request_is_the_pages_own_and_answers_come_in_call_order(page: Page, script: Script) -> None:
    results = await call_rpcs(
        page, [("otAQ7b", []), ("MaZiqc", [13, None, [1, None, 1]])], source_path="/app/abc", timeout=10
    )
    assert results == [
        BatchResult("otAQ7b", "generic", {"echo": []}, None),
        BatchResult("MaZiqc", "generic", {"echo": [13, None, [1, None, 1]]}, None),
    ]
    (sent,) = script.requests
    query = {key: values[0] for key, values in sent.query.items()}
    assert query["rpcids"] == "otAQ7b,MaZiqc"
    assert query["source-path"] == "/app/abc"
    assert (query["bl"], query["f.sid"], query["hl"], query["rt"]) == (
        WIZ["cfb2h"],
        WIZ["FdrFJe"],
        "en",
        "c",
    )
    assert query["_reqid"].isdigit()
    assert sent.headers["x-same-domain"] == "1"
    assert sent.headers["x-goog-ext-525001261-jspb"] == "[1,null,null,null,null,null,null,null,[4]]"
    assert sent.headers["x-goog-ext-73010989-jspb"] == "[0]"
    assert sent.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert sent.form["at"] == [WIZ["SNlM0e"]]
    assert sent.form["f.req"] == [
        '[[["otAQ7b","[]",null,"generic"],["MaZiqc","[13,null,[1,null,1]]",null,"generic"]]]'
    ]


async def test_request_ids_increase(page: Page, script: Script) -> None:
    await call_rpcs(page, [("ESY5D", [])], timeout=10)
    await call_rpcs(page, [("ESY5D", [])], timeout=10)
    first, second = (int(r.query["_reqid"][0]) for r in script.requests)
    assert second > first


async def test_rejection_is_a_result_not_an_error(page: Page) -> None:
    results = await call_rpcs(page, [("deny", []), ("otAQ7b", [])], timeout=10)
    assert [(r.rpc_id, r.error_code) for r in results] == [("deny", 7), ("otAQ7b", None)]


async def test_unanswered_rpc_is_a_protocol_error(page: Page, script: Script) -> None:
    script.omit = {"MaZiqc"}
    with pytest.raises(ProtocolError, match="no answer for MaZiqc"):
        await call_rpcs(page, [("otAQ7b", []), ("MaZiqc", [])], timeout=10)


async def test_undecodable_body_is_a_protocol_error(page: Page, script: Script) -> None:
    script.raw = (GUARD + "99\n[]\n").encode()
    with pytest.raises(ProtocolError):
        await call_rpcs(page, [("otAQ7b", [])], timeout=10)


@pytest.mark.parametrize(
    ("status", "error", "detail"),
    [
        (401, AccountUnavailable, UnavailableReason.SIGNED_OUT),
        (429, AccountUnavailable, UnavailableReason.CAPTCHA),
        (500, HTTPStatusError, 500),
    ],
)
async def test_http_failures_are_typed(
    page: Page, script: Script, status: int, error: type[Exception], detail: object
) -> None:
    script.status = status
    with pytest.raises(error) as caught:
        await call_rpcs(page, [("otAQ7b", [])], timeout=10)
    value = caught.value
    assert (
        value.reason if isinstance(value, AccountUnavailable) else getattr(value, "status", None)
    ) == detail
    assert WIZ["SNlM0e"] not in str(value)


async def test_a_stalled_answer_times_out(page: Page, script: Script) -> None:
    script.stall = True
    try:
        with pytest.raises(UpstreamTimeout, match="batchexecute otAQ7b"):
            await call_rpcs(page, [("otAQ7b", [])], timeout=0.5)
    finally:
        script.released.set()


async def test_a_failed_request_is_a_lost_connection(page: Page, script: Script) -> None:
    await page.route("**/batchexecute*", lambda route: route.abort("connectionreset"))
    with pytest.raises(ConnectionLost, match="the request failed"):
        await call_rpcs(page, [("otAQ7b", [])], timeout=10)
    assert script.requests == []


async def test_needs_a_call(page: Page) -> None:
    with pytest.raises(ValueError, match="at least one call"):
        await call_rpcs(page, [], timeout=1)


# -- against the simulator --


async def _sim_page(new_context: NewContext, url: str, kind: str) -> Page:
    context = await new_context()
    await context.add_cookies(for_site(from_session(cookie(kind), None), url))
    tab = await context.new_page()
    await tab.goto(f"{url}/app?hl=en")
    return tab


async def test_simulator_answers_several_rpcs_from_inside_its_page(
    sim: Sim, sim_url: str, new_context: NewContext
) -> None:
    page = await _sim_page(new_context, sim_url, "paid")
    status, settings = await call_rpcs(
        page, [("otAQ7b", []), ("ESY5D", [[["bard_activity_enabled"]]])], source_path="/app", timeout=10
    )
    assert (status.rpc_id, status.error_code, status.identifier) == ("otAQ7b", None, "generic")
    # A paid account's tier and capability flags (the ZX test body: [8], [19]).
    assert status.payload[14] == 1000 and (status.payload[16], status.payload[17]) == ([8], [19])
    assert (settings.rpc_id, settings.error_code) == ("ESY5D", None)
    async with httpx.AsyncClient(base_url=sim.base_url, timeout=10) as client:
        rpcs: list[dict[str, Any]] = (await client.get("/_sim/rpcs")).json()
    logged = [rpc for rpc in rpcs if rpc["query"].get("rpcids") == "otAQ7b,ESY5D"]
    assert [rpc["rpcid"] for rpc in logged] == ["otAQ7b", "ESY5D"]
    assert logged[0]["source_path"] == "/app" and logged[0]["query"]["rt"] == "c"


async def test_simulator_rejections_come_back_as_results(
    sim: Sim, sim_url: str, new_context: NewContext
) -> None:
    expired = await _sim_page(new_context, sim_url, "expired")
    status, chats = await call_rpcs(
        expired, [("otAQ7b", []), ("MaZiqc", [13, None, [1, None, 1]])], timeout=10
    )
    assert status.payload[14] == 1016 and chats.error_code == 7
    visitor = await _sim_page(new_context, sim_url, "nobody")
    (refused,) = await call_rpcs(visitor, [("otAQ7b", [])], timeout=10)
    assert (refused.payload, refused.error_code) == (None, 7)
