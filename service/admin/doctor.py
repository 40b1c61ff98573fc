"""``gemini-gateway doctor``: open Gemini's page with one account (headed with ``--headed``) and
report what the gateway would rely on (``browser.diagnose``): signed in or not and from which signal,
tier, the modes, models and tools offered, which candidate of the selector table matched each UI
element, which page tokens the page carries (names only) and which side RPCs it called, what the page
can observe about the browser (automation flag, user agent, client hints, ``window.chrome``, plugins,
PDF viewer), the UI generation the picker's thinking control belongs to, the decoded ``otAQ7b``
answer, and whether the installed Playwright expects the Chromium that is installed; every problem
says what to do. Printed readably, or as JSON with ``--json``. ``--record FILE`` also writes an
evidence bundle for a bug report (docs/evidence-bundles.md: page outlines, the otAQ7b payload, the
page's request URLs and headers without cookies or tokens, and one probe exchange in a new chat that
is deleted afterwards). Exit code 1 when something the gateway needs is missing or the
page is told it runs in an automated or headless browser, 2 when the doctor cannot run; warnings
(a Chromium version outside the tested window, a browser that lacks what a normal window shows) are
printed and never change the exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from browser import AccountSpec, BrowserError, Diagnosis, PoolSettings, Presence, diagnose
from service.pool_adapter import account_spec
from service.settings import GatewaySettings
from service.stores.backends import accounts_at
from service.stores.config import StateBackend

__all__ = ["render_text", "report_of", "run_doctor", "versions"]

BROWSERS_JSON = Path("driver/package/browsers.json")
_MARKS = {Presence.MATCHED.value: "ok", Presence.UNMATCHED.value: "NONE", Presence.NOT_CHECKED.value: "-"}


def run_doctor(args: argparse.Namespace) -> int:
    try:
        settings = GatewaySettings(open_access=True)
    except ValueError as exc:
        print(f"doctor: the configuration cannot be read ({type(exc).__name__})", file=sys.stderr)
        return 2
    spec = _account(settings, args.account)
    if spec is None:
        print("doctor: no such account (configure one, or add one with `accounts add`)", file=sys.stderr)
        return 2
    report: dict[str, Any] = {"versions": versions(settings)}
    record: Path | None = args.record
    try:
        found = asyncio.run(_diagnose(settings, spec, headed=args.headed, record=record is not None))
        report.update(report_of(found))
        if record is not None and found.evidence is not None:
            write_bundle(
                record, {**found.evidence, "report": report_of(found), "versions": report["versions"]}
            )
            report["recorded"] = str(record)
    except BrowserError as exc:
        report["error"] = f"{type(exc).__name__}: {exc}"
        report["problems"] = [f"the page could not be examined ({report['error']})"]
    # Every warning in one list, as every problem is (the version warning stays under ``versions``).
    versions_warning = [report["versions"]["warning"]] if "warning" in report["versions"] else []
    report["warnings"] = versions_warning + report.get("warnings", [])
    print(json.dumps(report, indent=2) if args.json else render_text(report))
    return 1 if report["problems"] else 0


def _account(settings: GatewaySettings, name: str | None) -> AccountSpec | None:
    for config in settings.accounts:
        if name in (None, config.name):
            return account_spec(config)
    if settings.state.backend is StateBackend.REDIS or settings.added_accounts_path.exists():
        return asyncio.run(_added(settings, name))
    return None


async def _added(settings: GatewaySettings, name: str | None) -> AccountSpec | None:
    async with accounts_at(settings.state, settings.data_dir) as registry:
        for entry in await registry.all():
            if name in (None, entry.id):
                return entry.spec
    return None


async def _diagnose(settings: GatewaySettings, spec: AccountSpec, *, headed: bool, record: bool) -> Diagnosis:
    # A scratch data directory: the doctor must not rotate the cookies the gateway keeps.
    with tempfile.TemporaryDirectory(prefix="gateway-doctor-") as scratch:
        values = {**settings.browser, "data_dir": Path(scratch), "headless": not headed}
        return await diagnose(PoolSettings(**values), spec, record=record)


def write_bundle(path: Path, bundle: dict[str, Any]) -> None:
    """The bundle as JSON, readable by its owner only (it names the account's models and plan)."""
    text = json.dumps(bundle, indent=1, ensure_ascii=False)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text + "\n")


