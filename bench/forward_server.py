"""``python -m bench.forward_server --port N``: one gateway replica for
``bench.forward``, with ``GatewaySettings`` from the environment (``GATEWAY_CONFIG``: the shared Redis,
``cluster.*``) and a scripted pool (``tests.service.scripted_pool``) that answers at once, so that
what is measured is the gateways' own work, not a page's."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn

from service.app import create_app
from service.backend import Backend
from service.pool_adapter import BrowserBackend
from service.settings import GatewaySettings
from tests.service.scripted_pool import ScriptedPool


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.forward_server", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    settings = GatewaySettings(**{})  # the environment's, as ``bench.gateway_server``

    @asynccontextmanager
    async def pool(_settings: GatewaySettings) -> AsyncIterator[Backend]:
        # No account of its own: the replica drives what its share of the configured ones is.
        yield BrowserBackend(ScriptedPool(account_list=[]))  # type: ignore[arg-type]  # the pool API, duck-typed

    uvicorn.run(
        create_app(settings, pool_factory=pool), host="127.0.0.1", port=args.port, log_level="warning"
    )


if __name__ == "__main__":
    main()
