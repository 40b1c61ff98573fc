"""What real clients sent that the gateway took silently (issue 18, items 2, 5 and 6), over real
HTTP on a ScriptedPool: each refusal is a 400 naming the field, answered before any page is driven
(the pool saw no turn), on chat, Responses and (where they apply) the images and videos routes."""

from __future__ import annotations

import base64
import io
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.service.conftest import API_KEY, Served

FLASH = "gemini-2.5-flash"


def post(served: Served, route: str, body: dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    return httpx.post(f"{served.url}/v1/{route}", json=body, headers=headers, timeout=15)


def refused(response: httpx.Response, param: str, served: Served) -> str:
    """The refusal's message, once its status, param and the untouched pool are checked."""
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param, error
    assert served.pool.requests == []  # no page was driven for it
    return str(error["message"])


def png(size: int = 4) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (10, 200, 10)).save(out, format="PNG")
    return out.getvalue()


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


# Item 6: a non-image labelled as one is a 400, never an upload.
NOT_IMAGES = [
    pytest.param(b"hello world", id="text-labelled-png"),
    pytest.param(b"\x89PNG\r\n\x1a\n" + b"\0" * 40, id="png-signature-then-garbage"),
    pytest.param(b"GIF89a" + b"x" * 20, id="gif-signature-then-garbage"),
]


@pytest.mark.parametrize("data", NOT_IMAGES)
def test_chat_refuses_bytes_that_are_no_image(gateway: Served, data: bytes) -> None:
    content = [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": data_url(data)}},
    ]
    response = post(
        gateway, "chat/completions", {"model": FLASH, "messages": [{"role": "user", "content": content}]}
    )
    message = refused(response, "messages", gateway)
    assert "image" in message


@pytest.mark.parametrize("data", NOT_IMAGES)
def test_responses_input_image_refuses_bytes_that_are_no_image(gateway: Served, data: bytes) -> None:
    content = [
        {"type": "input_text", "text": "what is this?"},
        {"type": "input_image", "image_url": data_url(data)},
    ]
    response = post(gateway, "responses", {"model": FLASH, "input": [{"role": "user", "content": content}]})
    refused(response, "messages", gateway)


def test_a_real_image_is_still_uploaded_with_its_sniffed_type(gateway: Served) -> None:
    content = [{"type": "image_url", "image_url": {"url": data_url(png(), "image/jpeg")}}]
    response = post(
        gateway, "chat/completions", {"model": FLASH, "messages": [{"role": "user", "content": content}]}
    )
    assert response.status_code == 200, response.text
    (upload,) = gateway.pool.requests[0].attachments
    assert upload.mime == "image/png" and upload.data == png()
