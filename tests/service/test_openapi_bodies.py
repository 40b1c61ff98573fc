"""The request bodies the OpenAPI document declares for the routes that read their own body
(``/images/generations``, ``/images/edits``, ``POST /videos``; ``service.openapi_bodies``): present
under both prefixes with the media types the handlers take, naming the fields the handlers read,
valid JSON Schema whose examples the gateway accepts, and covering what the openai SDK sends.
Everything runs against a real uvicorn gateway on a scripted pool (no browser, no Gemini)."""

from __future__ import annotations

import email.parser
import email.policy
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from PIL import Image

from service.app import ROUTE_PREFIXES, create_app
from service.errors import InvalidRequest
from service.images.bodies import SIZE_PATTERN
from service.images.protocol import ImageEditRequest, ImageGenerationRequest
from service.images.sizes import aspect_ratio
from service.openapi_bodies import FORM, JSON, MULTIPART
from service.videos.router import _FIELDS as VIDEO_FIELDS
from tests.service.conftest import API_KEY, Served, settings_for
from tests.service.image_pool import ImagePool
from tests.service.scripted_pool import account

MEDIA_TYPES = {
    "/images/generations": {JSON, MULTIPART, FORM},
    "/images/edits": {JSON, MULTIPART},
    "/videos": {JSON, MULTIPART},
}
GENERATION = set(ImageGenerationRequest.model_fields)
EDIT = set(ImageEditRequest.model_fields)
FIELDS = {
    ("/images/generations", JSON): GENERATION,
    ("/images/generations", MULTIPART): GENERATION,
    ("/images/generations", FORM): GENERATION,
    ("/images/edits", JSON): EDIT,
    ("/images/edits", MULTIPART): (EDIT - {"images"}) | {"image", "image[]", "mask"},
    ("/videos", JSON): VIDEO_FIELDS - {"input_reference"},
    ("/videos", MULTIPART): VIDEO_FIELDS,
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    # Building the app starts nothing (the lifespan does), so the data directory is never made.
    result: dict[str, Any] = create_app(settings_for(Path("unused"))).openapi()
    return result


def _body(document: dict[str, Any], path: str) -> dict[str, Any]:
    body: dict[str, Any] = document["paths"][path]["post"]["requestBody"]
    return body


@pytest.mark.parametrize("prefix", ROUTE_PREFIXES)
@pytest.mark.parametrize("route", list(MEDIA_TYPES))
def test_each_route_declares_a_required_body_in_the_media_types_its_handler_reads(
    document: dict[str, Any], prefix: str, route: str
) -> None:
    body = _body(document, prefix + route)
    assert body["required"] is True
    assert set(body["content"]) == MEDIA_TYPES[route]


@pytest.mark.parametrize(("route", "kind"), list(FIELDS))
def test_the_declared_fields_are_the_fields_the_handler_reads(
    document: dict[str, Any], route: str, kind: str
) -> None:
    schema = _body(document, "/v1" + route)["content"][kind]["schema"]
    assert set(schema["properties"]) == FIELDS[route, kind]
    assert schema["additionalProperties"] is False  # the handlers refuse unknown fields
    assert "prompt" in schema["required"]


def test_an_edit_needs_images_and_a_mask_is_never_valid(document: dict[str, Any]) -> None:
    content = _body(document, "/v1/images/edits")["content"]
    as_json = jsonschema.Draft202012Validator(content[JSON]["schema"])
    assert not as_json.is_valid({"prompt": "x"})
    assert not as_json.is_valid({"prompt": "x", "images": [{"image_url": "u"}] * 11})
    as_form = jsonschema.Draft202012Validator(content[MULTIPART]["schema"])
    assert as_form.is_valid({"prompt": "x", "image[]": ["png"]})
    assert not as_form.is_valid({"prompt": "x"})
    assert not as_form.is_valid({"prompt": "x", "image": ["png"], "mask": "png"})


@pytest.mark.parametrize(("route", "kind"), list(FIELDS))
def test_every_declared_schema_is_json_schema_and_its_example_fits(
    document: dict[str, Any], route: str, kind: str
) -> None:
    media = _body(document, "/v1" + route)["content"][kind]
    jsonschema.Draft202012Validator.check_schema(media["schema"])
    if "example" in media:
        jsonschema.validate(media["example"], media["schema"], cls=jsonschema.Draft202012Validator)


@pytest.fixture
def images_gateway(serve_gateway: Callable[..., Served]) -> Served:
    return serve_gateway(ImagePool(account_list=[account("acct-1")]))


@pytest.mark.parametrize("route", list(MEDIA_TYPES))
def test_the_gateway_accepts_each_json_example(
    document: dict[str, Any], images_gateway: Served, route: str
) -> None:
    example_body = _body(document, "/v1" + route)["content"][JSON]["example"]
    headers = {"Authorization": f"Bearer {API_KEY}"}
    answer = httpx.post(f"{images_gateway.url}/v1{route}", headers=headers, json=example_body, timeout=15)
    assert answer.status_code == 200, answer.text


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (9, 90, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def _form_parts(request: Any) -> dict[str, list[tuple[str | None, bytes]]]:
    """The multipart parts a client sent: name -> [(filename, content)]."""
    raw = b"Content-Type: " + request.headers["content-type"].encode() + b"\r\n\r\n" + request.read()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    parts: dict[str, list[tuple[str | None, bytes]]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(name, str) and isinstance(payload, bytes)
        parts.setdefault(name, []).append((part.get_filename(), payload))
    return parts


def _fits_form(schema: dict[str, Any], parts: dict[str, list[tuple[str | None, bytes]]]) -> None:
    """Each part is a declared field: a file where a file is declared, text in its enum elsewhere."""
    fields = schema["properties"]
    assert set(parts) <= set(fields) and set(schema["required"]) <= set(parts)
    for name, values in parts.items():
        field = fields[name]
        file_field = field.get("format") == "binary" or field.get("items", {}).get("format") == "binary"
        for filename, content in values:
            assert (filename is not None) == file_field, name
            if "enum" in field:
                assert content.decode() in [str(value) for value in field["enum"]], name


# The SDK marks its Sora helpers deprecated; they are what clients call.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_what_the_openai_sdk_sends_fits_the_declarations(
    document: dict[str, Any], images_gateway: Served
) -> None:
    client = images_gateway.client()
    content = {route: _body(document, "/v1" + route)["content"] for route in MEDIA_TYPES}

    generated = client.images.with_raw_response.generate(
        model="gemini-2.5-flash-imagen", prompt="a lighthouse", n=2, size="1536x1024", output_format="webp"
    )
    assert generated.http_response.status_code == 200
    sent = generated.http_request
    assert sent.headers["content-type"] == JSON
    jsonschema.validate(
        json.loads(sent.read()),
        content["/images/generations"][JSON]["schema"],
        cls=jsonschema.Draft202012Validator,
    )

    png = _png()
    edited = client.images.with_raw_response.edit(
        image=[("a.png", png, "image/png"), ("b.png", png, "image/png")], prompt="bluer", size="auto"
    )
    assert edited.http_response.status_code == 200
    parts = _form_parts(edited.http_request)
    assert len(parts["image[]"]) == 2
    _fits_form(content["/images/edits"][MULTIPART]["schema"], parts)

    video = client.videos.with_raw_response.create(
        prompt="a paper boat",
        model="gemini-2.5-pro-video",
        seconds="8",
        size="720x1280",
        input_reference=("ref.png", png, "image/png"),
    )
    assert video.http_response.status_code == 200
    _fits_form(content["/videos"][MULTIPART]["schema"], _form_parts(video.http_request))


def _accepted(size: str) -> bool:
    try:
        aspect_ratio(size)
    except InvalidRequest:
        return False
    return True


_ASCII = st.characters(min_codepoint=0x09, max_codepoint=0x7E) | st.sampled_from("×")


@given(
    st.from_regex(SIZE_PATTERN)
    | st.from_regex(r"\A\s*[0-9]{1,6}\s*[xX×]\s*[0-9]{1,6}\s*\Z")
    | st.text(_ASCII, max_size=12)
)
@example("auto")
@example(" AuTo\n")
@example("00000x5")
@example("123456x1")
@example("1024 × 768")
@example("")
def test_the_declared_size_pattern_matches_what_the_handler_accepts(size: str) -> None:
    """ASCII digits only: the handler's ``\\d`` also reads other scripts' digits, the schema does not."""
    assert (re.search(SIZE_PATTERN, size) is not None) == _accepted(size)
