"""What can be checked of the Dockerfile without a Docker engine: its settings load, Chromium's
sandbox stays on, it runs as a non-root user, and its health check asks ``/healthz``."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from browser import PoolSettings
from service.settings import GatewaySettings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def env_values() -> dict[str, str]:
    block = re.search(r"^ENV (.*?)(?=^\S)", DOCKERFILE, re.S | re.M)
    assert block is not None
    text = block.group(1).replace("\\\n", " ")
    return dict(part.split("=", 1) for part in shlex.split(text))


def test_the_images_settings_load_with_the_sandbox_on(monkeypatch: pytest.MonkeyPatch) -> None:
    env = env_values()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GATEWAY_ADMIN_KEYS", "adm")
    settings = GatewaySettings()  # type: ignore[call-arg]
    pool = PoolSettings(**{**settings.browser, "data_dir": settings.data_dir})
    assert str(settings.data_dir) == "/data"
    assert pool.chromium_path == "/usr/bin/chromium"
    assert "--no-sandbox" not in pool.chromium_args
    assert "--no-sandbox" not in json.dumps(env)


def test_it_runs_as_non_root_with_a_health_check() -> None:
    users = re.findall(r"^USER (\S+)", DOCKERFILE, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r'^HEALTHCHECK .*\n\s+CMD \[.*"http://127\.0\.0\.1:8000/healthz"\]', DOCKERFILE, re.M)
    assert "-m 0700 /data" in DOCKERFILE
    assert 'VOLUME ["/data"]' in DOCKERFILE
