"""The pool reads status, tier and models from the page's own otAQ7b answer, and the tools and the
thinking control from the page's own menus (real Chromium, the simulator, the real BrowserPool), in
every UI generation; without the answer it reads the models from the menus too, saying so in the
account's reason. Expected models are written out from the evidence (docs/architecture/evidence.md#m1, M3,
M5),
not read from the simulator's own tables."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Route

from browser import AccountInfo, AccountSpec, AccountState, BrowserPool, ModeFamily, Tool
from browser._cookies import for_site, from_session
from browser._driver import PageDriver, PageState
from browser._launcher import Launcher
from tests.browser.conftest import UI_GENERATIONS, Lender, Sim, cookie
from tests.browser.test_browser_pool import _settings
from tests.conftest import NewContext

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STATUS_CALL = re.compile(r"/batchexecute\?(.*&)?rpcids=otAQ7b(&|$)")
ALL_TOOLS = frozenset(Tool)


@pytest.fixture(scope="module", params=UI_GENERATIONS)
async def running(
    request: pytest.FixtureRequest,
    simulators: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    lender: Lender,
) -> AsyncIterator[tuple[BrowserPool, str, str]]:
    """One pool per UI generation, shared by the module; each test adds its own accounts."""
    ui = str(request.param)
    directory: Path = tmp_path_factory.mktemp(f"status-{ui}")
    async with BrowserPool(_settings(simulators[ui], directory), **await lender.to()) as pool:
        yield pool, simulators[ui], ui


@pytest.fixture
async def pool(running: tuple[BrowserPool, str, str]) -> AsyncIterator[BrowserPool]:
    pool, url, _ = running
    Sim(url).reset()
    yield pool
    for info in pool.accounts():
        await pool.remove_account(info.id)


@pytest.fixture
def ui(running: tuple[BrowserPool, str, str]) -> str:
    return running[2]


# The models each generation's picker offers, by plan: paid hexes (M1–M3), free ones (M5, GA BASIC_*).
MODELS = {
    ("oct2026", "paid"): [
        ("8c46e95b1a07cecc", "3.5 Flash-Lite"),
        ("56fdd199312815e2", "3.8 Flash"),
        ("e6fa609c3fa255c0", "3.1 Pro"),
    ],
    ("oct2026", "free"): [
        ("cf41b0e0dd7d53e5", "3.5 Flash-Lite"),
        ("fbb127bbb056c959", "3.8 Flash"),
        ("9d8ca3786ebdfbea", "3.1 Pro"),
    ],
    ("mid2026", "paid"): [
        ("8c46e95b1a07cecc", "3.1 Flash-Lite"),
        ("56fdd199312815e2", "3.5 Flash"),
        ("e6fa609c3fa255c0", "3.1 Pro"),
    ],
    ("mid2026", "free"): [
        ("cf41b0e0dd7d53e5", "3.1 Flash-Lite"),
        ("fbb127bbb056c959", "3.5 Flash"),
        ("9d8ca3786ebdfbea", "3.1 Pro"),
    ],
    ("early2026", "paid"): [
        ("56fdd199312815e2", "Fast"),
        ("e051ce1aa80aa576", "Thinking"),
        ("e6fa609c3fa255c0", "Pro"),
    ],
    ("early2026", "free"): [
        ("fbb127bbb056c959", "Fast"),
        ("5bf011840784117a", "Thinking"),
        ("9d8ca3786ebdfbea", "Pro"),
    ],
}
CONTROLS = {"oct2026": "levels", "mid2026": "submenu", "early2026": "model"}
FREE_TOOLS = frozenset({Tool.IMAGE, Tool.CANVAS, Tool.DEEP_RESEARCH, Tool.MUSIC})


def offered(tools: frozenset[Tool], ui: str) -> frozenset[Tool]:
    """Early 2026's flat drawer has no Create music (page.md; it came behind More tools, ZHT)."""
    return tools - {Tool.MUSIC} if ui == "early2026" else tools


def expected_models(ui: str, tier: str) -> list[tuple[str, str]]:
    return MODELS[(ui, tier)]


async def add(pool: BrowserPool, kind: str) -> AccountInfo:
    return await pool.add_account(AccountSpec(name=kind, psid=cookie(kind)))


@pytest.mark.parametrize("kind", ["paid", "plus"])
async def test_paid_account_is_read_from_the_network(pool: BrowserPool, ui: str, kind: str) -> None:
    info = await add(pool, kind)
    assert info.state is AccountState.READY
    assert (info.status_code, info.status_source, info.reason) == (1000, "account_status", None)
    # The tier from the flag sets (G5: [8]/[19] Pro capacity 2, [115] Plus 4); the tools from the menu.
    assert info.tier == "paid" and info.tools == offered(ALL_TOOLS, ui)
    assert info.modes == {ModeFamily.FLASH, ModeFamily.PRO}
    assert info.thinking == CONTROLS[ui]
    assert [(m.hex, m.label) for m in info.models] == expected_models(ui, "paid")
    # Flash-Lite is offered but counts for no family; early 2026's Thinking is a Flash that thinks.
    assert [m.family for m in info.models if "Lite" in m.label] in ([None], [])
    assert [m.label for m in info.models if m.thinks] == (["Thinking"] if ui == "early2026" else [])


