"""One default TLS context per HTTP library for every client the tests' process makes.

httpx (and httpx2, under the OpenAI and Anthropic SDKs) builds a fresh ``ssl.SSLContext`` for each
client (so for each ``httpx.get``, each SDK client, each gateway's outbound client), loading about
150 CA certificates every time: 18-20 ms of CPU each, which was half the CPU of the simulator's
tests (a client per request) and a large part of the service tests'. The default context is always
the same one (the library's CA bundle, nothing else), so the tests' process builds it once per
library and hands it out.

Only the default is shared (one per value of ``SSL_CERT_FILE``/``SSL_CERT_DIR``, which it is read
from when the client trusts the environment): ``verify=False``, a context or path of the caller's
own, or a client certificate still go to the library's own function, as does anything in a process
the tests start (gateways, the CLI)."""

from __future__ import annotations

import importlib
import os
import ssl
from collections.abc import Callable
from typing import Any

# The modules whose transports call create_ssl_context for each client they make.
TRANSPORTS = ("httpx._transports.default", "httpx2._transports.default")
_ENV = ("SSL_CERT_FILE", "SSL_CERT_DIR")

MakeContext = Callable[..., ssl.SSLContext]


def share_default_context() -> None:
    """Make each installed library's transports reuse one default context (idempotent)."""
    for name in TRANSPORTS:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        made = getattr(module, "create_ssl_context", None)
        if made is None:  # moved by an upgrade: the suite still works, slower, so say so loudly
            raise RuntimeError(f"{name}.create_ssl_context is gone: update tests/support/tls.py")
        if not getattr(made, "shared", False):
            module.create_ssl_context = _sharing(made)


def _sharing(original: MakeContext) -> MakeContext:
    made: dict[tuple[str | None, ...], ssl.SSLContext] = {}

    def create_ssl_context(
        verify: ssl.SSLContext | str | bool = True, cert: Any = None, trust_env: bool = True
    ) -> ssl.SSLContext:
        if verify is not True or cert is not None:
            return original(verify=verify, cert=cert, trust_env=trust_env)
        # What the default depends on: the CA variables when the client reads the environment.
        key = tuple(os.environ.get(name) for name in _ENV) if trust_env else (None, None)
        if key not in made:
            made[key] = original(verify=True, cert=None, trust_env=trust_env)
        return made[key]

    create_ssl_context.shared = True  # type: ignore[attr-defined]
    return create_ssl_context
