"""``python -m bench.gateway_server --port N``: the gateway app as deployed (``GatewaySettings()``
from the environment / ``GATEWAY_CONFIG``, the real ``BrowserPool``) under uvicorn on loopback."""

from __future__ import annotations

import argparse

import uvicorn

from service.app import create_app
from service.settings import GatewaySettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.gateway_server", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    # Everything comes from the environment and GATEWAY_CONFIG, as in a deployment; ``**{}`` because
    # mypy (without the pydantic plugin) takes the ``Field(default, ...)`` fields for required ones.
    settings = GatewaySettings(**{})
    uvicorn.run(create_app(settings), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
