"""``browser.diagnose``: one account's page examined in real Chromium against the simulator, in both
UI generations: the verdict and its signal, the candidate of the selector table that matched each
element, the page tokens by name and the side RPCs the page called; and a page whose mode picker
was renamed reports it unmatched. What the page sees of the browser: a normal Chromium with the
installed Chromium, a headless one (a problem) with Debian's headless shell."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

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
from browser._overrides import PageOverrides
from browser._selectors import DEFAULT_TABLE
from tests.browser.conftest import UI_GENERATIONS, Lender, cookie
from tests.browser.renamed_ui import RENAMED_EDITOR, RENAMED_MODE_PICKER, RenamedUI
from tests.support.headless_shell import HEADLESS_SHELL, needs_headless_shell
from tests.support.pacing import PACING
from tests.support.servers import serve

# The candidate (by table key) each UI generation's page is expected to match first (the simulator's
# DOM, docs/architecture/page-model.md): the newest hooks for the October page.
EXPECTED: dict[str, dict[str, str]] = {
    "oct2026": {
        "editor": 'rich-textarea .ql-editor[contenteditable="true"]',
        "send": 'input-area-v2 button[aria-label="Send message"]',
        "mode_picker": 'button[data-test-id="bard-mode-menu-button"]',
        "mode_picker_aria": '[aria-label^="Open mode picker"]',
        "mode_items": '[data-test-id="gem-mode-menu"] gem-menu-item',
        "selected": ".selected",
        "tools_opener": 'button[aria-label="Upload and tools"]',
        "more_tools": '[data-test-id="more-tools-button"]',
        "file_input": 'images-files-uploader input[type="file"]',
        "signed_in": '[aria-label^="Google Account"]',
    },
    "mid2026": {
        "editor": 'rich-textarea .ql-editor[contenteditable="true"]',
        "send": 'input-area-v2 button[aria-label="Send message"]',
        "mode_picker_aria": '[aria-label^="Open mode picker"]',
        "mode_items": '[data-test-id="gem-mode-menu"] gem-menu-item',
        "tools_opener": 'button[aria-label="Upload and tools"]',
        "more_tools": '[data-test-id="more-tools-button"]',
        "file_input": 'images-files-uploader input[type="file"]',
    },
    "early2026": {
        "editor": 'rich-textarea .ql-editor[contenteditable="true"]',
        "mode_picker_text": '[data-test-id="logo-pill-label-container"]',
        "mode_items": '[data-test-id^="bard-mode-option-"]',
        "tools_opener": "toolbox-drawer button.toolbox-drawer-button",
        "upload_opener": "uploader button.upload-card-button",
        "file_input": 'images-files-uploader input[type="file"]',
    },
}
GENERATION_CONTROLS = {"oct2026": "levels", "mid2026": "submenu", "early2026": "model"}

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def renamed() -> Iterator[dict[str, str]]:
    """Both UI generations with the mode picker renamed everywhere the page is built from."""
    from simulator.app import create_app
    from simulator.settings import SimulatorSettings

    def app(ui: Literal["oct2026", "mid2026", "early2026"]) -> RenamedUI:
        settings = SimulatorSettings.model_validate({**PACING, "ui": ui})
        return RenamedUI(create_app(settings), RENAMED_MODE_PICKER)

    with serve(app("oct2026")) as oct_, serve(app("mid2026")) as mid, serve(app("early2026")) as early:
        yield {"oct2026": oct_, "mid2026": mid, "early2026": early}


def settings(url: str, tmp_path: Path, chromium_path: str = "/usr/bin/chromium") -> PoolSettings:
    return PoolSettings(
        gemini_url=url, data_dir=tmp_path, ui_timeout=3, navigation_timeout=15, chromium_path=chromium_path
    )


@pytest.fixture
async def lent(lender: Lender) -> dict[str, Any]:
    """The session's Playwright and shared Chromium for ``diagnose``: the launch is not what these
    tests examine (the presentation test and the headless-shell test launch their own)."""
    return await lender.to()


def by_key(found: Diagnosis) -> dict[str, D.ElementCheck]:
    return {check.key: check for check in found.elements}


@pytest.mark.parametrize("ui", UI_GENERATIONS)
async def test_a_paid_account_names_the_matched_selectors_tokens_and_rpcs(
    ui: str, simulators: dict[str, str], tmp_path: Path, lent: dict[str, Any]
) -> None:
    contexts = len(lent["browser"].contexts)
    found = await diagnose(
        settings(simulators[ui], tmp_path), AccountSpec(name="doc", psid=cookie("paid")), **lent
    )

    # What was lent is left as it was: the browser serving, without the context the doctor opened.
    assert len(lent["browser"].contexts) == contexts
    await (await lent["browser"].new_context()).close()
    assert (found.signed_in, found.source, found.status_code, found.page_state) == (
        True,
        "account_status",
        1000,
        "ready",
    )
    # Early 2026's flat drawer has no Create music (page.md; it came behind More tools, ZHT).
    tools = frozenset(Tool) - ({Tool.MUSIC} if ui == "early2026" else set())
    assert found.tier == "paid" and ModeFamily.PRO in found.modes and found.tools == tools
    # The UI generation, told by how the picker sets thinking (C8), and the decoded otAQ7b (G4-G6).
    assert (found.ui_generation, found.thinking) == (ui, GENERATION_CONTROLS[ui])
    status = found.account_status
    assert status is not None and status.status_code == 1000 and status.capacity == 2
    assert [model.label for model in status.models] == [model.label for model in found.models]
    checks = by_key(found)
    for key, selector in EXPECTED[ui].items():
        assert checks[key].presence is Presence.MATCHED, key
        assert (checks[key].selector, checks[key].entry) == (selector, f"built-in {_place(key, selector)}"), (
            key
        )
    for key in D.ALWAYS_NEEDED + D.NEEDED_FOR_TOOLS + D.NEEDED_FOR_FILES:
        assert checks[key].needed and checks[key].presence is Presence.MATCHED, key
    assert checks["stop"].presence is Presence.NOT_CHECKED
    assert checks["signed_out"].presence is Presence.UNMATCHED
    assert "SNlM0e" in found.tokens and "cfb2h" in found.tokens and "FdrFJe" in found.tokens
    assert RpcCall("otAQ7b", 200) in found.rpcs
    assert (found.problems, found.warnings) == ((), ())
    assert [check.key for check in found.elements] == [sel.key for sel in DEFAULT_TABLE.selectors()]


def _place(key: str, selector: str) -> int:
    return list(getattr(DEFAULT_TABLE, key).fallbacks).index(selector) + 1


async def test_an_override_entry_that_matches_is_named_as_such(
    simulators: dict[str, str], tmp_path: Path, lent: dict[str, Any]
) -> None:
    """An operator's selector in front of the built-in ones: the doctor names which one matched."""
    overrides = PageOverrides(
        selectors={"send": ('[data-test-id="send-button-container"] gem-icon-button button',)}
    )
    values = settings(simulators["oct2026"], tmp_path).model_copy(update={"page_overrides": overrides})
    found = await diagnose(values, AccountSpec(name="doc", psid=cookie("paid")), **lent)
    send = by_key(found)["send"]
    assert (send.entry, send.selector) == ("override 1", overrides.selectors["send"][0])
    assert found.problems == ()


