"""HTTP routes listing the catalog, each model marked with whether the current accounts can serve
it (``available``, an extra field beside OpenAI's ``id``/``object``/``created``/``owned_by``) and
which of the accounts' own page models would serve it (``upstream_models``: the hex and picker
label each account's page offers for the model's family, as its account-status answer lists them).
A key with scopes sees only the models its scopes allow (``service.key_scopes``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from browser import AccountInfo
from service.catalog import CATALOG, ModelSpec, fitting_accounts, offers_gem
from service.errors import ModelNotFound
from service.key_scopes import allows, check_model
from service.state import CallerDep, GatewayDep
from service.wire import ResponseModel

__all__ = ["ModelCard", "ModelList", "UpstreamModel", "router"]

router = APIRouter()

# A fixed creation time: the catalog is data, not something created at runtime.
CATALOG_CREATED = 1735689600


class UpstreamModel(ResponseModel):
    """A model of the Gemini page: its wire ``id`` (16 hex digits; null when only the page's menu
    was read) and its picker ``label``."""

    keep_null: ClassVar[frozenset[str]] = frozenset({"id"})

    id: str | None
    label: str


class ModelCard(ResponseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = CATALOG_CREATED
    owned_by: str = "google"
    available: bool
    family: str
    output: str
    image_input: bool
    upstream_models: list[UpstreamModel]


class ModelList(ResponseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


def _upstream(accounts: Iterable[AccountInfo], family: str) -> list[UpstreamModel]:
    """The page models of ``family`` that the accounts offer, each once, in picker order."""
    seen: dict[tuple[str | None, str], UpstreamModel] = {}
    for account in accounts:
        for model in account.models:
            if model.family == family:
                seen.setdefault((model.hex, model.label), UpstreamModel(id=model.hex, label=model.label))
    return list(seen.values())


def _card(spec: ModelSpec, gateway: GatewayDep) -> ModelCard:
    fitting = fitting_accounts(spec, gateway.backend.accounts())
    return ModelCard(
        id=spec.name,
        available=spec.chat_ready and bool(fitting),
        family=spec.family.value,
        output=spec.output.value,
        image_input=spec.image_input,
        upstream_models=_upstream(fitting, spec.family.value),
    )


def _has_gem(spec: ModelSpec, gateway: GatewayDep) -> bool:
    return any(offers_gem(spec, account) for account in gateway.backend.accounts())


@router.get("/models", response_model=None)
async def list_models(gateway: GatewayDep, caller: CallerDep) -> JSONResponse:
    # The accounts' Gems follow the catalog, as their accounts last listed them.
    gems = gateway.catalog.gem_specs(gateway.backend.accounts())
    cards = [_card(spec, gateway) for spec in (*CATALOG, *gems) if allows(caller.scopes, spec)]
    listing = ModelList(data=cards)
    return JSONResponse(listing.dump())


@router.get("/models/{model_id}", response_model=None)
async def get_model(model_id: str, gateway: GatewayDep, caller: CallerDep) -> JSONResponse:
    spec = gateway.catalog.find(model_id)
    if spec is None or (spec.gem_model and not _has_gem(spec, gateway)):
        raise ModelNotFound(model_id)
    check_model(caller, spec)
    return JSONResponse(_card(spec, gateway).dump())
