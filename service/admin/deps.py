"""How the admin routes (``service.admin.router``, ``service.admin.ui``) and ``/metrics`` reach the
running ``Operations``: ``OpsDep`` (any caller; the route checks what it needs) and ``AdminDep``
(the admin key or a dashboard session checked first)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.admin.auth import check_admin
from service.admin.operations import Operations
from service.catalog import Catalog
from service.state import GatewayDep

__all__ = ["AdminDep", "CatalogDep", "OpsDep", "get_ops"]


def get_ops(gateway: GatewayDep) -> Operations:
    return gateway.ops


OpsDep = Annotated[Operations, Depends(get_ops)]


def get_catalog(gateway: GatewayDep) -> Catalog:
    return gateway.catalog


CatalogDep = Annotated[Catalog, Depends(get_catalog)]  # the app's models: its Gem aliases


def require_admin(request: Request, ops: OpsDep) -> Operations:
    check_admin(request, ops.settings.admin_keys, ops.sessions)
    return ops


AdminDep = Annotated[Operations, Depends(require_admin)]