def report_of(found: Diagnosis) -> dict[str, Any]:
    """The diagnosis as JSON-ready data (names and verdicts only: it holds no secret)."""
    return {
        "account": {
            "id": found.account_id,
            "signed_in": found.signed_in,
            "state": found.verdict,
            "signal": _signal(found),
            "status_code": found.status_code,
            "reason": found.reason,
            "page_markers": found.page_state,
            "tier": found.tier,
            "modes": sorted(mode.value for mode in found.modes),
            "models": [model.label for model in found.models],
            "tools": sorted(tool.value for tool in found.tools),
            "thinking": found.thinking,
            "ui_generation": found.ui_generation,
        },
        "account_status": _status_of(found),
        "elements": [
            {
                "name": check.name,
                "key": check.key,
                "entry": check.entry,
                "presence": check.presence.value,
                "selector": check.selector,
                "matched": list(check.matched),
                "candidates": check.candidates,
                "needed": check.needed,
                "where": check.note,
            }
            for check in found.elements
        ],
        "page_tokens": list(found.tokens),
        "side_rpcs": [{"rpc_id": call.rpc_id, "status": call.status} for call in found.rpcs],
        "presentation": {
            "webdriver": found.presentation.webdriver,
            "user_agent": found.presentation.user_agent,
            "client_hint_brands": (
                None if found.presentation.brands is None else list(found.presentation.brands)
            ),
            "window_chrome": found.presentation.window_chrome,
            "plugins": found.presentation.plugins,
            "pdf_viewer": found.presentation.pdf_viewer,
        },
        "problems": list(found.problems),
        "warnings": list(found.warnings),
    }


def _status_of(found: Diagnosis) -> dict[str, Any] | None:
    """The decoded otAQ7b answer: what the gateway read, field by field (fidelity.md G2–G6)."""
    answer = found.account_status
    if answer is None:
        return None
    return {
        "status_code": answer.status_code,
        "tier_flags": list(answer.tier_flags),
        "capability_flags": list(answer.capability_flags),
        "capacity": answer.capacity,
        "models": [
            {"hex": m.hex, "name": m.name, "label": m.label, "mode_number": m.mode_number}
            for m in answer.models
        ],
    }


def _signal(found: Diagnosis) -> str:
    if found.status_code is not None:
        return f"the account-status RPC otAQ7b (code {found.status_code})"
    if found.source == "account_status":
        return f"the account-status RPC otAQ7b, refused ({found.reason})"
    return "the page (URL, session markers, menus): no otAQ7b answer was read"


def render_text(report: dict[str, Any]) -> str:
    """The report for a terminal: verdicts first, then one line per UI element, then problems."""
    lines: list[str] = []
    account = report.get("account")
    if account is not None:
        lines += [
            f"account {account['id']}: {'signed in' if account['signed_in'] else account['state']}",
            f"  signal: {account['signal']}",
            f"  page markers: {account['page_markers'] or 'the page did not settle'}",
        ]
        if account["reason"]:
            lines.append(f"  reason: {account['reason']}")
        lines += [
            f"  tier: {account['tier']}",
            f"  modes: {', '.join(account['modes']) or 'none'}",
            f"  models: {', '.join(account['models']) or 'none'}",
            f"  tools: {', '.join(account['tools']) or 'none'}",
            f"  thinking control: {account['thinking']} (UI generation: {account['ui_generation']})",
            f"  page tokens (names only): {', '.join(report['page_tokens']) or 'none'}",
            "  side RPCs the page called: "
            + (
                ", ".join(f"{c['rpc_id']} ({c['status'] or 'no answer'})" for c in report["side_rpcs"])
                or "none"
            ),
        ]
        lines += _status_lines(report.get("account_status"))
        lines += _presentation_lines(report["presentation"])
        lines.append(
            "UI elements (the candidate of the selector table that matched; * needed by the gateway):"
        )
        width = max((len(element["name"]) for element in report["elements"]), default=0)
        for element in report["elements"]:
            mark = _MARKS[element["presence"]]
            need = "*" if element["needed"] else " "
            if element["presence"] == Presence.MATCHED.value:
                what = f"{element['selector']}  [{element['entry']}; {element['where']}]"
            elif element["presence"] == Presence.UNMATCHED.value:
                what = f"none of its {element['candidates']} candidates matched ({element['where']})"
            else:
                what = f"not checked: {element['where']}"
            lines.append(f"  {mark:<4} {need} {element['name']:<{width}}  {what}")
    if "error" in report:
        lines.append(f"error: {report['error']}")
    v = report["versions"]
    expects = v["playwright_expects_chromium"] or "?"
    lines.append(
        f"versions: Playwright {v['playwright']} (built for Chromium {expects}), "
        f"Chromium {v['chromium'] or '?'} at {v['chromium_path']}"
    )
    lines += [f"warning: {warning}" for warning in report.get("warnings", [])]
    if "recorded" in report:
        lines.append(f"evidence bundle written to {report['recorded']}")
    problems = report["problems"]
    lines.append("problems: none" if not problems else "problems:")
    lines += [f"  - {problem}" for problem in problems]
    return "\n".join(lines)


