"""The command line: ``python -m service serve`` runs the gateway; ``python -m service demo`` runs it
against a local simulator of gemini.google.com with two demo accounts, the API key ``demo`` and a
fresh admin key (printed, with the dashboard's URL).

Both run the server in a child process in its own session and forward Ctrl-C/SIGTERM to it, so the
terminal's Ctrl-C cannot kill Playwright's driver and Chromium under the pool (see ``_supervise``).
The demo starts the simulator as another child (``python -m simulator``) rather than importing it:
``service/`` never imports ``simulator/`` (the layering rule); the gateway stops first (its pool
closes its pages), the simulator after it.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from pydantic import SecretStr, ValidationError

from service.admin.command import run_admin
from service.admin.doctor import run_doctor
from service.app import create_app
from service.cli_parser import build_parser
from service.logs import LogLevel, configure_logging
from service.settings import CONFIG_ENV, AccountConfig, GatewaySettings
from service.stores.backends import reach
from service.stores.migrate import run_state
from service.stores.redis_base import StateUnavailable
from service.watermark.command import run_watermark

__all__ = ["DEMO_KEY", "demo_accounts", "demo_admin_key", "demo_settings", "main", "usage_text"]

DEMO_KEY = "demo"
# Set in the child that actually serves (see ``_supervise``); not GATEWAY_-prefixed on purpose.
SUPERVISED_ENV = "GEMINI_GATEWAY_SUPERVISED"
SIMULATOR_START_TIMEOUT = 30.0
SIMULATOR_STOP_TIMEOUT = 10.0
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command ``argv`` names (its parser: ``service.cli_parser``); returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    return _COMMANDS[args.command](args, argv)


def _serve(args: argparse.Namespace, argv: list[str]) -> int:
    if args.config is not None:
        os.environ[CONFIG_ENV] = str(args.config)
    settings = _load_settings()
    if settings is None:
        return 2
    if os.environ.get(SUPERVISED_ENV) != "1":
        return _supervise(argv)
    if not _port_free(args.host, args.port):
        print(f"gateway not started: {args.host}:{args.port} is already in use", file=sys.stderr)
        return 2
    try:
        serve_app(settings, args.host, args.port)
    except StateUnavailable as exc:  # state.backend redis, and its server is not there
        print(f"gateway not started: {exc}", file=sys.stderr)
        return 2
    return 0


def _run_demo(args: argparse.Namespace, argv: list[str]) -> int:
    if os.environ.get(SUPERVISED_ENV) != "1":
        return _supervise(argv)
    if not _port_free(args.host, args.port):
        print(f"demo not started: {args.host}:{args.port} is already in use", file=sys.stderr)
        return 2
    return _demo(args)


_COMMANDS: dict[str, Callable[[argparse.Namespace, list[str]], int]] = {
    "serve": _serve,
    "demo": _run_demo,
    "watermark": lambda args, _: run_watermark(args),
    "accounts": lambda args, _: run_admin(args),
    "keys": lambda args, _: run_admin(args),
    "doctor": lambda args, _: run_doctor(args),
    "state": lambda args, _: run_state(args),
}


def serve_app(settings: GatewaySettings, host: str, port: int) -> None:
    """Serve the gateway with its log lines (``service.logs``): the service's, the browser layer's
    and uvicorn's in one format, each naming its request. uvicorn's access line is left out: the
    gateway writes one per request when it has ended (``service.request_ids``), with its duration."""
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(reach(settings.state))  # Redis unreachable: ``StateUnavailable``, before anything starts
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_config=None,
        log_level=settings.log_level.lower(),
        access_log=False,
    )


def _supervise(argv: Sequence[str]) -> int:
    """Run this command again in a child process in its own session, passing Ctrl-C and SIGTERM on.

    A terminal sends Ctrl-C to its whole foreground process group, which would include Playwright's
    driver and Chromium: they would die under the pool before it could close them. In its own session
    only the gateway gets the signal (from here) and shuts its pool down in order.
    """
    env = {**os.environ, SUPERVISED_ENV: "1"}
    child = subprocess.Popen(
        [sys.executable, "-m", "service", *argv], env=env, preexec_fn=_own_session_dying_with_parent
    )

    def forward(signum: int, _frame: object) -> None:
        with suppress(ProcessLookupError):
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _own_session_dying_with_parent() -> None:
    """In a child before it runs: a session of its own (see ``_supervise``), and SIGTERM when its
    parent dies, however it dies (kill -9 included), so no serving process or simulator outlives
    the command that started it. Linux only (``PR_SET_PDEATHSIG``); elsewhere just the session."""
    parent = os.getppid()
    os.setsid()
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)


def _port_free(host: str, port: int) -> bool:
    """Whether ``host:port`` can be bound now: checked before the pool launches Chromium, so a busy
    port fails at once instead of after every account has started."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _configured(**overrides: Any) -> GatewaySettings:
    """Settings from the constructor, ``GATEWAY_*`` env and the config file (mypy cannot see the
    defaults pydantic-settings fills, hence the ``**`` call)."""
    return GatewaySettings(**overrides)


def _load_settings() -> GatewaySettings | None:
    """Settings from env/config file, or None after printing why they are unusable."""
    try:
        return _configured()
    except (ValidationError, ValueError) as exc:
        print(f"gateway not started: {_describe(exc)}", file=sys.stderr)
        return None


def _describe(exc: Exception) -> str:
    # Only locations and messages: a validation error's input could be a cookie or a key.
    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            parts.append(f"{where}: {error['msg']}" if where else str(error["msg"]))
        return "; ".join(parts)
    return str(exc)


# -- demo --


