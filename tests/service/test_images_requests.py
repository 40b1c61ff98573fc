"""Images API requests refused at the HTTP level (scripted pool: nothing reaches a page), and the
size → aspect-ratio table."""

from __future__ import annotations

import io
from collections.abc import Callable

import httpx
import pytest
from PIL import Image

from browser import AccountState, Tool
from service.errors import InvalidRequest
from service.images.sizes import aspect_ratio, ratio_prompt
from tests.service.conftest import API_KEY, Served
from tests.service.image_pool import ImagePool
from tests.service.scripted_pool import ScriptedPool, account

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (9, 9, 9)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("size", "ratio"),
    [
        ("auto", None),
        (None, None),
        ("1024x1024", "1:1"),
        ("1536x1024", "3:2"),
        ("1024x1536", "2:3"),
        ("1792x1024", "16:9"),
        ("1024x1792", "9:16"),
        ("2560x1080", "21:9"),
        ("1000x800", "5:4"),
        ("800x1000", "4:5"),
        ("256x256", "1:1"),
    ],
)
def test_size_maps_to_the_nearest_gemini_ratio(size: str | None, ratio: str | None) -> None:
    assert aspect_ratio(size) == ratio


@pytest.mark.parametrize("size", ["big", "0x100", "100x", "12x34x56"])
def test_bad_size_is_a_400_naming_size(size: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        aspect_ratio(size)
    assert refused.value.param == "size"


def test_ratio_goes_into_the_prompt_in_words() -> None:
    assert ratio_prompt("a cat", "16:9") == "a cat\n\nAspect ratio 16:9."
    assert ratio_prompt("a cat", None) == "a cat"


def _post(served: Served, path: str, **kwargs: object) -> httpx.Response:
    return httpx.post(f"{served.url}/v1/images/{path}", headers=AUTH, timeout=10, **kwargs)  # type: ignore[arg-type]


def _refused(response: httpx.Response, status: int, param: str | None) -> dict[str, object]:
    assert response.status_code == status, response.text
    error: dict[str, object] = response.json()["error"]
    assert error["param"] == param and error["type"]
    return error


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"prompt": ""}, 400, "prompt"),
        ({"prompt": "x", "model": "gemini-9"}, 404, "model"),
        ({"prompt": "x", "model": "gemini-2.5-pro"}, 400, "model"),
        ({"prompt": "x", "n": 0}, 400, "n"),
        ({"prompt": "x", "n": 5}, 400, "n"),
        ({"prompt": "x", "size": "huge"}, 400, "size"),
        ({"prompt": "x", "response_format": "png"}, 400, "response_format"),
        ({"prompt": "x", "output_format": "bmp"}, 400, "output_format"),
        ({"prompt": "x", "output_compression": 101}, 400, "output_compression"),
        ({"prompt": "x", "quality": "ultra"}, 400, "quality"),
        ({"prompt": "x", "style": "cartoon"}, 400, "style"),
        ({"prompt": "x", "moderation": "none"}, 400, "moderation"),
        ({"prompt": "x", "background": "green"}, 400, "background"),
        ({"prompt": "x", "background": "transparent"}, 400, "background"),
        ({"prompt": "x", "output_compression": -1}, 400, "output_compression"),
        ({"prompt": "x", "unknown": 1}, 400, "unknown"),
        ({"prompt": "x", "return_origin_image": "maybe"}, 400, "return_origin_image"),
    ],
)
def test_generation_refusals(gateway: Served, body: dict[str, object], status: int, param: str) -> None:
    _refused(_post(gateway, "generations", json=body), status, param)
    assert gateway.pool.requests == []


@pytest.mark.parametrize("value", ["true", "false", "1", "0", "yes", "no"])
def test_form_booleans_are_read(serve_gateway: Callable[..., Served], value: str) -> None:
    # Valid booleans pass validation; true gets as far as the watermark's calibration, which fails
    # here (the scripted images are not the pure black ones calibration asks for).
    gateway = serve_gateway(ImagePool())
    response = _post(gateway, "generations", data={"prompt": "x", "remove_watermark": value})
    if value in ("true", "1", "yes"):
        assert "calibrate" in str(_refused(response, 400, "remove_watermark")["message"])
    else:
        assert response.status_code != 400


