"""What the page observes about the browser, judged without a browser: an automated or headless
browser is a problem (the doctor exits 1), the lesser signs a remote browser may lack are warnings
(printed, exit code untouched). The real pages are in tests/browser/test_browser_diagnosis.py and
tests/service/test_doctor.py; these rules run everywhere, Chromium installed or not."""

from __future__ import annotations

import dataclasses

from browser import (
    Diagnosis,
    ElementCheck,
    ModeFamily,
    Presence,
    Presentation,
    RpcCall,
    ThinkingControl,
    Tool,
)
from browser._selectors import DEFAULT_TABLE
from service.admin.doctor import render_text, report_of

HEADED_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
)
# What /usr/bin/chromium shows the simulator's page through the launcher (measured).
NORMAL = Presentation(
    webdriver=False,
    user_agent=HEADED_UA,
    brands=("Not:A-Brand/8", "Chromium/156"),
    window_chrome=True,
    plugins=5,
    pdf_viewer=True,
)
AUTOMATED = "the page sees an automated browser (navigator.webdriver is true)"
TOLD = "the page is told the browser is headless (HeadlessChrome in {})"
NO_PLUGINS = "the page sees no plugins (navigator.plugins is empty; a normal window lists the PDF viewer)"


def seen(**changes: object) -> Presentation:
    return dataclasses.replace(NORMAL, **changes)  # type: ignore[arg-type]


def diagnosis(presentation: Presentation) -> Diagnosis:
    """A healthy page's diagnosis but for what the page sees of the browser."""
    elements = tuple(
        ElementCheck(
            sel.name,
            Presence.MATCHED,
            sel.fallbacks[0],
            sel.fallbacks[:1],
            len(sel.fallbacks),
            True,
            "",
            sel.key,
            "built-in 1",
        )
        for sel in DEFAULT_TABLE.selectors()
    )
    return Diagnosis(
        account_id="doc",
        signed_in=True,
        verdict="ready",
        source="account_status",
        status_code=1000,
        reason=None,
        page_state="ready",
        tier="paid",
        modes=frozenset({ModeFamily.FLASH}),
        tools=frozenset({Tool.IMAGE}),
        models=(),
        elements=elements,
        tokens=("SNlM0e",),
        rpcs=(RpcCall("otAQ7b", 200),),
        presentation=presentation,
        thinking=ThinkingControl.LEVELS.value,
        ui_generation="oct2026",
    )


def test_a_normal_window_is_neither_a_problem_nor_a_warning() -> None:
    assert (NORMAL.problems, NORMAL.warnings) == ((), ())
    # A page that gets no client hints at all (an insecure origin) is told nothing headless.
    assert seen(brands=None).problems == () and seen(brands=None).warnings == ()


def test_an_automated_browser_is_a_problem() -> None:
    assert seen(webdriver=True).problems == (AUTOMATED,)
    assert seen(webdriver=True).warnings == ()


def test_headless_in_the_client_hints_or_the_user_agent_is_a_problem() -> None:
    # The headless shell with the headed user agent: only the brands give it away.
    shell = seen(brands=("Not:A-Brand/8", "Chromium/156", "HeadlessChrome/156"))
    assert shell.problems == (TOLD.format("the client-hint brands"),)
    headless_ua = HEADED_UA.replace("Chrome/", "HeadlessChrome/")
    assert seen(user_agent=headless_ua).problems == (TOLD.format("the user agent"),)
    both = seen(user_agent=headless_ua, brands=("HeadlessChrome/156",), webdriver=True)
    assert both.problems == (
        AUTOMATED,
        TOLD.format("the user agent and the client-hint brands"),
    )


def test_the_lesser_signs_are_warnings_only() -> None:
    assert seen(plugins=0).warnings == (NO_PLUGINS,) and seen(plugins=0).problems == ()
    assert seen(window_chrome=False).warnings == (
        "the page sees no window.chrome (a normal Chromium window has one)",
    )
    assert seen(pdf_viewer=False).warnings == (
        "the page sees no PDF viewer (navigator.pdfViewerEnabled is false)",
    )
    assert seen(window_chrome=False, plugins=0, pdf_viewer=False).problems == ()


def test_the_diagnosis_carries_them_as_problems_and_warnings() -> None:
    assert diagnosis(NORMAL).problems == () and diagnosis(NORMAL).warnings == ()
    assert diagnosis(seen(webdriver=True)).problems == (AUTOMATED,)
    only_warned = diagnosis(seen(plugins=0))
    assert (only_warned.problems, only_warned.warnings) == ((), (NO_PLUGINS,))


def test_the_doctor_report_shows_the_presentation_and_keeps_warnings_out_of_problems() -> None:
    report = {
        "versions": {
            "playwright": "1",
            "playwright_expects_chromium": "156",
            "chromium": "156",
            "chromium_path": "/c",
        },
        **report_of(diagnosis(seen(plugins=0))),
    }

    assert report["presentation"] == {
        "webdriver": False,
        "user_agent": HEADED_UA,
        "client_hint_brands": ["Not:A-Brand/8", "Chromium/156"],
        "window_chrome": True,
        "plugins": 0,
        "pdf_viewer": True,
    }
    assert (report["problems"], report["warnings"]) == ([], [NO_PLUGINS])
    lines = render_text(report).splitlines()
    assert "  the browser as the page sees it:" in lines
    assert "    client-hint brands: Not:A-Brand/8, Chromium/156" in lines
    assert "    plugins: 0" in lines
    assert f"warning: {NO_PLUGINS}" in lines
    assert lines[-1] == "problems: none"
