"""``python -m service watermark calibrate`` and ``python -m service watermark remove IN [OUT]``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from browser import BrowserError, BrowserPool
from service.errors import InvalidRequest, ServiceError
from service.logs import configure_logging
from service.settings import GatewaySettings
from service.watermark.alpha import load_alpha_maps, record_classes
from service.watermark.calibrate import CalibrationFailed, calibrate, size_class
from service.watermark.remove import remove_watermark

__all__ = ["run_watermark"]


def run_watermark(args: argparse.Namespace) -> int:
    try:
        # Nothing is served here, so the API-key requirement of ``serve`` does not apply.
        settings = _settings(open_access=True)
    except (ValidationError, ValueError) as exc:
        print(f"watermark: unusable settings ({type(exc).__name__})", file=sys.stderr)
        return 2
    if args.action == "calibrate":
        return asyncio.run(_calibrate(settings))
    return _remove(settings, args.input, args.output)


def _settings(**overrides: Any) -> GatewaySettings:
    # mypy cannot see the defaults pydantic-settings fills, hence the ``**`` call.
    return GatewaySettings(**overrides)


def _remove(settings: GatewaySettings, source: Path, target: Path | None) -> int:
    try:
        maps = load_alpha_maps(settings.data_dir, settings.watermark_alpha_dir)
    except (OSError, ValueError) as exc:
        print(f"watermark: {exc}", file=sys.stderr)
        return 2
    if maps is None:
        print(
            "watermark: no alpha maps; run `python -m service watermark calibrate` "
            "or set GATEWAY_WATERMARK_ALPHA_DIR",
            file=sys.stderr,
        )
        return 2
    try:
        cleaned, detection = remove_watermark(source.read_bytes(), maps)
    except (OSError, InvalidRequest) as exc:
        print(f"watermark: {source}: {exc}", file=sys.stderr)
        return 1
    output = target or source.with_name(f"{source.stem}.clean{source.suffix}")
    output.write_bytes(cleaned)
    print(f"{source}: {detection.header()} -> {output}")
    return 0


async def _calibrate(settings: GatewaySettings) -> int:
    from service.pool_adapter import BrowserBackend, add_configured_accounts

    configure_logging(settings.log_level, settings.log_format)
    if not settings.accounts:
        print("watermark: calibration needs a configured account (GATEWAY_ACCOUNTS)", file=sys.stderr)
        return 2
    try:
        async with BrowserPool(settings.pool_settings()) as pool:
            if await add_configured_accounts(pool, settings.accounts) == 0:
                print("watermark: no configured account could be added", file=sys.stderr)
                return 1
            measured = await calibrate(BrowserBackend(pool), settings.data_dir)
            record_classes(settings.data_dir, {size_class(*item.image_size) for item in measured})
    except (BrowserError, ServiceError, CalibrationFailed) as exc:
        print(f"watermark: calibration failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    for item in measured:
        width, height = item.image_size
        print(f"{item.size} px mark, peak opacity {item.peak:.3f}, from {width}x{height}: {item.path}")
    return 0
