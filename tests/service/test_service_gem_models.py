"""Gems as models: ``gem-<slug>`` and the configured aliases, offered and routed only by the accounts
that have the Gem (service.gem_models; docs/guides/gems.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import httpx

from browser import AccountInfo, Gem
from service.catalog import Catalog
from service.gem_models import GemAliases, GemSettings, gem_routes, slug
from tests.service.conftest import API_KEY, Served
from tests.service.scripted_pool import ScriptedPool, account

AUTH = {"Authorization": f"Bearer {API_KEY}"}
STORYBOOK = Gem("storybook", "Storybook", "Stories.", "You write stories.", premade=True)


def _with_gems(account_id: str, *gems: Gem) -> AccountInfo:
    return replace(account(account_id), gems=(*gems, STORYBOOK))


def _custom(gem_id: str, name: str) -> Gem:
    return Gem(gem_id, name, f"about {name}", f"You are {name}.", premade=False)


def test_slugs_are_unique_per_account_and_premade_gems_need_an_alias() -> None:
    assert slug("  Pirate Captain!  ") == "pirate-captain"
    info = _with_gems("a", _custom("aa11", "Pirate"), _custom("bb22", "pirate"), _custom("cc33", "!!!"))
    assert Catalog().account_gems(info) == {"gem-pirate": "aa11", "gem-pirate-2": "bb22", "gem-cc33": "cc33"}
    aliases = GemAliases.from_settings(
        GemSettings(aliases={"Stories": "storybook", "captain": "PIRATE", "nobody": "Nobody"})
    )
    catalog = Catalog(aliases)
    models = catalog.account_gems(info)
    assert models["stories"] == "storybook" and models["captain"] == "aa11" and "nobody" not in models
    captain = catalog.find("Captain")
    assert captain is not None and captain.gem_model and captain.gem_target == "PIRATE"
    assert gem_routes(captain.name, captain.gem_target, [info]) == {"a": "aa11"}
    assert [spec.name for spec in catalog.gem_specs([info])] == [
        "captain",
        "gem-cc33",
        "gem-pirate",
        "gem-pirate-2",
        "stories",
    ]
    # An alias that is a catalog model's name is never a Gem model: not listed, not found as one.
    shadowed = Catalog(GemAliases.from_settings(GemSettings(aliases={"gemini-2.5-pro": "Pirate"})))
    assert "gemini-2.5-pro" not in [spec.name for spec in shadowed.gem_specs([info])]
    assert shadowed.find("gemini-2.5-pro").gem_model is False  # type: ignore[union-attr]
    # The catalog without the aliases (another app's) knows no such model.
    assert Catalog().find("captain") is None and catalog.find("gemini-2.5-flash").gem_model is False  # type: ignore[union-attr]


def test_gem_models_are_listed_and_routed_to_their_owners(serve_gateway: Callable[..., Served]) -> None:
    owner = _with_gems("owner", _custom("aa11", "Pirate"))
    other = _with_gems("other", _custom("dd44", "Poet"))
    pool = ScriptedPool(account_list=[owner, other, account("plain")])
    served = serve_gateway(pool)
    listing = httpx.get(f"{served.url}/v1/models", headers=AUTH).json()["data"]
    gems = {card["id"]: card for card in listing if card["id"].startswith("gem-")}
    assert sorted(gems) == ["gem-pirate", "gem-poet"] and gems["gem-pirate"]["available"] is True
    assert httpx.get(f"{served.url}/v1/models/gem-pirate", headers=AUTH).status_code == 200

    body = {"model": "gem-pirate", "messages": [{"role": "user", "content": "ahoy"}]}
    answer = httpx.post(f"{served.url}/v1/chat/completions", json=body, headers=AUTH, timeout=15)
    assert answer.status_code == 200 and answer.json()["model"] == "gem-pirate"
    sent = pool.requests[-1]
    assert dict(sent.gem_by_account or {}) == {"owner": "aa11"} and sent.gem is None

    stream = {"model": "gem-poet", "input": "a verse", "stream": True}
    with httpx.stream("POST", f"{served.url}/v1/responses", json=stream, headers=AUTH, timeout=15) as events:
        text = "".join(events.iter_text())
    assert "response.completed" in text and "You said: a verse" in text
    assert dict(pool.requests[-1].gem_by_account or {}) == {"other": "dd44"}


def test_an_absent_gem_model_is_not_found(serve_gateway: Callable[..., Served]) -> None:
    pool = ScriptedPool(account_list=[_with_gems("owner", _custom("aa11", "Pirate"))])
    served = serve_gateway(pool)
    body = {"model": "gem-parrot", "messages": [{"role": "user", "content": "hi"}]}
    answer = httpx.post(f"{served.url}/v1/chat/completions", json=body, headers=AUTH, timeout=15)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "model_not_found"
    assert httpx.get(f"{served.url}/v1/models/gem-parrot", headers=AUTH).status_code == 404
    assert pool.requests == []
    # The Gem is gone from its account (a later listing): its model goes with it.
    pool.account_list[:] = [account("owner")]
    body["model"] = "gem-pirate"
    gone = httpx.post(f"{served.url}/v1/chat/completions", json=body, headers=AUTH, timeout=15)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "model_not_found"


def test_an_alias_from_the_settings_serves_its_gem(serve_gateway: Callable[..., Served]) -> None:
    pool = ScriptedPool(account_list=[_with_gems("owner", _custom("aa11", "Pirate")), account("plain")])
    served = serve_gateway(pool, gems={"aliases": {"captain": "Pirate", "tales": "storybook"}})
    ids = {card["id"] for card in httpx.get(f"{served.url}/v1/models", headers=AUTH).json()["data"]}
    assert {"captain", "tales", "gem-pirate"} <= ids
    body = {"model": "captain", "messages": [{"role": "user", "content": "ahoy"}]}
    answer = httpx.post(f"{served.url}/v1/chat/completions", json=body, headers=AUTH, timeout=15)
    assert answer.status_code == 200
    assert dict(pool.requests[-1].gem_by_account or {}) == {"owner": "aa11"}


def test_two_apps_in_one_process_each_resolve_only_their_own_aliases(
    serve_gateway: Callable[..., Served], tmp_path: Path
) -> None:
    """The aliases belong to the app built with them: a second app started after the first, in the
    same process, neither takes the first's aliases away nor lends it its own."""
    gems = (_custom("aa11", "Pirate"), _custom("dd44", "Poet"))
    first = serve_gateway(
        ScriptedPool(account_list=[_with_gems("owner", *gems)]),
        gems={"aliases": {"captain": "Pirate"}},
        data_dir=tmp_path / "first",
    )
    second = serve_gateway(
        ScriptedPool(account_list=[_with_gems("owner", *gems)]),
        gems={"aliases": {"bard": "Poet"}},
        data_dir=tmp_path / "second",
    )
    for served, own, other, gem_id in (
        (first, "captain", "bard", "aa11"),
        (second, "bard", "captain", "dd44"),
    ):
        ids = {card["id"] for card in httpx.get(f"{served.url}/v1/models", headers=AUTH).json()["data"]}
        assert own in ids and other not in ids
        assert httpx.get(f"{served.url}/v1/models/{own}", headers=AUTH).status_code == 200
        assert httpx.get(f"{served.url}/v1/models/{other}", headers=AUTH).status_code == 404
        body = {"model": own, "messages": [{"role": "user", "content": "hello"}]}
        answer = httpx.post(f"{served.url}/v1/chat/completions", json=body, headers=AUTH, timeout=15)
        assert answer.status_code == 200 and answer.json()["model"] == own
        assert dict(served.pool.requests[-1].gem_by_account or {}) == {"owner": gem_id}
        body["model"] = other
        refused = httpx.post(f"{served.url}/v1/chat/completions", json=body, headers=AUTH, timeout=15)
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "model_not_found"
    assert len(first.pool.requests) == len(second.pool.requests) == 1  # the refusals reached no page
