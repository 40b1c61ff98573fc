"""The app factory: the lifespan owns the pool (entered and exited with the server), builds every
service once and shares them as one typed ``Gateway``; the catalog names each model's serving."""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import Request

from service.app import create_app
from service.auth import CALLER_KEY
from service.backend import Backend
from service.catalog import CATALOG, ModelSpec, OutputKind
from service.chat.servings import ChatServings
from service.errors import ModelNotFound
from service.pool_adapter import BrowserBackend
from service.request_ids import REQUEST_ID_KEY
from service.settings import GatewaySettings
from service.state import STATE_KEY, Gateway, GatewayDep
from tests.service.conftest import API_KEY, settings_for
from tests.service.scripted_pool import ScriptedPool
from tests.support.servers import serve


def test_lifespan_enters_and_exits_the_pool(tmp_path: Path) -> None:
    events: list[str] = []

    @asynccontextmanager
    async def factory(settings: GatewaySettings) -> AsyncIterator[Backend]:
        events.append("enter")
        try:
            yield BrowserBackend(ScriptedPool())
        finally:
            events.append("exit")

    settings = settings_for(tmp_path)
    with serve(create_app(settings, pool_factory=factory)) as url:
        assert events == ["enter"]
        response = httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {API_KEY}"})
        assert response.status_code == 200
    assert events == ["enter", "exit"]
    assert settings.conversations_path.exists()


def test_the_lifespan_shares_one_typed_gateway(tmp_path: Path) -> None:
    """One object in the request state, built once: the same services answer every request."""
    seen: list[tuple[list[str], Gateway]] = []

    @asynccontextmanager
    async def factory(settings: GatewaySettings) -> AsyncIterator[Backend]:
        yield BrowserBackend(ScriptedPool())

    app = create_app(settings_for(tmp_path), pool_factory=factory)

    @app.get("/_state")
    async def state(request: Request, gateway: GatewayDep) -> dict[str, bool]:
        seen.append((sorted(request.scope["state"]), gateway))
        return {}

    with serve(app) as url:
        for _ in range(2):
            assert (
                httpx.get(f"{url}/_state", headers={"Authorization": f"Bearer {API_KEY}"}).status_code == 200
            )
    (keys, first), (_, second) = seen
    # The gateway, the caller the key gate found and the request's id (RequestIds: read there by work
    # done for the request in a task of its own, an MCP tool's).
    assert keys == sorted([STATE_KEY, CALLER_KEY, REQUEST_ID_KEY])
    assert isinstance(first, Gateway) and first is second and first.chats is second.chats


@pytest.mark.parametrize("spec", CATALOG, ids=lambda spec: spec.name)
def test_every_model_has_the_serving_of_its_output(spec: ModelSpec) -> None:
    kinds = ChatServings(**{name: _Named(name) for name in SERVING_OF.values()})  # type: ignore[arg-type]
    serving = kinds.for_model(spec.name)
    assert isinstance(serving, _Named) and serving.name == SERVING_OF[spec.output]


def test_an_unknown_model_has_no_serving() -> None:
    kinds = ChatServings(**{name: _Named(name) for name in SERVING_OF.values()})  # type: ignore[arg-type]
    with pytest.raises(ModelNotFound):
        kinds.for_model("gpt-4o")


SERVING_OF = {
    OutputKind.TEXT: "chat",
    OutputKind.IMAGES: "imagen",
    OutputKind.DOCUMENT: "canvas",
    OutputKind.STORY: "storybook",
    OutputKind.VIDEO: "video",
    OutputKind.REPORT: "deep_research",
    OutputKind.MUSIC: "music",
}


@dataclass(frozen=True)
class _Named:
    name: str


def test_routers_build_no_service_per_request() -> None:
    """Routes do HTTP only: the servings are built once, in the lifespan (``service.app``)."""
    root = Path(__file__).resolve().parents[2] / "service"
    built_once = {
        node.name
        for path in root.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef) and node.name.endswith(("Service", "Chat", "Backend", "Jobs"))
    }
    offenders = [
        f"{path.relative_to(root.parent)}: {node.func.id}(...)"
        for path in [*root.rglob("router.py"), root / "admin" / "ui.py", root / "health.py"]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in built_once
    ]
    assert offenders == []
