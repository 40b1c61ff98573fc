"""The operator's view of replicas on one Redis (issue 20 item 3): the admin API of any replica
lists every account with its owner and every live replica, from the reports each replica writes at
its rounds (``service.cluster.view``, ``service.admin.remote``). Real uvicorn, real Redis; the pools
are the scripted pools of ``test_cluster_replicas``."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
from pydantic import SecretStr
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from service.admin.wire import AccountOut
from service.cluster.replicas import ReplicaRegistry
from service.cluster.view import ClusterView, ReplicaReport
from service.settings import AccountConfig
from tests.service.test_admin_accounts import ADMIN_KEY, admin
from tests.service.test_cluster_replicas import (  # noqa: F401  (fixtures)
    Replica,
    Start,
    client,
    configured,
    replicas,
    until,
)
from tests.service.test_dashboard import signed_in
from tests.support.redis import on_redis

PROXY_PASSWORD = "proxy-pass-word-9"


def rows(replica: Replica) -> dict[str, dict[str, Any]]:
    with admin(replica.url) as api:
        response = api.get("/accounts")
    assert response.status_code == 200, response.text
    return {row["id"]: row for row in response.json()["data"]}


def owners_seen(replica: Replica) -> dict[str, str | None]:
    return {account_id: row["owner"] for account_id, row in rows(replica).items()}


def driven(*replicas_: tuple[str, Replica]) -> dict[str, str | None]:
    """Who drives each account, from the pools themselves."""
    return {account_id: name for name, replica in replicas_ for account_id in replica.pool.ids()}


def with_secrets(n: int) -> list[AccountConfig]:
    return [
        AccountConfig(
            name=f"acc{i}",
            psid=SecretStr(f"paid-psid-{i}"),
            psidts=SecretStr(f"paid-psidts-{i}"),
            proxy=SecretStr(f"http://user:{PROXY_PASSWORD}@proxy.example:8080"),
        )
        for i in range(n)
    ]


def test_each_replica_lists_every_account_with_its_owner_and_every_replica(
    replicas: Start,  # noqa: F811
    client: redis.Redis,  # noqa: F811
) -> None:
    accounts = with_secrets(4)
    names = {config.name for config in accounts}
    a = replicas("a", accounts)
    b = replicas("b", accounts)
    until(lambda: len(a.pool.ids()) == len(b.pool.ids()) == 2, "the replicas share the accounts")
    truth = driven(("a", a), ("b", b))
    assert set(truth) == names
    # Each replica shows all four: its own live, the other's from the other's last report.
    until(lambda: owners_seen(a) == truth, "A lists every account with its owner")
    until(lambda: owners_seen(b) == truth, "B lists every account with its owner")
    on_a = rows(a)
    for account_id, row in on_a.items():
        if truth[account_id] == "a":
            assert row["reported_at"] is None  # live here
        else:
            assert row["reported_at"] is not None and row["state"] == "ready" and row["source"] == "config"
    remote = next(account_id for account_id, owner in truth.items() if owner == "b")
    with admin(a.url) as api:
        one = api.get(f"/accounts/{remote}")
        assert one.status_code == 200 and one.json()["owner"] == "b" and one.json()["reported_at"] is not None
        assert api.get("/accounts/nobody").status_code == 404
        listed = api.get("/replicas")
    assert listed.status_code == 200, listed.text
    seen = {row["id"]: row for row in listed.json()["data"]}
    assert set(seen) == {"a", "b"}
    assert seen["a"]["self"] is True and seen["b"]["self"] is False
    assert set(seen["a"]["accounts"]) == a.pool.ids() and set(seen["b"]["accounts"]) == b.pool.ids()
    assert all(
        row["heartbeat_age_seconds"] is not None and row["heartbeat_age_seconds"] >= 0
        for row in seen.values()
    )

    # The raw report in Redis: public fields only, no cookie and no proxy credentials.
    raw = client.get("gateway:cluster:view:b")
    assert raw is not None
    for secret in ("paid-psid", PROXY_PASSWORD, "user:"):
        assert secret not in raw
    report = json.loads(raw)
    assert {account["id"] for account in report["accounts"]} == b.pool.ids()
    assert all(set(account) <= set(AccountOut.model_fields) for account in report["accounts"])
    assert 0 < client.pttl("gateway:cluster:view:b") <= 3000  # tied to the lease ttl (3 s here)

    # B stops: it leaves the view at once, and A's list shows every account under A once adopted.
    b.stop()
    assert not client.exists("gateway:cluster:view:b")
    until(lambda: set(owners_seen(a).values()) == {"a"} and set(owners_seen(a)) == names, "A adopts all")
    with admin(a.url) as api:
        assert [row["id"] for row in api.get("/replicas").json()["data"]] == ["a"]
    assert all(row["reported_at"] is None for row in rows(a).values())


def test_an_action_on_another_replicas_account_is_refused_naming_the_owner(
    replicas: Start,  # noqa: F811
) -> None:
    a = replicas("a", configured(2))
    b = replicas("b", configured(2))
    until(lambda: len(a.pool.ids()) == len(b.pool.ids()) == 1, "one account each")
    (theirs,) = b.pool.ids()
    until(lambda: theirs in rows(a), "A lists B's account")
    with admin(a.url) as api:
        for method, path in (
            ("POST", f"/accounts/{theirs}/pause"),
            ("POST", f"/accounts/{theirs}/check"),
            ("POST", f"/accounts/{theirs}/resume"),
            ("POST", f"/accounts/{theirs}/gems"),
            ("GET", f"/accounts/{theirs}/screenshot"),
            ("DELETE", f"/accounts/{theirs}"),  # a configured account: not in the shared registry
        ):
            refused = api.request(method, path)
            assert refused.status_code == 409, (method, path, refused.text)
            error = refused.json()["error"]
            assert error["code"] == "conflict" and "'b'" in error["message"], error
        assert api.post("/accounts/nobody/pause").status_code == 404  # unknown: still a 404
    # The live sign-in view of its page: the socket closes as busy, naming the owner.
    with (
        ws_connect(
            a.url.replace("http", "ws", 1) + f"/admin/accounts/{theirs}/live",
            additional_headers={"Authorization": f"Bearer {ADMIN_KEY}"},
            open_timeout=15,
        ) as socket,
        pytest.raises(ConnectionClosed) as closed,
    ):
        socket.recv(timeout=15)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4409
    assert "'b'" in closed.value.rcvd.reason
    assert (
        theirs in b.pool.ids() and not next(info for info in b.pool.account_list if info.id == theirs).paused
    )  # nothing happened on B
    with admin(b.url) as api:  # on its owner, the same action works
        assert api.post(f"/accounts/{theirs}/pause").json()["paused"] is True


def test_an_account_no_replica_drives_is_listed_unowned(
    replicas: Start,  # noqa: F811
    redis_url: str,
) -> None:
    # A ghost replica counts as live but never takes anything: A's fair share is one of two.
    on_redis(redis_url, lambda shared: ReplicaRegistry(shared, "ghost", ttl=120.0).beat())
    a = replicas("a", configured(2))
    (mine,) = a.pool.ids()
    (other,) = {"acc0", "acc1"} - {mine}
    listed = rows(a)
    assert listed[mine]["owner"] == "a"
    assert listed[other]["owner"] is None and listed[other]["state"] == "unowned"
    with admin(a.url) as api:
        refused = api.post(f"/accounts/{other}/pause")
        assert refused.status_code == 409 and "No replica drives" in refused.json()["error"]["message"]
        seen = {row["id"]: row for row in api.get("/replicas").json()["data"]}
    assert set(seen) == {"a", "ghost"}
    assert seen["ghost"]["accounts"] == [] and seen["ghost"]["reported_at"] is None
    on_redis(redis_url, lambda shared: ReplicaRegistry(shared, "ghost", ttl=120.0).leave())
    until(lambda: set(owners_seen(a).values()) == {"a"}, "A adopts the unowned account once alone")


def _row(page: str, account_id: str) -> str:
    found = re.search(rf'<tr data-account="{account_id}">(.*?)</tr>', page, re.S)
    assert found is not None, f"no row for {account_id}"
    return found.group(1)


def test_the_dashboard_shows_the_replicas_and_the_other_replicas_accounts(
    replicas: Start,  # noqa: F811
) -> None:
    a = replicas("a", configured(2))
    b = replicas("b", configured(2))
    until(lambda: len(a.pool.ids()) == len(b.pool.ids()) == 1, "one account each")
    (mine,), (theirs,) = a.pool.ids(), b.pool.ids()
    until(lambda: rows(a).get(theirs, {}).get("owner") == "b", "A lists B's account")
    with signed_in(a.url) as ui:
        page = ui.get("").text
        refused = ui.post(f"/accounts/{theirs}/pause")
        shot = ui.get(f"/accounts/{theirs}/screenshot.png")
    replicas_table = re.search(r'<table class="cards" id="replicas">(.*?)</table>', page, re.S)
    assert replicas_table is not None
    assert '<tr data-replica="a">' in replicas_table.group(
        1
    ) and '<tr data-replica="b">' in replicas_table.group(1)
    assert "on replica <code>a</code>" in _row(page, mine) and 'class="shot"' in _row(page, mine)
    other = _row(page, theirs)
    assert "on replica <code>b</code>, as reported" in other
    assert 'class="shot"' not in other and "/pause" not in other  # its page and actions are on B
    assert refused.status_code == 409 and "replica &#39;b&#39;" in refused.text
    assert shot.status_code == 409
    assert not any(info.paused for info in b.pool.account_list)


async def test_a_report_is_written_only_while_its_replica_beats(async_redis: aioredis.Redis) -> None:
    # A round still writing while its replica leaves must not outlast the withdrawal.
    beats = ReplicaRegistry(async_redis, "late", ttl=30.0)
    view = ClusterView(async_redis, "late", ttl=30.0)
    report = ReplicaReport(replica="late", started_at=1.0, reported_at=2.0, held=["acc0"])
    assert await view.publish(report) is False and not await async_redis.exists("gateway:cluster:view:late")
    await beats.beat()
    assert await view.publish(report) is True
    (seen,) = await view.live()
    assert seen.replica == "late" and seen.report == report and seen.heartbeat_age is not None
    await beats.leave()
    await view.withdraw()
    assert await view.publish(report) is False and not await async_redis.exists("gateway:cluster:view:late")
    assert await view.live() == []
