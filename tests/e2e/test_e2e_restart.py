"""A restart of the gateway resumes each configured account from the pool's stored (rotated)
cookies, not from the stale ones still written in the configuration."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import openai
import pytest
from pydantic import SecretStr

from browser._cookies import PSIDTS
from browser._store import CookieStore
from service.app import create_app
from service.settings import AccountConfig, GatewaySettings
from tests.e2e.conftest import FAST_PACING, KEY_A, WAIT
from tests.support.servers import serve

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

STALE = "stale-ts-from-config"


def stored_psidts(store: CookieStore) -> str | None:
    stored = store.load_sync("resume")
    return None if stored is None else {c.name: c.value for c in stored.cookies}.get(PSIDTS)


def test_restart_resumes_from_the_stored_cookies(tmp_path: Path) -> None:
    from simulator.app import create_app as create_simulator
    from simulator.settings import SimulatorSettings

    store = CookieStore(tmp_path)
    with serve(create_simulator(SimulatorSettings(**FAST_PACING, rotation_interval=0.3))) as sim_url:
        settings = GatewaySettings(
            data_dir=tmp_path,
            api_keys=(SecretStr(KEY_A),),
            browser={"gemini_url": sim_url, "cookie_save_interval": 0.2},
            accounts=(
                AccountConfig(
                    name="resume", psid=SecretStr(f"paid-{uuid.uuid4().hex[:8]}"), psidts=SecretStr(STALE)
                ),
            ),
        )
        with serve(create_app(settings), startup_timeout=90):
            deadline = time.monotonic() + WAIT
            while stored_psidts(store) in (None, STALE):
                assert time.monotonic() < deadline, "the page never rotated its cookies"
                time.sleep(0.1)
        rotated = stored_psidts(store)
        assert rotated not in (None, STALE)

        # No more rotation, so only a resumed cookie can differ from the configured one.
        httpx.post(f"{sim_url}/_sim/config", json={"rotation_interval": 600}).raise_for_status()
        with serve(create_app(settings), startup_timeout=90) as url:
            assert stored_psidts(store) == rotated
            client = openai.OpenAI(base_url=f"{url}/v1", api_key=KEY_A, max_retries=0, timeout=60)
            reply = client.chat.completions.create(
                model="gemini-2.5-flash", messages=[{"role": "user", "content": "still signed in?"}]
            )
            assert (reply.choices[0].message.content or "").startswith("Turn 1 of chat")
        assert stored_psidts(store) == rotated
