"""HTTP routes listing the catalog, each model marked with whether the current accounts can serve
it (``available``, an extra field beside OpenAI's ``id``/``object``/``created``/``owned_by``)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.catalog import CATALOG, ModelSpec, can_serve, find_model
from service.errors import ModelNotFound
from service.state import CallerDep, GatewayDep
from service.wire import ResponseModel

__all__ = ["ModelCard", "ModelList", "router"]

router = APIRouter()

# A fixed creation time: the catalog is data, not something created at runtime.
CATALOG_CREATED = 1735689600


class ModelCard(ResponseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = CATALOG_CREATED
    owned_by: str = "google"
    available: bool
    family: str
    output: str
    image_input: bool


class ModelList(ResponseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


def _card(spec: ModelSpec, gateway: GatewayDep) -> ModelCard:
    available = spec.chat_ready and can_serve(spec, gateway.backend.accounts())
    return ModelCard(
        id=spec.name,
        available=available,
        family=spec.family.value,
        output=spec.output.value,
        image_input=spec.image_input,
    )


@router.get("/models", response_model=None)
async def list_models(gateway: GatewayDep, caller: CallerDep) -> JSONResponse:
    listing = ModelList(data=[_card(spec, gateway) for spec in CATALOG])
    return JSONResponse(listing.dump())


@router.get("/models/{model_id}", response_model=None)
async def get_model(model_id: str, gateway: GatewayDep, caller: CallerDep) -> JSONResponse:
    spec = find_model(model_id)
    if spec is None:
        raise ModelNotFound(model_id)
    return JSONResponse(_card(spec, gateway).dump())
