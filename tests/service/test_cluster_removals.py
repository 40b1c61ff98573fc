"""A configured account removed through the admin API of a replica on one Redis stays removed
(``service.cluster.removals``): no other replica adopts it at its next rounds, nor a replica
started again with the same configuration; it comes back when added again through the admin API,
or when its configuration changes. Real uvicorn, real Redis, the scripted pools of
``test_cluster_replicas`` (which also fail a test if two replicas ever drove one account)."""

from __future__ import annotations

import json

import redis
from pydantic import SecretStr

from service.settings import AccountConfig
from tests.service.test_admin_accounts import admin
from tests.service.test_cluster_replicas import (  # noqa: F401  (fixtures)
    Replica,
    Start,
    client,
    configured,
    replicas,
    until,
)

ROUNDS = 4  # rounds of every replica awaited where an account must not come back


def rounds_pass(client: redis.Redis, *names: str, rounds: int = ROUNDS) -> None:  # noqa: F811
    """Wait until each replica named has published ``rounds`` more reports (one per round)."""
    seen: dict[str, set[float]] = {name: set() for name in names}

    def counted() -> bool:
        for name in names:
            raw = client.get(f"gateway:cluster:view:{name}")
            if raw is not None:
                seen[name].add(float(json.loads(raw)["reported_at"]))
        return all(len(times) > rounds for times in seen.values())

    until(counted, f"{rounds} rounds of {', '.join(names)}")


def listed(replica: Replica) -> set[str]:
    with admin(replica.url) as api:
        response = api.get("/accounts")
    assert response.status_code == 200, response.text
    return {row["id"] for row in response.json()["data"]}


def test_a_removed_configured_account_stays_removed_until_added_again(
    replicas: Start,  # noqa: F811
    client: redis.Redis,  # noqa: F811
) -> None:
    accounts = configured(2)
    a = replicas("a", accounts)
    b = replicas("b", accounts)
    until(lambda: len(a.pool.ids()) == len(b.pool.ids()) == 1, "one account each")
    (gone,) = b.pool.ids()
    (kept,) = a.pool.ids()
    with admin(b.url) as api:
        assert api.delete(f"/accounts/{gone}").status_code == 200
    assert (gone, True) in b.pool.removed  # its owner stopped it and forgot its cookies
    assert client.hget("gateway:accounts:removed", gone) is not None  # the tombstone

    # Rounds pass: A (room for it: the share of two accounts on two replicas is one... now of one
    # account, still one) and B (nothing held, room for one) both leave it alone.
    rounds_pass(client, "a", "b")
    assert a.pool.ids() == {kept} and b.pool.ids() == set()
    assert client.hget(f"gateway:cluster:lease:{gone}", "owner") is None
    assert listed(a) == listed(b) == {kept}

    # Both replicas restart with the same configuration: still removed.
    b.stop()
    a.stop()
    a = replicas("a", accounts)
    b = replicas("b", accounts)
    rounds_pass(client, "a", "b")
    assert a.pool.ids() | b.pool.ids() == {kept}
    assert listed(a) == {kept}

    # Added again through the admin API (on either replica): it is back, and stays.
    with admin(a.url) as api:
        again = api.post("/accounts", json={"name": gone, "psid": "paid-psid-again"})
        assert again.status_code == 201, again.text
    assert client.hget("gateway:accounts:removed", gone) is None
    # A holds both at first; the rounds balance them out (a hand-over takes a page load).
    until(
        lambda: a.pool.ids() | b.pool.ids() == {gone, kept} and len(a.pool.ids()) == len(b.pool.ids()) == 1,
        "the account added again is driven, one account each",
    )
    assert listed(a) == listed(b) == {gone, kept}


def test_a_removed_configured_account_comes_back_when_its_configuration_changes(
    replicas: Start,  # noqa: F811
    client: redis.Redis,  # noqa: F811
) -> None:
    accounts = configured(1)
    a = replicas("a", accounts)
    assert a.pool.ids() == {"acc0"}
    with admin(a.url) as api:
        assert api.delete("/accounts/acc0").status_code == 200
    rounds_pass(client, "a")
    assert a.pool.ids() == set()
    a.stop()
    # The same configuration: still removed. Other cookies for it: the operator brought it back.
    a = replicas("a", accounts)
    rounds_pass(client, "a")
    assert a.pool.ids() == set()
    a.stop()
    a = replicas("a", [AccountConfig(name="acc0", psid=SecretStr("paid-psid-renewed"))])
    assert a.pool.ids() == {"acc0"}
