"""Calling batchexecute side RPCs from inside the page, with the page's own cookies and tokens.

The request is the one the page itself sends (docs/architecture/wire-protocol.md#batchexecute): a same-origin
``fetch`` of
``/_/BardChatUi/data/batchexecute`` with the tokens of ``window.WIZ_global_data`` (``at`` from
``SNlM0e`` or ``thykhd``, ``bl`` from ``cfb2h``, ``f.sid`` from ``FdrFJe``, ``hl`` from ``TuX5cc``).
The fetch runs in the page, so Chromium adds the session cookies; nothing secret crosses into
Python except the answer.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Sequence
from typing import Any

from playwright.async_api import Page

from browser._account_context import PageHolder
from browser._playwright_errors import map_playwright_errors
from browser.errors import (
    AccountUnavailable,
    ConnectionLost,
    DriverError,
    HTTPStatusError,
    ProtocolError,
    StepTimeout,
    TargetClosed,
    UnavailableReason,
    UpstreamTimeout,
)
from browser.protocol import BatchResult, decode_batchexecute

log = logging.getLogger(__name__)

__all__ = ["BATCHEXECUTE_PATH", "call_from_context", "call_rpcs"]

BATCHEXECUTE_PATH = "/_/BardChatUi/data/batchexecute"
IDENTIFIER = "generic"
# The page numbers its requests; ours only need to be distinct and increasing.
_REQUEST_IDS = itertools.count(100_001, 100_000)
# Python's own deadline runs a little after the page's abort, so the page's answer wins the race.
_EVALUATE_SLACK = 2.0  # seconds


async def call_rpcs(
    page: Page,
    calls: Sequence[tuple[str, object]],
    *,
    source_path: str = "/app",
    timeout: float,  # noqa: ASYNC109 - the agreed interface (I2); the page's fetch must be bounded too
) -> list[BatchResult]:
    """Send ``calls`` (rpc id, payload) in one batchexecute POST; one ``BatchResult`` per call, in
    order; a refused RPC is a result with ``error_code``, not an error. Raises ``UpstreamTimeout``
    (no answer in ``timeout`` seconds), ``AccountUnavailable`` (signed-out or captcha answer),
    ``HTTPStatusError`` (another HTTP status), ``ConnectionLost`` (the request failed),
    ``ProtocolError`` (an undecodable body, or an RPC left unanswered), ``DriverError`` /
    ``TargetClosed`` (the page)."""
    if not calls:
        raise ValueError("call_rpcs needs at least one call")
    rpc_ids = [rpc_id for rpc_id, _ in calls]
    request = [[rpc_id, _dumps(payload), None, IDENTIFIER] for rpc_id, payload in calls]
    arg: dict[str, Any] = {
        "path": BATCHEXECUTE_PATH,
        "rpcids": ",".join(rpc_ids),
        "sourcePath": source_path,
        "reqid": str(next(_REQUEST_IDS)),
        "freq": _dumps([request]),
        "timeoutMs": int(timeout * 1000),
    }
    step = f"batchexecute {arg['rpcids']}"
    try:
        with map_playwright_errors(step):
            async with asyncio.timeout(timeout + _EVALUATE_SLACK):
                answer: dict[str, Any] = await page.evaluate(_FETCH_SCRIPT, arg)
    except StepTimeout:
        raise UpstreamTimeout(f"{step}: no answer within {timeout:.0f}s") from None
    return _results(step, rpc_ids, answer, timeout)


def _results(step: str, rpc_ids: list[str], answer: dict[str, Any], timeout: float) -> list[BatchResult]:
    if answer.get("timedOut"):
        raise UpstreamTimeout(f"{step}: no answer within {timeout:.0f}s")
    if answer.get("failed"):
        # The fetch itself failed (connection refused or reset): not an answer from Google.
        raise ConnectionLost(f"{step}: the request failed ({answer['failed']})")
    status, url = int(answer.get("status", 0)), str(answer.get("url", ""))
    if status != 200:
        _raise_on_http(step, status, url)
    results = decode_batchexecute(str(answer.get("text", "")))
    by_id: dict[str, BatchResult] = {}
    for result in results:
        by_id.setdefault(result.rpc_id, result)
    missing = [rpc_id for rpc_id in rpc_ids if rpc_id not in by_id]
    if missing:
        raise ProtocolError(f"{step}: no answer for {', '.join(missing)}")
    return [by_id[rpc_id] for rpc_id in rpc_ids]


def _raise_on_http(step: str, status: int, url: str) -> None:
    if "/sorry/" in url or status == 429:
        raise AccountUnavailable(f"{step}: Google asks for a captcha", reason=UnavailableReason.CAPTCHA)
    if "ServiceLogin" in url or status in (401, 403):
        raise AccountUnavailable(f"{step}: the session is signed out", reason=UnavailableReason.SIGNED_OUT)
    raise HTTPStatusError(status, step)


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# Runs in the page. Never throws: every outcome comes back as data, so Python decides what it means.
_FETCH_SCRIPT = """async ({path, rpcids, sourcePath, reqid, freq, timeoutMs}) => {
  const wiz = window.WIZ_global_data || {};
  const query = new URLSearchParams({rpcids, "source-path": sourcePath});
  if (wiz.cfb2h) query.set("bl", wiz.cfb2h);
  if (wiz.FdrFJe) query.set("f.sid", wiz.FdrFJe);
  query.set("hl", wiz.TuX5cc || document.documentElement.lang || "en");
  query.set("_reqid", reqid);
  query.set("rt", "c");
  const form = new URLSearchParams();
  const at = wiz.SNlM0e || wiz.thykhd;
  if (at) form.set("at", at);
  form.set("f.req", freq);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const response = await fetch(path + "?" + query.toString(), {
      method: "POST",
      credentials: "include",
      signal: abort.signal,
      headers: {
        "content-type": "application/x-www-form-urlencoded;charset=UTF-8",
        "x-same-domain": "1",
        "x-goog-ext-525001261-jspb": "[1,null,null,null,null,null,null,null,[4]]",
        "x-goog-ext-73010989-jspb": "[0]",
      },
      body: form.toString(),
    });
    const text = await response.text();
    return {status: response.status, url: response.url, text};
  } catch (error) {
    if (abort.signal.aborted) return {timedOut: true};
    return {failed: String(error && error.name || "error")};
  } finally {
    clearTimeout(timer);
  }
}"""


async def call_from_context(
    context: PageHolder | None,
    calls: Sequence[tuple[str, object]],
    *,
    source_path: str = "/app",
    timeout: float,  # noqa: ASYNC109 - passed on to the page's fetch, which must be bounded too
) -> list[BatchResult]:
    """``call_rpcs`` from any live page of an account (outside a turn): a fetch from a page does not
    disturb a turn typed into it. Asked once more when the page was mid-navigation (its blank-chat
    reload after a turn destroys the execution context under the fetch)."""
    try:
        return await call_rpcs(_live_page(context), calls, source_path=source_path, timeout=timeout)
    except DriverError:
        log.debug("%s retried after a page step failed", calls[0][0], exc_info=True)
        return await call_rpcs(_live_page(context), calls, source_path=source_path, timeout=timeout)


def _live_page(context: PageHolder | None) -> Page:
    pages = [page for page in (context.pages if context is not None else []) if not page.is_closed()]
    if not pages:
        raise TargetClosed("the account has no open page to ask from")
    return pages[0]
