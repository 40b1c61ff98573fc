"""The gateway talks to Redis through redis-py's asyncio client (``redis.asyncio``): ``service/``
imports ``redis`` only as ``redis.asyncio`` and ``redis.exceptions``, never the blocking client,
except in the stores not converted yet (``STILL_BLOCKING``: their callers run them in worker
threads). The list only shrinks: an entry whose file no longer needs the blocking client fails."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {"redis.asyncio", "redis.exceptions"}
# The stores behind the interfaces still synchronous (``service.stores.interfaces``), and what
# opens their blocking client. Every other module is on the asyncio client.
STILL_BLOCKING = {
    "service/stores/backends.py",
    "service/stores/migrate.py",
    "service/stores/redis_base.py",
    "service/stores/redis_conversations.py",
    "service/stores/redis_jobs.py",
    "service/stores/redis_responses.py",
    "service/stores/redis_runs.py",
}


def _redis_imports(path: Path) -> list[str]:
    """The ``redis`` modules a file imports that are not the asyncio client or its exceptions."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module] if node.module != "redis" else [f"redis.{a.name}" for a in node.names]
        else:
            continue
        found.extend(
            module
            for module in modules
            if (module == "redis" or module.startswith("redis."))
            and not any(module == allowed or module.startswith(allowed + ".") for allowed in ALLOWED)
        )
    return found


def _blocking_users() -> dict[str, list[str]]:
    users = {}
    for path in sorted((ROOT / "service").rglob("*.py")):
        found = _redis_imports(path)
        if found:
            users[str(path.relative_to(ROOT))] = found
    return users


def test_service_uses_the_asyncio_client_only() -> None:
    offenders = {path: found for path, found in _blocking_users().items() if path not in STILL_BLOCKING}
    assert offenders == {}


def test_the_list_of_blocking_stores_only_shrinks() -> None:
    assert sorted(STILL_BLOCKING - _blocking_users().keys()) == []


def test_the_check_sees_every_way_to_import_the_blocking_client(tmp_path: Path) -> None:
    source = tmp_path / "example.py"
    source.write_text(
        "import redis\nimport redis.client\nfrom redis import Redis\nfrom redis.client import Pipeline\n"
        "import redis.asyncio as aioredis\nfrom redis.exceptions import RedisError\n"
        "from redis import asyncio\n",
        encoding="utf-8",
    )
    assert _redis_imports(source) == ["redis", "redis.client", "redis.Redis", "redis.client"]
