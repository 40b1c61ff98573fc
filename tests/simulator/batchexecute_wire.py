"""Test-side batchexecute calls and an independent reading of their answers (protocol.md §4, §8)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from tests.simulator.wire import cookies, split_frames, xsrf_token

BATCH_PATH = "/_/BardChatUi/data/batchexecute"


def batch_form(calls: list[tuple[str, Any]], identifier: str | None = "generic") -> str:
    return json.dumps([[[rpc_id, json.dumps(payload), None, identifier] for rpc_id, payload in calls]])


def batchexecute(
    base: str,
    calls: list[tuple[str, Any]],
    *,
    account: str | None = "paid-alice",
    at: str | None = "auto",
    chunked: bool = True,
    rpcids: str | None = None,
    freq: str | None = None,
    identifier: str | None = "generic",
    source_path: str = "/app",
) -> httpx.Response:
    """POST one batchexecute call the way the page does (``at`` read from the account's page)."""
    ids = rpcids if rpcids is not None else ",".join(dict.fromkeys(rpc_id for rpc_id, _ in calls))
    form = {"f.req": freq if freq is not None else batch_form(calls, identifier)}
    if at == "auto" and account is not None and "-" in account:
        at = xsrf_token(base, account)
    if at not in (None, "auto"):
        form["at"] = at
    query = f"rpcids={ids}&source-path={source_path}&hl=en&_reqid=1{'&rt=c' if chunked else ''}"
    return httpx.post(
        f"{base}{BATCH_PATH}?{query}",
        data=form,
        headers={"x-same-domain": "1"},
        cookies=cookies(account),
        timeout=10,
        follow_redirects=False,
    )


@dataclass(frozen=True)
class Answer:
    rpc_id: str
    payload: Any
    code: int | None
    identifier: str


def answers(body: bytes) -> list[Answer]:
    """The ``wrb.fr`` items of a chunked body, checked by the independent framing checker."""
    return [_answer(item) for frame in split_frames(body) for item in frame if item[0] == "wrb.fr"]


def single_answers(body: bytes) -> list[Answer]:
    text = body.decode("utf-8")
    assert text.startswith(")]}'\n\n") and text.endswith("\n") and text.count("\n") == 3
    items = json.loads(text[len(")]}'\n\n") : -1])
    assert [item[0] for item in items[-2:]] == ["di", "af.httprm"]
    return [_answer(item) for item in items if item[0] == "wrb.fr"]


def _answer(item: list[Any]) -> Answer:
    assert len(item) == 7
    payload = json.loads(item[2]) if isinstance(item[2], str) else None
    code = item[5][0] if item[2] is None else None
    return Answer(item[1], payload, code, item[6])


def one(base: str, rpc_id: str, payload: Any, **kwargs: Any) -> Answer:
    response = batchexecute(base, [(rpc_id, payload)], **kwargs)
    assert response.status_code == 200, response.text
    [answer] = answers(response.content)
    assert answer.rpc_id == rpc_id
    return answer


def rpc_log(base: str) -> list[dict[str, Any]]:
    log: list[dict[str, Any]] = httpx.get(f"{base}/_sim/rpcs", timeout=5).json()
    return log


def image_payload(image_id: str, cid: str, rid: str, rcid: str) -> list[Any]:
    """c8o8Fe's payload (interface I4)."""
    return [
        [[None, None, None, [None, None, None, None, None, ""]], [image_id, 0], None, [19, ""]]
        + [None] * 5
        + [""],
        [rid, rcid, cid, None, ""],
        1,
        0,
        1,
    ]


LIST_ALL = [13, None, [0, None, 1]]
LIST_PINNED = [13, None, [1, None, 1]]


def read_payload(cid: str, limit: int = 10) -> list[Any]:
    return [cid, limit, None, 1, [1], [4], None, 1]