@pytest.mark.parametrize("ui", UI_GENERATIONS)
async def test_a_renamed_mode_picker_is_reported_unmatched(
    ui: str, renamed: dict[str, str], tmp_path: Path, lent: dict[str, Any]
) -> None:
    found = await diagnose(
        settings(renamed[ui], tmp_path), AccountSpec(name="doc", psid=cookie("paid")), **lent
    )

    assert found.signed_in and found.status_code == 1000  # the network still says all is well
    checks = by_key(found)
    picker = checks["mode_picker"]
    assert (picker.presence, picker.selector, picker.matched, picker.needed) == (
        Presence.UNMATCHED,
        None,
        (),
        True,
    )
    assert checks["mode_items"].presence is Presence.NOT_CHECKED
    assert checks["editor"].presence is Presence.MATCHED  # only the renamed element is lost
    # The problem says what to do: which key of the override file takes a selector.
    assert any(
        "mode picker" in p and "selectors.mode_picker in the page override file" in p for p in found.problems
    )


async def test_a_page_that_never_settles_for_want_of_an_editor_is_still_examined(
    tmp_path: Path, lent: dict[str, Any]
) -> None:
    """The driver's open waits for an editor it knows; without one the network verdict and the rest
    of the page are still reported, and the editor is named as the problem."""
    from simulator.app import create_app
    from simulator.settings import SimulatorSettings

    app = RenamedUI(create_app(SimulatorSettings.model_validate({**PACING, "ui": "oct2026"})), RENAMED_EDITOR)
    with serve(app) as url:
        values = PoolSettings(gemini_url=url, data_dir=tmp_path, ui_timeout=3, navigation_timeout=6)
        found = await diagnose(values, AccountSpec(name="doc", psid=cookie("paid")), **lent)

    assert found.page_state is None and found.open_error
    assert found.signed_in and found.status_code == 1000  # the otAQ7b answer decides alone
    checks = by_key(found)
    assert checks["editor"].presence is Presence.UNMATCHED
    assert checks["send"].presence is Presence.NOT_CHECKED
    assert checks["mode_picker"].presence is Presence.MATCHED
    assert any(
        problem.startswith("no selector of the table matches the editor") for problem in found.problems
    )


