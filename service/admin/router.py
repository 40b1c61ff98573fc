"""The admin API (JSON, under ``/admin`` and ``/gemini_official/admin``) and ``/metrics``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from browser import CookieFormatError
from service.admin.accounts import refuse_remote_profile
from service.admin.auth import check_admin
from service.admin.cookies import spec_from_input
from service.admin.deps import AdminDep, CatalogDep, OpsDep
from service.admin.live import router as live_router
from service.admin.operations import Operations
from service.admin.remote import all_accounts, one_account, refuse_remote, replicas_out
from service.admin.wire import (
    AccountIn,
    AccountOut,
    KeyCreated,
    KeyIn,
    KeyOut,
    KeyScopes,
    ReplicaOut,
    account_out,
    key_out,
)
from service.catalog import Catalog
from service.errors import InvalidRequest, NotFound
from service.metrics import CONTENT_TYPE

__all__ = ["metrics_router", "router"]

router = APIRouter()
router.include_router(live_router)  # WS /accounts/{id}/live: an operator signs an account in
metrics_router = APIRouter()


def _reveal(value: object) -> str | None:
    secret = getattr(value, "get_secret_value", None)
    return str(secret()) if secret is not None else None


async def _one(ops: Operations, catalog: Catalog, account_id: str) -> AccountOut:
    """The account as this replica drives it, or as its owner last reported it (replicas)."""
    return await one_account(ops.accounts, catalog, account_id)


@router.get("/accounts")
async def list_accounts(ops: AdminDep, catalog: CatalogDep) -> dict[str, list[AccountOut]]:
    return {"data": await all_accounts(ops.accounts, catalog)}


@router.get("/replicas")
async def list_replicas(ops: AdminDep) -> dict[str, list[ReplicaOut]]:
    """Every live replica on the shared Redis (an empty list with a single gateway)."""
    return {"data": await replicas_out(ops.accounts)}


@router.post("/accounts", status_code=201)
async def add_account(body: AccountIn, ops: AdminDep, catalog: CatalogDep) -> AccountOut:
    try:
        spec = spec_from_input(
            name=body.name,
            psid=_reveal(body.psid),
            psidts=_reveal(body.psidts),
            cookie_string=_reveal(body.cookie_string),
            cookie_file=_reveal(body.cookie_file),
            cookie_file_format=body.cookie_file_format,
            cookie_file_encoding=body.cookie_file_encoding,
            proxy=_reveal(body.proxy),
            signin_method=body.signin_method,
        )
    except CookieFormatError as exc:
        raise InvalidRequest(f"The cookies cannot be read: {exc}", param="cookies") from None
    refuse_remote_profile(spec, ops.settings.pool_settings().launch_mode)
    info = await ops.accounts.add(spec)
    return account_out(info, added=True, catalog=catalog, owner=ops.accounts.owner(info.id))


@router.get("/accounts/{account_id}")
async def get_account(account_id: str, ops: AdminDep, catalog: CatalogDep) -> AccountOut:
    return await _one(ops, catalog, account_id)


@router.post("/accounts/{account_id}/check")
async def check_account(account_id: str, ops: AdminDep, catalog: CatalogDep) -> AccountOut:
    # Another replica's account: a 409 naming its owner (its page is there), here and below.
    await refuse_remote(ops.accounts, account_id)
    await ops.accounts.backend.check_account(account_id)
    return await _one(ops, catalog, account_id)


@router.post("/accounts/{account_id}/gems")
async def refresh_account_gems(account_id: str, ops: AdminDep, catalog: CatalogDep) -> AccountOut:
    """List the account's Gems again now (a Gem just made on gemini.google.com), without waiting
    for ``browser.gems_interval``; the account's page stays as it is."""
    await refuse_remote(ops.accounts, account_id)
    await ops.accounts.backend.refresh_gems(account_id)
    return await _one(ops, catalog, account_id)


@router.post("/accounts/{account_id}/pause")
async def pause_account(account_id: str, ops: AdminDep, catalog: CatalogDep) -> AccountOut:
    await refuse_remote(ops.accounts, account_id)
    await ops.accounts.backend.pause_account(account_id)
    return await _one(ops, catalog, account_id)


@router.post("/accounts/{account_id}/resume")
async def resume_account(account_id: str, ops: AdminDep, catalog: CatalogDep) -> AccountOut:
    await refuse_remote(ops.accounts, account_id)
    await ops.accounts.backend.resume_account(account_id)
    return await _one(ops, catalog, account_id)


@router.delete("/accounts/{account_id}")
async def remove_account(account_id: str, ops: AdminDep) -> dict[str, object]:
    if account_id not in await ops.accounts.added_ids():  # an added one goes through the shared registry
        await refuse_remote(ops.accounts, account_id)
    await ops.accounts.remove(account_id)
    return {"id": account_id, "removed": True}


@router.get("/accounts/{account_id}/screenshot")
async def account_screenshot(account_id: str, ops: AdminDep) -> Response:
    await refuse_remote(ops.accounts, account_id)
    png = await ops.accounts.backend.screenshot(account_id)
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


async def _key_out(ops: Operations, key_id: str) -> KeyOut:
    record = await ops.keys.get(key_id)
    if record is None:
        raise NotFound(f"No key {key_id!r}.")
    return key_out(record, now=ops.now(), active=await ops.keys.active(key_id))


@router.get("/keys")
async def list_keys(ops: AdminDep) -> dict[str, list[KeyOut]]:
    now = ops.now()
    return {"data": [key_out(r, now=now, active=await ops.keys.active(r.id)) for r in await ops.keys.list()]}


@router.post("/keys", status_code=201)
async def create_key(body: KeyIn, ops: AdminDep) -> KeyCreated:
    created = await ops.keys.create(
        body.name,
        expires_at=ops.now() + body.expires_in if body.expires_in is not None else None,
        max_concurrent=body.max_concurrent,
        per_minute=body.per_minute,
        accounts=tuple(body.accounts) if body.accounts is not None else None,
        scopes=body.scopes,
    )
    shown = key_out(created.record, now=ops.now(), active=0)
    return KeyCreated(**shown.model_dump(), key=created.key)


@router.get("/keys/{key_id}")
async def get_key(key_id: str, ops: AdminDep) -> KeyOut:
    return await _key_out(ops, key_id)


@router.patch("/keys/{key_id}")
async def set_key_scopes(key_id: str, body: KeyScopes, ops: AdminDep) -> KeyOut:
    if await ops.keys.set_scopes(key_id, body.scopes) is None:
        raise NotFound(f"No key {key_id!r}.")
    return await _key_out(ops, key_id)


@router.delete("/keys/{key_id}")
async def revoke_key(key_id: str, ops: AdminDep) -> KeyOut:
    if await ops.keys.revoke(key_id) is None:
        raise NotFound(f"No key {key_id!r}.")
    return await _key_out(ops, key_id)


@metrics_router.get("/metrics")
async def metrics(request: Request, ops: OpsDep) -> Response:
    if not ops.settings.metrics_open:
        check_admin(request, ops.settings.admin_keys, ops.sessions)
    return Response(ops.metrics.render(), media_type=CONTENT_TYPE)


@router.get("/", include_in_schema=False)
async def index(ops: AdminDep) -> JSONResponse:
    return JSONResponse({"accounts": len(ops.accounts.list()), "keys": len(await ops.keys.list())})
