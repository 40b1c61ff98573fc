"""The Images API end to end: the official openai SDK (and the seed's multipart curl, sent with
httpx) against uvicorn, the real pool on Chromium and the simulator."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import openai
import pytest
from numpy.typing import NDArray
from PIL import Image

from service.watermark import save_alpha_map
from simulator.images import unmarked_pixels
from simulator.watermark import alpha_map
from tests.e2e.conftest import KEY_A, Stack, marker, running_stack

MODEL = "gemini-2.5-flash-imagen"
AUTH = {"Authorization": f"Bearer {KEY_A}"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A paid-and-free stack whose data directory holds the simulator mark's alpha maps (what
    ``python -m service watermark calibrate`` would store)."""
    data_dir = tmp_path_factory.mktemp("e2e-images")
    for size in (48, 96):
        save_alpha_map(data_dir, alpha_map(size))
    with running_stack(data_dir, ("paid", "free")) as running:
        yield running


def png(colour: tuple[int, int, int], size: int = 24) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def pixels(data: bytes) -> NDArray[np.int16]:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def b64(item: object) -> bytes:
    encoded = getattr(item, "b64_json", None)
    assert isinstance(encoded, str)
    return base64.b64decode(encoded)


def edit_expected(prompt: str, inputs: list[bytes], width: int, height: int) -> NDArray[np.int16]:
    """The simulator's edit result for these inputs (docs/simulator-contract.md: seeded by the
    prompt and every input's sha256), computed here from what the test sent."""
    digests = ",".join(hashlib.sha256(data).hexdigest() for data in inputs)
    return unmarked_pixels(f"edit:{prompt}:{digests}", width, height).astype(np.int16)


def test_generate_b64_json_with_the_sdk(stack: Stack) -> None:
    word = marker()
    result = stack.client().images.generate(model=MODEL, prompt=f"a lighthouse {word}", size="1792x1024")
    assert result.data and len(result.data) == 1
    image = Image.open(io.BytesIO(b64(result.data[0])))
    assert image.format == "PNG" and image.size == (1024, 576)  # the preview, re-encoded as PNG
    assert result.size == "1024x576" and result.output_format == "png"
    assert result.data[0].revised_prompt and "Here are the images" in result.data[0].revised_prompt
    entry = stack.requests_with(word)[-1]
    assert entry["prompt"] == f"a lighthouse {word}\n\nAspect ratio 16:9."
    assert result.usage is not None and result.usage.total_tokens > 0


def test_generate_url_and_jpeg_output(stack: Stack) -> None:
    result = stack.client().images.generate(
        model=MODEL, prompt=f"a kite {marker()}", response_format="url", output_format="jpeg"
    )
    assert result.data and result.data[0].url and result.data[0].b64_json is None
    download = httpx.get(result.data[0].url, timeout=20)
    assert download.status_code == 200 and download.content[:3] == b"\xff\xd8\xff"
    assert result.output_format == "jpeg"


def test_n_takes_further_turns(stack: Stack) -> None:
    word = marker()
    result = stack.client().images.generate(model=MODEL, prompt=f"a fox {word}", n=3)
    assert result.data is not None and len(result.data) == 3
    assert len({b64(item) for item in result.data}) == 3  # three different images
    # One answer gives one or two images, so three images took two or three turns, never more.
    assert 2 <= len(stack.requests_with(word)) <= 3


@pytest.mark.parametrize("count", [1, 2])
def test_edit_with_the_sdk_uses_every_input(stack: Stack, count: int) -> None:
    inputs = [png((200, 30, 30)), png((30, 30, 200))][:count]
    prompt = f"unmarked: blend them {marker()}"
    files = [(f"in{i}.png", data, "image/png") for i, data in enumerate(inputs)]
    result = stack.client().images.edit(
        model=MODEL,
        prompt=prompt,
        image=files if count > 1 else files[0],
        size="1024x1024",
        extra_body={"return_origin_image": True},
    )
    assert result.data and len(result.data) == 1
    got = pixels(b64(result.data[0]))
    assert got.shape == (2048, 2048, 3)
    assert (got == edit_expected(f"{prompt}\n\nAspect ratio 1:1.", inputs, 2048, 2048)).all()
    entry = stack.requests_with(prompt)[-1]
    assert [item["sha256"] for item in entry["files"]] == [hashlib.sha256(d).hexdigest() for d in inputs]