@pytest.mark.parametrize("kind", ["data", "json"])
def test_partial_images_are_read_from_a_form_and_out_of_range_refused(
    serve_gateway: Callable[..., Served], kind: str
) -> None:
    gateway = serve_gateway(ImagePool())

    # The openai SDK sends a multipart form for edits: ``partial_images=0`` arrives as the text "0".
    def post(value: object) -> httpx.Response:
        body = {"prompt": "x", "partial_images": value, "remove_watermark": "true"}
        return _post(gateway, "generations", **{kind: body})

    # Past validation, the request stops at the watermark's calibration (failing here): the value was read.
    for value in (0, 1, 3):
        assert "calibrate" in str(_refused(post(value), 400, "remove_watermark")["message"])
    turns = len(gateway.pool.requests)
    for value in (4, -1):
        _refused(post(value), 400, "partial_images")
    assert len(gateway.pool.requests) == turns


def test_edit_refusals(serve_gateway: Callable[..., Served]) -> None:
    served = serve_gateway(max_image_bytes=1000)
    png = _png()
    files = [("image", ("a.png", png, "image/png"))]
    _refused(_post(served, "edits", data={"prompt": "x"}), 400, "image")
    _refused(
        _post(served, "edits", files=[("image", ("a.txt", b"hello", "image/png"))], data={"prompt": "x"}),
        400,
        "image",
    )
    big = [("image", ("big.png", png + b"\0" * 2000, "image/png"))]
    _refused(_post(served, "edits", files=big, data={"prompt": "x"}), 413, "image")
    many = [("image[]", (f"{i}.png", png, "image/png")) for i in range(11)]
    _refused(_post(served, "edits", files=many, data={"prompt": "x"}), 400, "image")
    mask = [*files, ("mask", ("m.png", png, "image/png"))]
    assert "not supported" in str(
        _refused(_post(served, "edits", files=mask, data={"prompt": "x"}), 400, "mask")["message"]
    )
    _refused(_post(served, "edits", files=files, data={"prompt": " "}), 400, "prompt")
    bad_url = {"prompt": "x", "images": [{"image_url": "data:image/png;base64,!!!"}]}
    _refused(_post(served, "edits", json=bad_url), 400, "images")
    assert served.pool.requests == []


def test_no_page_offering_create_image_is_a_403_and_no_account_a_503(
    serve_gateway: Callable[..., Served],
) -> None:
    without = serve_gateway(ScriptedPool(account_list=[account(tier="paid", tools=frozenset({Tool.CANVAS}))]))
    error = _refused(_post(without, "generations", json={"prompt": "x"}), 403, "model")
    assert error["code"] == "not_offered" and "Create image" in str(error["message"])
    # A free account whose menu offers Create image serves it: no tier rule (fidelity.md D8).
    free = serve_gateway(ScriptedPool(account_list=[account(tier="free", tools=frozenset({Tool.IMAGE}))]))
    assert _post(free, "generations", json={"prompt": "x"}).status_code != 403
    assert [request.tool for request in free.pool.requests] == [Tool.IMAGE]
    gone = serve_gateway(ScriptedPool(account_list=[account(state=AccountState.FAILED)]))
    assert _post(gone, "generations", json={"prompt": "x"}).status_code == 503


def test_referenced_edit_images_share_the_request_byte_budget(serve_gateway: Callable[..., Served]) -> None:
    """JSON edits fetch their images before any lease: the admission's byte budget bounds them."""
    import base64

    png = _png()
    served = serve_gateway(image_request_bytes=len(png) + 10)
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    one = {"prompt": "x", "images": [{"image_url": url}], "model": "gemini-9"}
    # Within the budget the request gets past the images (and fails later, on the unknown model).
    assert _post(served, "edits", json=one).status_code == 404
    two = {**one, "images": [{"image_url": url}, {"image_url": url}]}
    _refused(_post(served, "edits", json=two), 413, "images")
    assert served.pool.requests == []
