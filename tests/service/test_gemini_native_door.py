"""The Gemini-native door over HTTP with the official ``google-genai`` SDK, on a scripted pool (no
page): both prefixes, the imagen models' ``inlineData`` answer, and what the door refuses, each
through the SDK's own exception types."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from google import genai
from google.genai import errors, types
from PIL import Image

from browser import Tool, TurnSnapshot
from tests.service.conftest import API_KEY, Served
from tests.service.image_pool import ImagePool
from tests.service.scripted_pool import Script, account, png

FLASH = "gemini-2.5-flash"
IMAGEN = "gemini-2.5-flash-imagen"


@pytest.fixture
def served(serve_gateway: Callable[..., Served]) -> Served:
    return serve_gateway(ImagePool(account_list=[account("acct-1")]))


def client(served: Served, prefix: str = "") -> genai.Client:
    options = types.HttpOptions(base_url=served.url + prefix, api_version="v1beta", timeout=15_000)
    return genai.Client(api_key=API_KEY, http_options=options)


def answer(text: str) -> Script:
    return Script([TurnSnapshot(cid="c_1", text=text, completed=True, frames=1)])


@pytest.mark.parametrize("prefix", ["", "/gemini_official"])
def test_both_prefixes_serve_the_door(served: Served, prefix: str) -> None:
    gemini = client(served, prefix)
    served.pool.queue(answer("Hello from the page."))
    reply = gemini.models.generate_content(model=FLASH, contents="hi")
    assert reply.text == "Hello from the page."
    assert f"models/{FLASH}" in [model.name for model in gemini.models.list()]
    with pytest.raises(errors.ClientError) as unknown:
        gemini.models.generate_content(model="gemini-0-nope", contents="hi")
    assert (unknown.value.code, unknown.value.status) == (404, "NOT_FOUND")


def test_imagen_answers_with_inline_data_image_parts(served: Served) -> None:
    gemini = client(served, "/gemini_official")
    config = types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"])
    reply = gemini.models.generate_content(model=IMAGEN, contents="a blue square", config=config)
    parts = (reply.candidates or [])[0].content.parts  # type: ignore[union-attr]
    assert parts is not None
    assert [part.text for part in parts if part.text] == ["Here it is."]  # Gemini's words, first
    images = [part.inline_data for part in parts if part.inline_data is not None]
    assert len(images) == 1 and images[0].mime_type == "image/png"
    assert Image.open(io.BytesIO(images[0].data or b"")).size == Image.open(io.BytesIO(png())).size
    (request,) = served.pool.requests
    assert request.tool is Tool.IMAGE and "a blue square" in request.prompt
    assert f"models/{IMAGEN}" in [model.name for model in gemini.models.list()]
    streamed = list(gemini.models.generate_content_stream(model=IMAGEN, contents="a red square"))
    last = (streamed[-1].candidates or [])[0]
    assert last.finish_reason == types.FinishReason.STOP
    assert any(part.inline_data for part in last.content.parts or [])  # type: ignore[union-attr]


REFUSED = [
    (IMAGEN, {"response_modalities": ["TEXT"]}, "responseModalities"),
    (IMAGEN, {"max_output_tokens": 5}, "maxOutputTokens"),
    (IMAGEN, {"tools": [{"function_declarations": [{"name": "f"}]}]}, "tools"),
    (FLASH, {"response_modalities": ["IMAGE"]}, "responseModalities"),
    (FLASH, {"candidate_count": 2}, "candidateCount"),
    (
        FLASH,
        {"safety_settings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "OFF"}]},
        "safetySettings",
    ),
    (FLASH, {"cached_content": "cachedContents/abc"}, "cachedContent"),
    (FLASH, {"tools": [{"google_search": {}}]}, "googleSearch"),
    (FLASH, {"tools": [{"code_execution": {}}]}, "codeExecution"),
    (FLASH, {"tools": [{"url_context": {}}]}, "urlContext"),
]


def test_what_the_page_cannot_do_is_a_400_naming_the_field(served: Served) -> None:
    gemini = client(served)  # kept: the SDK closes its HTTP client when the Client is collected
    for model, config, named in REFUSED:
        with pytest.raises(errors.ClientError) as refused:
            gemini.models.generate_content(
                model=model, contents="hi", config=types.GenerateContentConfig.model_validate(config)
            )
        assert (refused.value.code, refused.value.status) == (400, "INVALID_ARGUMENT"), named
        assert named in (refused.value.message or ""), refused.value.message
    assert served.pool.requests == []  # refused before any page work


def test_files_api_and_caches_are_501_in_googles_envelope(served: Served, tmp_path: Path) -> None:
    gemini = client(served)
    picture = tmp_path / "p.png"
    picture.write_bytes(png())
    with pytest.raises(errors.ServerError) as upload:
        gemini.files.upload(file=picture)
    assert (upload.value.code, upload.value.status) == (501, "UNIMPLEMENTED")
    assert "Files API" in (upload.value.message or "")
    with pytest.raises(errors.ServerError) as listing:
        list(gemini.files.list())
    assert listing.value.code == 501 and "inlineData" in (listing.value.message or "")
    with pytest.raises(errors.ServerError) as cache:
        gemini.caches.create(model=FLASH, config=types.CreateCachedContentConfig(ttl="60s"))
    assert cache.value.code == 501 and "cachedContents" in (cache.value.message or "")
    headers = {"x-goog-api-key": API_KEY}
    for method, path in (
        ("DELETE", "/gemini_official/v1beta/files/abc"),
        ("PATCH", "/v1beta/cachedContents/abc"),
        ("POST", "/gemini_official/upload/v1beta/files"),
    ):
        refused = httpx.request(method, served.url + path, headers=headers, timeout=15)
        assert refused.status_code == 501 and refused.json()["error"]["status"] == "UNIMPLEMENTED"
    stranger = httpx.post(served.url + "/upload/v1beta/files", headers={"x-goog-api-key": "no"}, timeout=15)
    assert stranger.status_code == 401 and stranger.json()["error"]["status"] == "UNAUTHENTICATED"


def test_count_tokens_is_the_estimate_of_the_prompt(served: Served) -> None:
    gemini = client(served)
    short = gemini.models.count_tokens(model=FLASH, contents="x" * 40)
    long = gemini.models.count_tokens(model=FLASH, contents="x" * 400)
    assert (short.total_tokens, long.total_tokens) == (10, 100)  # four characters a token
    body = {"generateContentRequest": {"contents": [{"parts": [{"text": "x" * 40}]}]}}
    url = f"{served.url}/gemini_official/v1beta/models/{FLASH}:countTokens"
    assert httpx.post(url, params={"key": API_KEY}, json=body, timeout=15).json() == {"totalTokens": 10}
    both = httpx.post(url, params={"key": API_KEY}, json=body | {"contents": []}, timeout=15)
    assert both.status_code == 400 and both.json()["error"]["status"] == "INVALID_ARGUMENT"
    # No contents at all: a 400 naming the field, not a 500 (found by schemathesis).
    empty = httpx.post(url, params={"key": API_KEY}, json={"contents": []}, timeout=15)
    assert empty.status_code == 400 and empty.json()["error"]["status"] == "INVALID_ARGUMENT", empty.text
    assert "contents" in empty.json()["error"]["message"]
    with pytest.raises(errors.ClientError) as unknown:
        gemini.models.count_tokens(model="gemini-0-nope", contents="x")
    assert unknown.value.code == 404
    assert served.pool.requests == []  # counted without a page


def test_inline_image_out_decodes_to_the_pools_png(served: Served) -> None:
    """The base64 on the wire is the image's bytes (what a client without the SDK reads)."""
    body = {"contents": [{"parts": [{"text": "a square"}]}]}
    url = f"{served.url}/v1beta/models/{IMAGEN}:generateContent"
    reply = httpx.post(url, headers={"x-goog-api-key": API_KEY}, json=body, timeout=15).json()
    blob = reply["candidates"][0]["content"]["parts"][-1]["inlineData"]
    assert blob["mimeType"] == "image/png"
    assert Image.open(io.BytesIO(base64.b64decode(blob["data"]))).format == "PNG"
    assert reply["usageMetadata"]["promptTokenCount"] > 0


def test_a_bug_is_a_500_in_googles_envelope_and_the_door_keeps_answering(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    import service.gemini_native.router as door

    def broken(prompt: object) -> int:
        raise RuntimeError("secret detail")

    url = f"{served.url}/v1beta/models/{FLASH}:countTokens"
    body = {"contents": [{"parts": [{"text": "x"}]}]}
    with monkeypatch.context() as patch:
        patch.setattr(door, "estimate_tokens", broken)
        failed = httpx.post(url, params={"key": API_KEY}, json=body, timeout=15)
    assert failed.status_code == 500, failed.text
    assert failed.json() == {"error": {"code": 500, "message": "Internal error.", "status": "INTERNAL"}}
    assert httpx.post(url, params={"key": API_KEY}, json=body, timeout=15).json() == {"totalTokens": 1}