async def test_a_signed_out_cookie_is_reported_with_its_signal(
    simulators: dict[str, str], tmp_path: Path, lent: dict[str, Any]
) -> None:
    found = await diagnose(
        settings(simulators["oct2026"], tmp_path), AccountSpec(name="doc", psid=cookie("nobody")), **lent
    )

    assert not found.signed_in and found.verdict == "signed_out"
    assert found.page_state == "signed_out"
    assert not set(S.SESSION_TOKEN_KEYS) & set(found.tokens)
    assert by_key(found)["signed_out"].presence is Presence.MATCHED
    assert by_key(found)["send"].presence is Presence.NOT_CHECKED
    assert any(problem.startswith("not signed in") for problem in found.problems)
    assert any("XSRF" in problem for problem in found.problems)


async def test_the_page_sees_a_normal_chromium_window(simulators: dict[str, str], tmp_path: Path) -> None:
    found = await diagnose(
        settings(simulators["oct2026"], tmp_path), AccountSpec(name="doc", psid=cookie("paid"))
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
    values = settings(simulators["oct2026"], tmp_path, chromium_path=str(HEADLESS_SHELL))
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
    assert sorted(phases) == sorted(sel.key for sel in DEFAULT_TABLE.selectors())


def _diagnosis(**changes: object) -> Diagnosis:
    """A healthy page's diagnosis, changed as a test needs (the rules of ``problems``)."""
    elements = tuple(
        D.ElementCheck(
            sel.name,
            Presence.MATCHED,
            sel.fallbacks[0],
            sel.fallbacks[:1],
            len(sel.fallbacks),
            False,
            "",
            sel.key,
            "built-in 1",
        )
        for sel in DEFAULT_TABLE.selectors()
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
        "tools": frozenset({Tool.IMAGE}),
        "models": (),
        "elements": elements,
        "thinking": "levels",
        "ui_generation": "oct2026",
        "tokens": ("SNlM0e",),
        "rpcs": (RpcCall("otAQ7b", 200),),
        "presentation": Presentation(False, "Chrome/156.0.0.0", ("Chromium/156",), True, 5, True),
    }
    values.update(changes)
    return Diagnosis(**values)  # type: ignore[arg-type]


def _unmatched(*keys: str, needed: bool = True) -> tuple[D.ElementCheck, ...]:
    return tuple(
        D.ElementCheck(c.name, Presence.UNMATCHED, None, (), c.candidates, needed, "x", c.key)
        if c.key in keys
        else c
        for c in _diagnosis().elements
    )


def test_problems_name_what_the_gateway_needs_and_what_to_do() -> None:
    assert (_diagnosis().problems, _diagnosis().warnings) == ((), ())
    assert _diagnosis(tokens=("thykhd", "cfb2h")).problems == ()
    (token,) = _diagnosis(tokens=("cfb2h",)).problems
    assert token.startswith("no XSRF token on the page (SNlM0e or thykhd)") and "doctor --record" in token
    (status,) = _diagnosis(rpcs=(RpcCall("MaZiqc", 200),)).problems
    assert status.startswith("the page called no account-status RPC (otAQ7b)") and "bug report" in status
    (blocked,) = _diagnosis(signed_in=False, verdict="blocked", reason="captcha").problems
    assert blocked.startswith("blocked: captcha: ") and "fresh cookie" in blocked
    (modes,) = _diagnosis(modes=frozenset()).problems
    assert modes.startswith("the page offers no model") and "labels." in modes
    (send,) = _diagnosis(elements=_unmatched("send")).problems
    assert send.startswith("no selector of the table matches the send button (x)")
    assert "selectors.send in the page override file" in send
    assert _diagnosis(elements=_unmatched("more_tools", needed=False)).problems == ()
    one_label = _unmatched("mode_picker_aria", needed=False)
    assert _diagnosis(elements=one_label).problems == ()
    both = _unmatched("mode_picker_aria", "mode_picker_text", needed=False)
    (neither,) = _diagnosis(elements=both).problems
    assert neither.startswith(
        "neither the mode picker label nor the mode picker text matches: the current mode cannot be read"
    )


def test_warnings_name_a_missing_thinking_control_or_tools() -> None:
    (thinking,) = _diagnosis(thinking="none").warnings
    assert "reasoning_effort is ignored" in thinking and "labels." in thinking
    (tools,) = _diagnosis(tools=frozenset()).warnings
    assert "tools menu lists no tool" in tools
