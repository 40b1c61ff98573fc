"""``browser.diagnose``: one account's page examined in real Chromium against the simulator, in both
UI generations: the verdict and its signal, the candidate of the selector table that matched each
element, the page tokens by name and the side RPCs the page called; and a page whose mode picker
was renamed reports it unmatched. What the page sees of the browser: a normal Chromium with the
installed Chromium, a headless one (a problem) with Debian's headless shell."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest

from browser import (
    AccountSpec,
    Diagnosis,
    ModeFamily,
    PoolSettings,
    Presence,
    Presentation,
    RpcCall,
    Tool,
    diagnose,
)
from browser import _diagnosis as D
from browser import _selectors as S
from tests.browser.conftest import UI_GENERATIONS, cookie
from tests.browser.renamed_ui import RENAMED_EDITOR, RENAMED_MODE_PICKER, RenamedUI
from tests.support.headless_shell import HEADLESS_SHELL, needs_headless_shell
from tests.support.servers import serve

# The candidate each UI generation's page is expected to match first (the simulator's DOM).
EXPECTED: dict[str, dict[str, str]] = {
    "mid2026": {
        "editor": 'rich-textarea .ql-editor[contenteditable="true"]',
        "send button": 'button:has([data-mat-icon-name="arrow_upward"])',
        "mode picker": "bard-mode-switcher button",
        "mode picker label": '[aria-label^="Open mode picker"]',
        "mode menu item": '[role="menu"] gem-menu-item[data-mode-id]',
        "thinking level": '[data-test-id="thinking-level-menu"] gem-menu-item',
        "tools button": 'input-container button[aria-label="Upload & tools"]',
        "more tools": '[data-test-id="more-tools-button"]',
        "file input": 'images-files-uploader input[type="file"]',
    },
    "early2026": {
        "editor": 'rich-textarea .ql-editor[contenteditable="true"]',
        "send button": 'button:has([data-mat-icon-name="send"])',
        "mode picker": "bard-mode-switcher button",
        "mode picker text": '[data-test-id="logo-pill-label-container"]',
        "mode menu item": '[data-test-id^="bard-mode-option-"]',
        "tools button": "toolbox-drawer button.toolbox-drawer-button",
        "file input": 'images-files-uploader input[type="file"]',
    },
}

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def renamed() -> Iterator[dict[str, str]]:
    """Both UI generations with the mode picker renamed everywhere the page is built from."""
    from simulator.app import create_app
    from simulator.settings import SimulatorSettings

    def app(ui: Literal["mid2026", "early2026"]) -> RenamedUI:
        return RenamedUI(create_app(SimulatorSettings(ui=ui)), RENAMED_MODE_PICKER)

    with serve(app("mid2026")) as mid, serve(app("early2026")) as early:
        yield {"mid2026": mid, "early2026": early}


def settings(url: str, tmp_path: Path, chromium_path: str = "/usr/bin/chromium") -> PoolSettings:
    return PoolSettings(
        gemini_url=url, data_dir=tmp_path, ui_timeout=3, navigation_timeout=15, chromium_path=chromium_path
    )


def by_name(found: Diagnosis) -> dict[str, D.ElementCheck]:
    return {check.name: check for check in found.elements}


@pytest.mark.parametrize("ui", UI_GENERATIONS)
async def test_a_paid_account_names_the_matched_selectors_tokens_and_rpcs(
    ui: str, simulators: dict[str, str], tmp_path: Path
) -> None:
    found = await diagnose(settings(simulators[ui], tmp_path), AccountSpec(name="doc", psid=cookie("paid")))

    assert (found.signed_in, found.source, found.status_code, found.page_state) == (
        True,
        "account_status",
        1000,
        "ready",
    )
    assert found.tier == "paid" and ModeFamily.PRO in found.modes and found.tools == frozenset(Tool)
    checks = by_name(found)
    for name, selector in EXPECTED[ui].items():
        assert checks[name].presence is Presence.MATCHED, name
        assert checks[name].selector == selector, name
    for sel in D.ALWAYS_NEEDED + D.NEEDED_FOR_TOOLS + D.NEEDED_FOR_FILES:
        assert checks[sel.name].needed and checks[sel.name].presence is Presence.MATCHED, sel.name
    assert checks["stop button"].presence is Presence.NOT_CHECKED
    assert checks["signed-out marker"].presence is Presence.UNMATCHED
    assert "SNlM0e" in found.tokens and "cfb2h" in found.tokens and "FdrFJe" in found.tokens
    assert RpcCall("otAQ7b", 200) in found.rpcs
    assert found.problems == ()
    assert [check.name for check in found.elements] == [sel.name for sel in D._all_selectors()]


@pytest.mark.parametrize("ui", UI_GENERATIONS)
async def test_a_renamed_mode_picker_is_reported_unmatched(
    ui: str, renamed: dict[str, str], tmp_path: Path
) -> None:
    found = await diagnose(settings(renamed[ui], tmp_path), AccountSpec(name="doc", psid=cookie("paid")))

    assert found.signed_in and found.status_code == 1000  # the network still says all is well
    checks = by_name(found)
    picker = checks["mode picker"]
    assert (picker.presence, picker.selector, picker.matched, picker.needed) == (
        Presence.UNMATCHED,
        None,
        (),
        True,
    )
    assert checks["mode menu item"].presence is Presence.NOT_CHECKED
    assert checks["editor"].presence is Presence.MATCHED  # only the renamed element is lost
    assert any("mode picker" in problem for problem in found.problems)


async def test_a_page_that_never_settles_for_want_of_an_editor_is_still_examined(tmp_path: Path) -> None:
    """The driver's open waits for an editor it knows; without one the network verdict and the rest
    of the page are still reported, and the editor is named as the problem."""
    from simulator.app import create_app
    from simulator.settings import SimulatorSettings

    app = RenamedUI(create_app(SimulatorSettings(ui="mid2026")), RENAMED_EDITOR)
    with serve(app) as url:
        values = PoolSettings(gemini_url=url, data_dir=tmp_path, ui_timeout=3, navigation_timeout=6)
        found = await diagnose(values, AccountSpec(name="doc", psid=cookie("paid")))

    assert found.page_state is None and found.open_error
    assert found.signed_in and found.status_code == 1000  # the otAQ7b answer decides alone
    checks = by_name(found)
    assert checks["editor"].presence is Presence.UNMATCHED
    assert checks["send button"].presence is Presence.NOT_CHECKED
    assert checks["mode picker"].presence is Presence.MATCHED
    assert any(
        problem.startswith("no selector of the table matches the editor") for problem in found.problems
    )


async def test_a_signed_out_cookie_is_reported_with_its_signal(
    simulators: dict[str, str], tmp_path: Path
) -> None:
    found = await diagnose(
        settings(simulators["mid2026"], tmp_path), AccountSpec(name="doc", psid=cookie("nobody"))
    )

    assert not found.signed_in and found.verdict == "signed_out"
    assert found.page_state == "signed_out"
    assert not set(S.SESSION_TOKEN_KEYS) & set(found.tokens)
    assert by_name(found)["signed-out marker"].presence is Presence.MATCHED
    assert by_name(found)["send button"].presence is Presence.NOT_CHECKED
    assert any(problem.startswith("not signed in") for problem in found.problems)
    assert any("XSRF" in problem for problem in found.problems)


async def test_the_page_sees_a_normal_chromium_window(simulators: dict[str, str], tmp_path: Path) -> None:
    found = await diagnose(
        settings(simulators["mid2026"], tmp_path), AccountSpec(name="doc", psid=cookie("paid"))
    )

    seen = found.presentation
    assert seen.webdriver is False
    assert "Headless" not in seen.user_agent and "Chrome/" in seen.user_agent
    assert seen.brands is not None and any(brand.startswith("Chromium/") for brand in seen.brands)
    assert not any("Headless" in brand for brand in seen.brands)
    assert seen.window_chrome and seen.plugins > 0 and seen.pdf_viewer
    assert (seen.problems, found.warnings, found.problems) == ((), (), ())


@needs_headless_shell
async def test_the_headless_shell_is_told_headless_and_that_is_a_problem(
    simulators: dict[str, str], tmp_path: Path
) -> None:
    values = settings(simulators["mid2026"], tmp_path, chromium_path=str(HEADLESS_SHELL))
    found = await diagnose(values, AccountSpec(name="doc", psid=cookie("paid")))

    seen = found.presentation
    assert found.signed_in  # the page serves; only what it is told of the browser differs
    assert seen.brands is not None and any(brand.startswith("HeadlessChrome/") for brand in seen.brands)
    assert seen.webdriver is False and "Headless" not in seen.user_agent  # the launcher's own part holds
    assert found.problems == (
        "the page is told the browser is headless (HeadlessChrome in the client-hint brands)",
    )
    assert not seen.window_chrome and seen.plugins == 0 and not seen.pdf_viewer
    assert len(found.warnings) == 3


def test_every_selector_of_the_table_has_one_place_to_be_looked_for() -> None:
    phases = [
        *D.ON_LOAD,
        *D.MARKERS,
        *D.IN_MODE_MENU,
        *D.IN_TOOLS_MENU,
        *D.BEHIND_UPLOAD,
        *D.WITH_TEXT,
        *D.IN_TURN,
    ]
    table = [value for value in vars(S).values() if isinstance(value, S.Sel)]
    assert sorted(sel.name for sel in phases) == sorted(sel.name for sel in table)


def _diagnosis(**changes: object) -> Diagnosis:
    """A healthy page's diagnosis, changed as a test needs (the rules of ``problems``)."""
    elements = tuple(
        D.ElementCheck(
            sel.name, Presence.MATCHED, sel.fallbacks[0], sel.fallbacks[:1], len(sel.fallbacks), False, ""
        )
        for sel in D._all_selectors()
    )
    values: dict[str, object] = {
        "account_id": "doc",
        "signed_in": True,
        "verdict": "ready",
        "source": "account_status",
        "status_code": 1000,
        "reason": None,
        "page_state": "ready",
        "tier": "paid",
        "modes": frozenset({ModeFamily.FLASH}),
        "tools": frozenset(),
        "models": (),
        "elements": elements,
        "tokens": ("SNlM0e",),
        "rpcs": (RpcCall("otAQ7b", 200),),
        "presentation": Presentation(False, "Chrome/156.0.0.0", ("Chromium/156",), True, 5, True),
    }
    values.update(changes)
    return Diagnosis(**values)  # type: ignore[arg-type]


