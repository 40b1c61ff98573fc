"""``create_app``: the FastAPI application standing in for gemini.google.com (docs/simulator-contract.md)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from simulator.page import STATIC_DIR
from simulator.routes import (
    account,
    batchexecute,
    control,
    generate,
    media,
    pages,
    signin,
    signin_control,
    uploads,
)
from simulator.settings import SimulatorSettings
from simulator.state import SimState


def create_app(settings: SimulatorSettings | None = None) -> FastAPI:
    app = FastAPI(title="Gemini simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sim = SimState(settings or SimulatorSettings())
    for module in (pages, generate, batchexecute, uploads, account, signin, media, control, signin_control):
        app.include_router(module.router)
    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
