"""Schemathesis against the OpenAPI schema of every route (issue 13, item 14).

The app is built with ``openapi_url=None`` (nothing serves the schema), so the schema comes from
``app.openapi()``, which FastAPI builds all the same. It holds every route a client can call except
the admin index ``GET /admin/`` (``include_in_schema=False``), which is added here: ``/v1`` and
``/gemini_official/v1``, the admin API and its dashboard, ``/media``, ``/healthz``, ``/readyz``,
``/metrics``. The routes that read JSON or multipart by hand (``/images/*``, ``POST /videos``)
declare their bodies through ``openapi_extra`` (``service.openapi_bodies``), so their parsers get
JSON, multipart and form bodies like every other route's.

Every case goes to a real uvicorn server on loopback over the scripted admin pool (no browser: this
is about the HTTP layer; its image turns answer a small PNG, so that a valid image request goes on
to conversion and delivery rather than ending in "no image"), with the key its route wants: the
admin key on the admin routes and ``/metrics`` (the dashboard takes it too), the API key everywhere
else. Cases are the schema's examples, its boundary values (empty strings, limits, every enum
value, missing fields) and random valid and invalid inputs, bounded and derandomized so that a run
is reproducible; schemathesis' own test builder makes them, as its pytest plugin does, but
operation by operation in one test, so that state left by one (a key created with an absurd
expiry) meets the others (the dashboard listing it) and the check that the service still answers
``/healthz`` and an ordinary chat completion comes after all of them. ``/gemini_official/...``
serves the same handlers as ``/v1`` and ``/admin``, so its routes get a few random cases each.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.hypothesis.builder import HypothesisTestConfig, HypothesisTestMode, create_test

from browser import Tool
from service.app import create_app
from service.pool_adapter import BrowserBackend
from service.settings import GatewaySettings
from tests.service.conftest import API_KEY
from tests.service.image_pool import ImagePool
from tests.service.scripted_pool import account
from tests.support.servers import serve

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

ADMIN_KEY = "adm-schemathesis-key-0123"
ADMIN_PREFIXES = ("/admin", "/gemini_official/admin", "/metrics")
ALIAS_PREFIX = "/gemini_official/"
EXAMPLES = 20
ALIAS_EXAMPLES = 4


def _settings(data_dir: Path) -> GatewaySettings:
    return GatewaySettings(data_dir=data_dir, api_keys=[API_KEY], admin_keys=[ADMIN_KEY])  # type: ignore[arg-type]


def _schema() -> Any:
    # Building the app starts nothing (the lifespan does).
    document: dict[str, Any] = create_app(_settings(Path("unused"))).openapi()
    for prefix in ("/admin/", "/gemini_official/admin/"):  # the hidden admin index
        document["paths"][prefix] = {"get": {"responses": {"200": {"description": "counts"}}}}
    return schemathesis.openapi.from_dict(document)


def _headers(path: str) -> dict[str, str]:
    key = ADMIN_KEY if path.startswith(ADMIN_PREFIXES) else API_KEY
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def pool() -> ImagePool:
    return ImagePool(account_list=[account("acct-1")])


@pytest.fixture
def served(tmp_path: Path, pool: ImagePool) -> Iterator[str]:
    @asynccontextmanager
    async def factory(_settings: GatewaySettings) -> Any:
        yield BrowserBackend(pool)

    with serve(create_app(_settings(tmp_path / "data"), pool_factory=factory)) as url:
        yield url


def _run(operation: Any, config: Any, url: str, session: requests.Session) -> str | None:
    """Run one operation's cases; the failure (with schemathesis' curl line), or None."""
    alias = operation.path.startswith(ALIAS_PREFIX)

    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(
            base_url=url,
            session=session,
            headers=_headers(case.path),
            checks=[not_a_server_error],
            timeout=15,
        )

    test = create_test(
        operation=operation,
        test_func=check,
        config=HypothesisTestConfig(
            project=config,
            # The schema's examples, its boundary values (empty strings, limits, each enum value,
            # missing fields) and random valid and invalid inputs; aliases only the latter.
            modes=[HypothesisTestMode.FUZZING] if alias else list(HypothesisTestMode),
            settings=settings(
                max_examples=ALIAS_EXAMPLES if alias else EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            ),
        ),
    )
    try:
        test()
    except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
        return f"{operation.method.upper()} {operation.path}: {exc}"
    return None


def test_no_route_answers_a_server_error_and_the_service_keeps_answering(
    served: str, pool: ImagePool
) -> None:
    schema = _schema()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 60 and {"/admin/", "/v1/chat/completions"} <= {op.path for op in operations}
    with requests.Session() as session:
        failures = [
            failure for op in operations if (failure := _run(op, schema.config, served, session)) is not None
        ]
    assert failures == [], "\n\n".join(failures)

    assert httpx.get(f"{served}/healthz", timeout=10).status_code == 200
    answer = httpx.post(
        f"{served}/v1/chat/completions",
        headers={"Authorization": f"Bearer {API_KEY}"},
        json={"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "still there?"}]},
        timeout=15,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == "You said: still there?"
    # The declared bodies were sent and some were valid: generations, edits (images attached) and
    # videos (a job's turn starts as it is created) reached the pool; a body-less request never does.
    tools = [(request.tool, bool(request.attachments)) for request in pool.requests]
    assert {(Tool.IMAGE, False), (Tool.IMAGE, True), (Tool.VIDEO, False)} <= set(tools)


# What the run above found, each pinned on its own.


def test_a_responses_value_that_chat_refuses_is_a_400_naming_it(served: str) -> None:
    """``tool_choice: ""`` passes the Responses shape but not chat's: it was a 500."""
    answer = httpx.post(
        f"{served}/v1/responses",
        headers=_headers("/v1/responses"),
        json={"model": "gemini-2.5-flash", "input": "hi", "tool_choice": ""},
        timeout=15,
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["param"] == "tool_choice"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "forever", "expires_in": 1e300},  # the dashboard's date formatting overflowed
        {"name": "many", "max_concurrent": 2**63},  # SQLite's INTEGER overflowed
        {"name": "fast", "per_minute": 2**64},
    ],
)
def test_a_key_with_an_absurd_expiry_or_limit_is_a_400(served: str, body: dict[str, Any]) -> None:
    headers = _headers("/admin/keys")
    created = httpx.post(f"{served}/admin/keys", headers=headers, json=body, timeout=15)
    assert created.status_code == 400, created.text
    assert created.json()["error"]["param"] == next(iter(body.keys() - {"name"}))
    assert httpx.get(f"{served}/admin/ui", headers=headers, timeout=15).status_code == 200


@pytest.mark.parametrize("hours", ["inf", "nan", "1e300"])
def test_the_dashboard_refuses_an_absurd_key_expiry(served: str, hours: str) -> None:
    headers = _headers("/admin/ui")
    form = {"name": "k", "expires_hours": hours}
    answer = httpx.post(f"{served}/admin/ui/keys", headers=headers, data=form, timeout=15)
    assert answer.status_code == 400, answer.text
    assert httpx.get(f"{served}/admin/ui", headers=headers, timeout=15).status_code == 200