def _unmatched(*names: str, needed: bool = True) -> tuple[D.ElementCheck, ...]:
    return tuple(
        D.ElementCheck(c.name, Presence.UNMATCHED, None, (), c.candidates, needed, "x")
        if c.name in names
        else c
        for c in _diagnosis().elements
    )


def test_problems_name_what_the_gateway_needs() -> None:
    assert _diagnosis().problems == ()
    assert _diagnosis(tokens=("thykhd", "cfb2h")).problems == ()
    assert _diagnosis(tokens=("cfb2h",)).problems == ("no XSRF token on the page (SNlM0e or thykhd)",)
    assert _diagnosis(rpcs=(RpcCall("MaZiqc", 200),)).problems == (
        "the page called no account-status RPC (otAQ7b)",
    )
    assert _diagnosis(signed_in=False, verdict="blocked", reason="captcha").problems == ("blocked: captcha",)
    assert _diagnosis(modes=frozenset()).problems == ("the page offers no mode",)
    assert _diagnosis(elements=_unmatched("send button")).problems == (
        "no selector of the table matches the send button (x)",
    )
    assert _diagnosis(elements=_unmatched("more tools", needed=False)).problems == ()
    one_label = _unmatched("mode picker label", needed=False)
    assert _diagnosis(elements=one_label).problems == ()
    both = _unmatched("mode picker label", "mode picker text", needed=False)
    assert _diagnosis(elements=both).problems == (
        "neither the mode picker label nor the mode picker text matches: the current mode cannot be read",
    )