def test_origin_true_and_false_give_different_pixel_sizes(stack: Stack) -> None:
    prompt = f"a tower {marker()}, aspect ratio 1:1"
    client = stack.client()
    preview = client.images.generate(model=MODEL, prompt=prompt)
    origin = client.images.generate(model=MODEL, prompt=prompt, extra_body={"return_origin_image": True})
    assert preview.data and origin.data
    assert Image.open(io.BytesIO(b64(preview.data[0]))).size == (1024, 1024)
    assert Image.open(io.BytesIO(b64(origin.data[0]))).size == (2048, 2048)
    # The original came the page's way: c8o8Fe answered from inside the page (not only a suffix).
    rpcs = httpx.get(f"{stack.sim_url}/_sim/rpcs", timeout=10).json()
    full_size = [entry for entry in rpcs if entry["rpcid"] == "c8o8Fe"]
    assert full_size and full_size[-1]["outcome"] == "ok", full_size[-1:]


def test_remove_watermark_cleans_the_corner_and_leaves_the_rest(stack: Stack) -> None:
    red = png((180, 60, 20))
    prompt = f"repaint it {marker()}"
    response = httpx.post(
        f"{stack.url}/v1/images/edits",
        headers=AUTH,
        files=[("image[]", ("a.png", red, "image/png"))],
        data={"prompt": prompt, "model": MODEL, "return_origin_image": "yes", "remove_watermark": "1"},
        timeout=90,
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-watermark"].startswith("found; geometry=96px@64")
    cleaned = pixels(base64.b64decode(response.json()["data"][0]["b64_json"]))
    height, width = cleaned.shape[:2]
    plain = edit_expected(prompt, [red], width, height)
    box = (slice(height - 160, height - 64), slice(width - 160, width - 64))
    outside = np.ones((height, width), dtype=bool)
    outside[box] = False
    assert (cleaned[outside] == plain[outside]).all()  # untouched outside the mark
    assert np.abs(cleaned[box] - plain[box]).max() <= 3  # the corner matches the unmarked image


def test_seed_curl_generation_and_edit(stack: Stack) -> None:
    """The seed's exact curl: multipart fields, booleans as the strings "true"."""
    generated = httpx.post(
        f"{stack.url}/gemini_official/v1/images/generations",
        headers=AUTH,
        files={
            "prompt": (None, "a cat"),
            "model": (None, "gemini-2.5-flash-imagen"),
            "return_origin_image": (None, "true"),
            "remove_watermark": (None, "true"),
        },
        timeout=90,
    )
    assert generated.status_code == 200, generated.text
    assert "x-watermark" in generated.headers
    data = base64.b64decode(generated.json()["data"][0]["b64_json"])
    assert max(Image.open(io.BytesIO(data)).size) == 2048
    edited = httpx.post(
        f"{stack.url}/gemini_official/v1/images/edits",
        headers=AUTH,
        files=[
            ("image[]", ("a.png", png((10, 200, 10)), "image/png")),
            ("image[]", ("b.png", png((10, 10, 200)), "image/png")),
            ("prompt", (None, f"put them together {marker()}")),
        ],
        timeout=90,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["data"][0]["b64_json"]


def test_streaming_events(stack: Stack) -> None:
    events = list(stack.client().images.generate(model=MODEL, prompt=f"a moon {marker()}", stream=True))
    assert [event.type for event in events] == ["image_generation.completed"]
    assert Image.open(io.BytesIO(base64.b64decode(events[0].b64_json))).format == "PNG"
    edits = list(
        stack.client().images.edit(
            model=MODEL, prompt=f"a sun {marker()}", image=("a.png", png((1, 2, 3)), "image/png"), stream=True
        )
    )
    assert [event.type for event in edits] == ["image_edit.completed"]
    with httpx.stream(
        "POST",
        f"{stack.url}/v1/images/generations",
        headers=AUTH,
        json={"prompt": f"a star {marker()}", "stream": True},
        timeout=90,
    ) as raw:
        first = next(raw.iter_text())
    assert first.startswith(": keep-alive")  # the stream opens before Gemini has answered


def _error(response: httpx.Response, status: int, param: str | None) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["param"] == param
    message: str = error["message"]
    return message


def test_every_error_is_a_clear_4xx_and_the_service_keeps_serving(stack: Stack) -> None:
    url = f"{stack.url}/v1/images"
    gen = f"{url}/generations"
    assert "empty" in _error(httpx.post(gen, headers=AUTH, json={"prompt": "  "}), 400, "prompt")
    _error(httpx.post(gen, headers=AUTH, json={"prompt": "x", "model": "nope"}), 404, "model")
    _error(httpx.post(gen, headers=AUTH, json={"prompt": "x", "model": "gemini-2.5-flash"}), 400, "model")
    _error(httpx.post(gen, headers=AUTH, json={"prompt": "x", "n": 5}), 400, "n")
    _error(httpx.post(gen, headers=AUTH, files={"prompt": (None, "x"), "n": (None, "0")}), 400, "n")
    edit = f"{url}/edits"
    text_file = [("image", ("notes.png", b"not an image at all", "image/png"))]
    assert "not an image" in _error(
        httpx.post(edit, headers=AUTH, files=text_file, data={"prompt": "x"}), 400, "image"
    )
    eleven = [("image[]", (f"{i}.png", png((i, i, i)), "image/png")) for i in range(11)]
    too_many = httpx.post(edit, headers=AUTH, files=eleven, data={"prompt": "x"})
    assert "At most 10" in _error(too_many, 400, "image")
    masked = [
        ("image", ("a.png", png((1, 1, 1)), "image/png")),
        ("mask", ("m.png", png((0, 0, 0)), "image/png")),
    ]
    assert "not supported" in _error(
        httpx.post(edit, headers=AUTH, files=masked, data={"prompt": "x"}), 400, "mask"
    )
    huge = [("image", ("big.png", b"\x89PNG" + b"\0" * (2 * 1024 * 1024), "image/png"))]
    assert httpx.post(edit, headers=AUTH, files=huge, data={"prompt": "x"}, timeout=30).status_code == 413
    with pytest.raises(openai.BadRequestError):
        stack.client().images.generate(model=MODEL, prompt="")
    assert stack.client().images.generate(model=MODEL, prompt=f"still serving {marker()}").data


def test_a_free_account_whose_menu_offers_create_image_serves_images(tmp_path: Path) -> None:
    """Free accounts have Create image in 2026 (fidelity.md D8): no tier rule stands in the way."""
    with running_stack(tmp_path / "data", ("free",)) as free:
        word = marker()
        result = free.client().images.generate(model=MODEL, prompt=f"a free cat {word}")
        assert result.data and result.data[0].b64_json
        (entry,) = free.requests_with(word)
        assert (entry["account"], entry["tool"]) == ("free", 14)


def test_imagen_through_chat_completions(stack: Stack) -> None:
    client = stack.client()
    messages: list[Any] = [{"role": "user", "content": f"draw a fish {marker()}"}]
    content = client.chat.completions.create(model=MODEL, messages=messages).choices[0].message.content
    assert content and "Here are the images" in content
    urls = re.findall(r"!\[image \d\]\((\S+?)\)", content)
    assert urls and all(url.startswith("http") for url in urls)
    assert Image.open(io.BytesIO(httpx.get(urls[0], timeout=20).content)).format == "PNG"
    inline = (
        client.chat.completions.create(
            model=MODEL, messages=messages, extra_body={"image_delivery": "data_url"}
        )
        .choices[0]
        .message.content
    )
    assert inline and "](data:image/png;base64," in inline
    chunks = client.chat.completions.create(model=MODEL, messages=messages, stream=True)
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert "![image 1](http" in streamed
