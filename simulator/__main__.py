"""``python -m simulator [--host] [--port] [--ui]``: serve the simulator with uvicorn."""

from __future__ import annotations

import argparse

import uvicorn

from simulator.app import create_app
from simulator.settings import SimulatorSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--ui", choices=["oct2026", "mid2026", "early2026"], default=None)
    args = parser.parse_args(argv)
    settings = SimulatorSettings() if args.ui is None else SimulatorSettings(ui=args.ui)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
