"""Alpha maps on first need: ``remove_watermark`` works on a fresh install without a manual step.

The first image of a size class (``calibrate.size_class``) that asks for removal starts that class's
calibration with the account that made the image, in a task of its own (a client that hangs up does
not cancel it); every request needing the class meanwhile waits for that one calibration. What it
measures is stored in the data directory, so each class is calibrated once per installation. A
failed calibration is not remembered: the next request needing the class tries again. With the
``watermark_alpha_dir`` setting the operator's captures are used and nothing is calibrated.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from pathlib import Path
from types import TracebackType
from typing import Self

from browser import ModeFamily
from service.backend import Backend
from service.errors import ServiceError
from service.watermark.alpha import AlphaMaps, calibrated_classes, load_alpha_maps, record_classes
from service.watermark.calibrate import SIZE_CLASSES, CalibrationFailed, calibrate, size_class

__all__ = ["AutoCalibration"]

log = logging.getLogger(__name__)


class AutoCalibration:
    """The gateway's alpha maps: ``await maps_for(...)`` calibrates a missing size class first.
    Use as ``async with AutoCalibration(...)``: leaving it cancels calibrations still running."""

    def __init__(self, source: Backend, data_dir: Path, override_dir: Path | None = None) -> None:
        self.source = source
        self.data_dir = data_dir
        self.override_dir = override_dir
        self._done: set[str] | None = None
        self._maps: AlphaMaps | None = None
        self._running: dict[str, asyncio.Task[None]] = {}

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def start(self, account_id: str | None = None) -> None:
        """Calibrate every size class not stored yet, now, in the background (the demo does this at
        start, so its first ``remove_watermark`` does not wait)."""
        for name in SIZE_CLASSES:
            self._calibration(name, account_id, ModeFamily.FLASH)

    async def maps_for(
        self, width: int, height: int, *, account_id: str | None, mode: ModeFamily = ModeFamily.FLASH
    ) -> AlphaMaps:
        """The maps for an image of this size made on ``account_id``; ``CalibrationFailed`` says why
        there are none."""
        if self.override_dir is not None:
            try:
                maps = await asyncio.to_thread(load_alpha_maps, self.data_dir, self.override_dir)
            except (OSError, ValueError) as exc:
                raise CalibrationFailed(f"watermark_alpha_dir: {exc}") from None
            assert maps is not None  # load_alpha_maps raises when the named directory holds none
            return maps
        name = size_class(width, height)
        if name not in await self._calibrated():
            task = self._running.get(name) or self._calibration(name, account_id, mode)
            # Shielded: a waiter that goes away does not cancel the calibration the others await.
            await asyncio.shield(task)
        if self._maps is None:
            self._maps = await asyncio.to_thread(load_alpha_maps, self.data_dir, None)
        if self._maps is None:
            raise CalibrationFailed("no alpha map is stored")
        return self._maps

    async def _calibrated(self) -> set[str]:
        if self._done is None:
            self._done = await asyncio.to_thread(calibrated_classes, self.data_dir, SIZE_CLASSES)
        return self._done

    def _calibration(self, name: str, account_id: str | None, mode: ModeFamily) -> asyncio.Task[None]:
        running = self._running.get(name)
        if running is not None:
            return running
        # A fresh context: the calibration is the gateway's, not the request's (no key, no scopes).
        task = asyncio.create_task(self._calibrate(name, account_id, mode), context=contextvars.Context())
        self._running[name] = task
        task.add_done_callback(lambda done: self._finished(name, done))
        return task

    def _finished(self, name: str, task: asyncio.Task[None]) -> None:
        if self._running.get(name) is task:
            del self._running[name]
        if not task.cancelled() and task.exception() is not None:  # retrieved: waiters may be gone
            log.warning("watermark calibration of the %s class failed: %s", name, task.exception())

    async def _calibrate(self, name: str, account_id: str | None, mode: ModeFamily) -> None:
        if name in await self._calibrated():
            return
        log.info("calibrating the watermark's %s class on account %s", name, account_id or "(any)")
        try:
            measured = await calibrate(
                self.source, self.data_dir, SIZE_CLASSES[name], account_id=account_id, mode=mode
            )
        except ServiceError as exc:
            raise CalibrationFailed(f"the calibration turn failed: {exc.message}") from exc
        except (OSError, ValueError) as exc:  # an image Pillow cannot read, a store that cannot be written
            raise CalibrationFailed(f"{type(exc).__name__}: {exc}") from exc
        await asyncio.to_thread(record_classes, self.data_dir, [name])
        self._maps = None  # reloaded with the new maps
        (await self._calibrated()).add(name)
        sizes = ", ".join(f"{item.size} px" for item in measured)
        log.info("watermark %s class calibrated (%s)", name, sizes)