def demo_accounts() -> tuple[AccountConfig, ...]:
    """One paid and one free simulator account (the simulator reads the kind from the prefix)."""
    return (
        AccountConfig(name="demo-paid", psid=SecretStr("paid-demo-account")),
        AccountConfig(name="demo-free", psid=SecretStr("free-demo-account")),
    )


def demo_settings(simulator_url: str, data_dir: Path, admin_key: str) -> GatewaySettings | None:
    """The configured settings pointed at the simulator, with the demo accounts, a fresh data dir,
    the API key ``demo`` and the admin key ``admin_key``; keys configured in the environment or a
    config file are accepted too (added to the demo's, never replacing them). The watermark is
    calibrated against the simulator at start."""
    try:
        base = _configured()
    except ValidationError as exc:
        if "no API key configured" not in str(exc):
            print(f"gateway not started: {_describe(exc)}", file=sys.stderr)
            return None
        base = _configured(api_keys=(SecretStr(DEMO_KEY),))
    return base.model_copy(
        update={
            "browser": {**base.browser, "gemini_url": simulator_url},
            "accounts": demo_accounts(),
            "data_dir": data_dir,
            "api_keys": _with_key(DEMO_KEY, base.api_keys),
            "admin_keys": _with_key(admin_key, base.admin_keys),
            "watermark_calibrate_at_start": True,
            # The demo's terminal shows how to call it; only problems are logged, unless asked.
            "log_level": base.log_level if "log_level" in base.model_fields_set else LogLevel.WARNING,
        }
    )


def _with_key(key: str, configured: Sequence[SecretStr]) -> tuple[SecretStr, ...]:
    others = tuple(secret for secret in configured if secret.get_secret_value() != key)
    return (SecretStr(key), *others)


def demo_admin_key() -> str:
    """A fresh admin key per demo run: the demo may listen beyond loopback (``--host``)."""
    return "demo-admin-" + secrets.token_urlsafe(12)


def usage_text(
    base_url: str, key: str, simulator_url: str, *, admin_key: str | None = None, more_keys: int = 0
) -> str:
    """How to call the running gateway (a curl line and an openai SDK snippet) and, with
    ``admin_key``, how to open its dashboard and metrics."""
    root = base_url.removesuffix("/gemini_official/v1")
    also = f" (and the {more_keys} configured one{'s' if more_keys > 1 else ''})" if more_keys else ""
    operator = (
        f"""
Operator's view, admin key {admin_key}
  dashboard: {root}/admin/ui   (sign in with the admin key)
  metrics:   curl {root}/metrics -H "Authorization: Bearer {admin_key}"
"""
        if admin_key
        else ""
    )
    return f"""
Gemini gateway (demo) at {base_url}
It answers from the local simulator of gemini.google.com at {simulator_url}
(accounts: demo-paid, demo-free). API key: {key}{also}.
{operator}
  curl {base_url}/chat/completions -H "Authorization: Bearer {key}" \\
    -H "Content-Type: application/json" \\
    -d '{{"model": "gemini-2.5-flash", "messages": [{{"role": "user", "content": "Hello"}}]}}'

  from openai import OpenAI
  client = OpenAI(base_url="{base_url}", api_key="{key}")
  reply = client.chat.completions.create(
      model="gemini-2.5-flash", messages=[{{"role": "user", "content": "Hello"}}]
  )
  print(reply.choices[0].message.content)

Models: curl {base_url}/models -H "Authorization: Bearer {key}"
Press Ctrl-C to stop.
"""


def _demo(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="gateway-demo-") as tmp:
        workdir = Path(tmp)
        with _simulator(workdir / "simulator.log") as simulator_url:
            admin_key = demo_admin_key()
            settings = demo_settings(simulator_url, workdir / "data", admin_key)
            if settings is None:
                return 2
            base_url = f"http://{args.host}:{args.port}/gemini_official/v1"
            text = usage_text(
                base_url, DEMO_KEY, simulator_url, admin_key=admin_key, more_keys=len(settings.api_keys) - 1
            )
            configure_logging(settings.log_level, settings.log_format)
            config = uvicorn.Config(
                create_app(settings),
                host=args.host,
                port=args.port,
                log_config=None,
                log_level=settings.log_level.lower(),
                access_log=False,
            )
            server = uvicorn.Server(config)
            print(f"starting the gateway on {args.host}:{args.port} (Chromium, two demo accounts)...")
            # uvicorn turns Ctrl-C into a graceful shutdown; a second Ctrl-C may still surface here.
            with suppress(KeyboardInterrupt):
                asyncio.run(_serve_and_announce(server, text))
    print("demo stopped")
    return 0


async def _serve_and_announce(server: uvicorn.Server, text: str) -> None:
    async def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.1)
        print(text, flush=True)

    announcer = asyncio.create_task(announce())
    try:
        await server.serve()
    finally:
        announcer.cancel()


@contextmanager
def _simulator(log_path: Path) -> Iterator[str]:
    """Run ``python -m simulator`` on a free loopback port (default pacing) and yield its URL.

    ``localhost`` (not 127.0.0.1) because Chromium treats it as a secure origin, so the ``__Secure-``
    cookies work over plain HTTP.
    """
    port = _free_port()
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "simulator", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            # Ctrl-C reaches the gateway only; we stop the simulator after it, and it gets SIGTERM
            # if this process dies first (SIGKILL, or a signal that skips our cleanup).
            preexec_fn=_own_session_dying_with_parent,
        )
        try:
            url = f"http://localhost:{port}"
            _wait_until_up(url, process, log_path)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=SIMULATOR_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=SIMULATOR_STOP_TIMEOUT)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + SIMULATOR_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the simulator exited at startup:\n{tail}")
        try:
            if httpx.get(f"{url}/_sim/config", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the simulator did not answer within {SIMULATOR_START_TIMEOUT:.0f} s")
