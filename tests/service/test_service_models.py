"""GET /v1/models names the page models the current accounts would serve each model with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx

from browser import AccountState, ModeFamily, PageModel, Tool
from service.catalog import CATALOG
from tests.service.conftest import API_KEY, Served
from tests.service.scripted_pool import ScriptedPool, account

FLASH, LITE, PRO = "56fdd199312815e2", "8c46e95b1a07cecc", "e6fa609c3fa255c0"
FREE_FLASH, FREE_THINKING = "fbb127bbb056c959", "5bf011840784117a"
OCT_PAID = (
    PageModel(LITE, "3.5 Flash-Lite", None),
    PageModel(FLASH, "3.8 Flash", ModeFamily.FLASH),
    PageModel(PRO, "3.1 Pro", ModeFamily.PRO),
)
# An early-2026 free account: Fast and its Thinking model (a Flash that thinks), no Pro here.
EARLY_FREE = (
    PageModel(FREE_FLASH, "Fast", ModeFamily.FLASH),
    PageModel(FREE_THINKING, "Thinking", ModeFamily.FLASH, thinks=True),
)


def cards(served: Served) -> dict[str, dict[str, Any]]:
    response = httpx.get(f"{served.url}/v1/models", headers={"Authorization": f"Bearer {API_KEY}"})
    response.raise_for_status()
    return {card["id"]: card for card in response.json()["data"]}


def test_upstream_models_come_from_the_fitting_accounts_models(serve_gateway: Callable[..., Served]) -> None:
    paid = replace(account("paid"), models=OCT_PAID)
    free = replace(
        account("free", tier="free", modes=frozenset({ModeFamily.FLASH}), tools=frozenset()),
        models=EARLY_FREE,
    )
    # Out of rotation: its models must not be named, though it offers another Pro.
    gone = replace(
        account("gone", state=AccountState.SIGNED_OUT), models=(PageModel("ffff", "9 Pro", ModeFamily.PRO),)
    )
    served = serve_gateway(ScriptedPool(account_list=[paid, free, gone]))
    listing = cards(served)
    assert listing["gemini-2.5-pro"]["upstream_models"] == [{"id": PRO, "label": "3.1 Pro"}]
    # No tier rule: what a page offers decides, so the free account's Flashes serve Flash models too,
    # its Thinking model among them (the Flash that thinks, for reasoning_effort).
    flashes = [
        {"id": FLASH, "label": "3.8 Flash"},
        {"id": FREE_FLASH, "label": "Fast"},
        {"id": FREE_THINKING, "label": "Thinking"},
    ]
    assert listing["gemini-2.5-flash"]["upstream_models"] == flashes
    assert listing["gemini-2.5-flash-free"]["upstream_models"] == flashes
    # Every Pro-family model names the paid account's Pro, whether chat serves it yet or not;
    # ``available`` keeps its meaning (served through chat, and some account fits).
    for spec in CATALOG:
        if spec.family.value == "pro":
            card = listing[spec.name]
            assert card["upstream_models"] == [{"id": PRO, "label": "3.1 Pro"}], spec.name
            assert card["available"] is spec.chat_ready, spec.name
    assert all(m["label"] != "3.5 Flash-Lite" for card in listing.values() for m in card["upstream_models"])
    available = {name for name, card in listing.items() if card["available"]}
    assert {"gemini-2.5-flash-free", "gemini-2.5-flash", "gemini-2.5-pro"} <= available


def test_no_account_no_upstream_and_menu_read_models_have_no_id(serve_gateway: Callable[..., Served]) -> None:
    pool = ScriptedPool(account_list=[])
    served = serve_gateway(pool)
    assert all(card["upstream_models"] == [] and not card["available"] for card in cards(served).values())
    # Read from the page's menus only: the label is known, the hex is not (sent as null).
    menus = replace(
        account("menus", tools=frozenset({Tool.IMAGE})),
        models=(PageModel(None, "Pro", ModeFamily.PRO), PageModel(None, "Fast", ModeFamily.FLASH)),
    )
    pool.account_list[:] = [menus]
    one = httpx.get(f"{served.url}/v1/models/gemini-2.5-pro", headers={"Authorization": f"Bearer {API_KEY}"})
    assert one.json()["upstream_models"] == [{"id": None, "label": "Pro"}]
    assert one.json()["available"] is True
