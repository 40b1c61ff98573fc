"""The gateway's log lines: one handler on the root logger, text or JSON (``log_format``), at
``log_level``, every line naming the request it was written for.

The request id (``service.request_ids.CURRENT_REQUEST_ID``, taken from ``X-Request-Id`` or made)
lives in a context variable; a logging filter on the handler reads it when a line is written. A
handler runs in the context of the code that logs, and asyncio copies the context into every task
a request starts (a stream's, a background run's), so the lines of the browser layer's turn carry
the id of the request they serve without ``browser/`` knowing of the service: it only adds its own
fields (``extra={"account": ..., "turn": ...}``), which JSON lines keep as fields. Lines written
outside any request (startup, the pool's loops) have none: ``-`` in text, ``null`` in JSON.

uvicorn's loggers are left without handlers of their own, so their lines take the same way.
"""

from __future__ import annotations

import enum
import json
import logging
import sys
import time
from typing import Any, TextIO

from service.request_ids import CURRENT_REQUEST_ID

__all__ = ["JsonFormatter", "LogFormat", "LogLevel", "RequestIdFilter", "configure_logging"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
# What every LogRecord has; anything else on a record is a field its writer added (``extra``).
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class LogFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"


class LogLevel(enum.StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class RequestIdFilter(logging.Filter):
    """Puts the id of the request being served on every record written inside one, as ``request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = CURRENT_REQUEST_ID.get()
        if request_id is not None:
            record.request_id = request_id
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
    ``request_id``, the fields the writer added, and ``exception`` when one is logged."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        line.update(
            (name, value)
            for name, value in vars(record).items()
            if name not in _STANDARD and name not in line and not name.startswith("_")
        )
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        # default=str: a field that JSON cannot hold is written as its text, never a lost line.
        return json.dumps(line, ensure_ascii=False, default=str)


def _utc(created: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{int(created % 1 * 1000):03d}Z"


def configure_logging(
    level: LogLevel | str = LogLevel.INFO, fmt: LogFormat | str = LogFormat.TEXT, stream: TextIO | None = None
) -> logging.Handler:
    """Send every log line of the process (the service's, the browser layer's, uvicorn's) to one
    handler on ``stream`` (stderr by default), replacing what an earlier call installed. Returns
    the handler (tests remove it with ``root.removeHandler``)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RequestIdFilter())
    text = logging.Formatter(TEXT_FORMAT, defaults={"request_id": "-"})
    handler.setFormatter(JsonFormatter() if LogFormat(fmt) is LogFormat.JSON else text)
    handler.set_name("gateway")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "gateway"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(LogLevel(str(level).upper()).value)
    for name in _UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    return handler
