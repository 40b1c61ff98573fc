"""OpenAI's common image fields, as the openai SDK sends them from a copied snippet (issue 18, item
8): accepted with OpenAI's values on generations and edits, applied where they map onto the page's
image (format and compression), and the one that cannot be honoured (a transparent background)
refused clearly."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable

import openai
import pytest
from PIL import Image

from tests.service.conftest import Served
from tests.service.image_pool import ImagePool
from tests.service.scripted_pool import account

COMMON = {"quality": "high", "moderation": "low", "background": "opaque"}


@pytest.fixture
def served(serve_gateway: Callable[..., Served]) -> Served:
    return serve_gateway(ImagePool(account_list=[account("acct-1")]))


def _image(b64: str | None) -> Image.Image:
    assert b64 is not None
    return Image.open(io.BytesIO(base64.b64decode(b64)))


def test_generation_takes_the_common_fields_and_applies_the_format(served: Served) -> None:
    result = served.client().images.generate(
        model="gemini-2.5-flash-imagen",
        prompt="a lighthouse",
        style="vivid",
        output_format="jpeg",
        output_compression=40,
        partial_images=0,
        safety_identifier="user-1234",
        **COMMON,  # type: ignore[arg-type]
    )
    assert result.output_format == "jpeg"
    assert result.data is not None and _image(result.data[0].b64_json).format == "JPEG"
    assert len(served.pool.requests) == 1


def test_streamed_generation_with_partial_images_sends_the_finished_image(served: Served) -> None:
    stream = served.client().images.generate(
        model="gemini-2.5-flash-imagen", prompt="a lighthouse", stream=True, partial_images=2, quality="low"
    )
    events = list(stream)
    assert [event.type for event in events] == ["image_generation.completed"]


def test_edit_takes_the_common_fields(served: Served) -> None:
    png = io.BytesIO()
    Image.new("RGB", (4, 4), (1, 2, 3)).save(png, format="PNG")
    result = served.client().images.edit(
        model="gemini-2.5-flash-imagen",
        prompt="make it night",
        image=("a.png", png.getvalue(), "image/png"),
        input_fidelity="high",
        output_format="webp",
        output_compression=80,
        quality="medium",
        background="auto",
        complexity="low",
        partial_images=0,
    )
    assert result.data is not None and _image(result.data[0].b64_json).format == "WEBP"


def test_a_transparent_background_is_refused_before_any_turn(served: Served) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        served.client().images.generate(
            model="gemini-2.5-flash-imagen", prompt="a logo", background="transparent", output_format="png"
        )
    assert refused.value.body["param"] == "background"  # type: ignore[index]
    assert "opaque" in refused.value.body["message"]  # type: ignore[index]
    assert served.pool.requests == []