async def test_free_account_is_read_from_the_network(pool: BrowserPool, ui: str) -> None:
    """Free accounts have Create image, Canvas, Deep Research and a limited Pro (D8, M5)."""
    info = await add(pool, "free")
    assert (info.state, info.status_code, info.status_source) == (AccountState.READY, 1000, "account_status")
    assert info.tier == "free" and info.tools == offered(FREE_TOOLS, ui)
    assert info.modes == {ModeFamily.FLASH, ModeFamily.PRO}
    assert [(m.hex, m.label) for m in info.models] == expected_models(ui, "free")


async def test_a_null_status_code_is_an_available_account(
    pool: BrowserPool, running: tuple[BrowserPool, str, str]
) -> None:
    """AUTO's answer has null at [14]; gemini_webapi reads it as available (G3)."""
    Sim(running[1]).config(status_code_null=True)
    info = await add(pool, "paid")
    assert (info.state, info.status_code, info.status_source) == (AccountState.READY, 1000, "account_status")


async def test_expired_cookies_look_signed_in_but_the_network_says_1016(
    pool: BrowserPool, simulators: dict[str, str], ui: str, new_context: NewContext
) -> None:
    psid = cookie("expired")
    # The page alone would call it signed in: XSRF token and avatar are there.
    context = await new_context()
    url = simulators[ui]
    await context.add_cookies(for_site(from_session(psid, None), url))
    driver = PageDriver(await context.new_page(), pool.settings)
    assert await driver.open("/app") is PageState.READY
    info = await pool.add_account(AccountSpec(name="expired", psid=psid))
    assert info.state is AccountState.SIGNED_OUT
    assert (info.status_code, info.status_source) == (1016, "account_status")
    assert info.reason == "cookies expired (account status 1016)" == info.last_error
    assert info.models == () and info.tier == "anon"


async def test_region_account_is_blocked_for_location(pool: BrowserPool) -> None:
    info = await add(pool, "region")
    assert info.state is AccountState.BLOCKED and info.blocked_until is not None
    assert info.status_code == 1060
    assert info.reason == "location not supported (account status 1060)" == info.last_error


async def test_terms_account_is_out_of_rotation_until_the_terms_are_accepted(pool: BrowserPool) -> None:
    info = await add(pool, "terms")
    assert info.state is AccountState.BLOCKED and info.status_code == 1040
    assert info.reason is not None and "terms of service must be accepted" in info.reason
    assert "1040" in info.reason


async def test_signed_out_visitor_is_refused_by_the_network(pool: BrowserPool) -> None:
    info = await add(pool, "nobody")  # an unknown cookie: the simulator's signed-out visitor
    assert info.state is AccountState.SIGNED_OUT and info.status_source == "account_status"
    assert info.reason == "signed out (the account-status call was refused with code 7)"


@pytest.mark.parametrize("kind", ["captcha", "consent"])
async def test_walls_are_still_read_from_the_url(pool: BrowserPool, kind: str) -> None:
    info = await add(pool, kind)
    assert info.state is AccountState.BLOCKED and info.status_source == "page"
    assert (info.status_code, info.reason, info.last_error) == (None, kind, kind)


StatusRoute = Callable[[Route], Awaitable[None]]


@pytest.fixture
def status_route(monkeypatch: pytest.MonkeyPatch) -> Callable[[StatusRoute], None]:
    """Install ``handler`` for the page's otAQ7b call in every context the pool makes from now on."""

    def install(handler: StatusRoute) -> None:
        original = Launcher.new_context

        async def new_context(
            self: Launcher, account_id: str, proxy: str | None, *, profile: bool = False
        ) -> BrowserContext:
            context = await original(self, account_id, proxy, profile=profile)
            await context.route(STATUS_CALL, handler)
            return context

        monkeypatch.setattr(Launcher, "new_context", new_context)

    return install


async def _abort(route: Route) -> None:
    await route.abort("connectionreset")


async def _garbage(route: Route) -> None:
    await route.fulfill(status=200, body=')]}\'\n\n99\n[["wrb.fr"\n', content_type="application/json")


@pytest.mark.parametrize(
    ("handler", "why"),
    [(_abort, "the request failed"), (_garbage, "the answer could not be decoded")],
)
async def test_fallback_reads_the_pages_menus_and_says_so(
    pool: BrowserPool, ui: str, status_route: Callable[[StatusRoute], None], handler: StatusRoute, why: str
) -> None:
    status_route(handler)
    info = await add(pool, "paid")
    assert info.state is AccountState.READY
    assert (info.status_code, info.status_source) == (None, "page")
    assert info.reason is not None
    assert info.reason.startswith("capabilities read from the page's menus: no account-status answer")
    assert why in info.reason
    # The page kept what the server rendered: the menus show its models and tools; no plan label.
    assert info.tier == "unknown" and info.tools == offered(ALL_TOOLS, ui)
    assert info.modes == {ModeFamily.FLASH, ModeFamily.PRO} and info.thinking == CONTROLS[ui]
    assert all(m.label for m in info.models) and any(m.hex for m in info.models)


async def test_fallback_cannot_tell_expired_cookies(
    pool: BrowserPool, status_route: Callable[[StatusRoute], None]
) -> None:
    """Without the network answer an expired session passes as ready: why the capture matters."""
    status_route(_abort)
    info = await add(pool, "expired")
    assert info.state is AccountState.READY and info.status_source == "page"