def _status_lines(status: dict[str, Any] | None) -> list[str]:
    if status is None:
        return ["  otAQ7b: not read"]
    models = "; ".join(
        f"{m['label']} ({m['hex']}, {m['name'] or '-'}, mode {m['mode_number']})" for m in status["models"]
    )
    return [
        f"  otAQ7b: status {status['status_code']}, tier flags {status['tier_flags']}, "
        f"capability flags {status['capability_flags']} (capacity {status['capacity']})",
        f"    models: {models or 'none'}",
    ]


def _presentation_lines(seen: dict[str, Any]) -> list[str]:
    brands = seen["client_hint_brands"]
    hints = "none (no navigator.userAgentData)" if brands is None else ", ".join(brands)
    return [
        "  the browser as the page sees it:",
        f"    navigator.webdriver: {str(seen['webdriver']).lower()}",
        f"    user agent: {seen['user_agent'] or '(empty)'}",
        f"    client-hint brands: {hints}",
        f"    window.chrome: {'present' if seen['window_chrome'] else 'absent'}",
        f"    plugins: {seen['plugins']}",
        f"    PDF viewer: {'enabled' if seen['pdf_viewer'] else 'disabled'}",
    ]


# How far behind Playwright's own Chromium the installed one may be (tested: 3 majors behind).
CHROMIUM_MAJORS_BEHIND = 4


def versions(settings: GatewaySettings) -> dict[str, Any]:
    """Playwright's version and the Chromium it was built for, beside the installed Chromium."""
    chromium_path = str(settings.pool_settings().chromium_path)
    expected = _expected_chromium()
    installed = _installed_chromium(chromium_path)
    result: dict[str, Any] = {
        "playwright": metadata.version("playwright"),
        "playwright_expects_chromium": expected,
        "chromium": installed,
        "chromium_path": chromium_path,
    }
    warning = _mismatch(expected, installed)
    if warning:
        result["warning"] = warning
    return result


def _mismatch(expected: str | None, installed: str | None) -> str | None:
    """Why this pair may not work, or None. Playwright speaks CDP to browsers a few releases older
    than the one it was built for (the suite runs the pinned Playwright against Debian's older
    Chromium), but not to newer ones, whose protocol it does not know yet."""
    if not expected or not installed:
        return None
    want, have = int(expected.split(".")[0]), int(installed.split(".")[0])
    if have > want:
        return (
            f"the installed Chromium {have} is newer than the {want} Playwright was built for: "
            "move the Playwright pin forward (README, Dependencies)"
        )
    if have < want - CHROMIUM_MAJORS_BEHIND:
        return (
            f"the installed Chromium {have} is more than {CHROMIUM_MAJORS_BEHIND} releases older than "
            f"the {want} Playwright was built for: pin an older Playwright (README, Dependencies)"
        )
    return None


def _expected_chromium() -> str | None:
    import playwright

    path = Path(playwright.__file__).parent / BROWSERS_JSON
    try:
        browsers = json.loads(path.read_text(encoding="utf-8"))["browsers"]
    except (OSError, ValueError, KeyError):
        return None
    return next((str(b.get("browserVersion")) for b in browsers if b.get("name") == "chromium"), None)


def _installed_chromium(path: str) -> str | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"(\d+\.\d+\.\d+\.\d+)", out.stdout)
    return found.group(1) if found else None
