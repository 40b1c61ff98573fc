"""History folding, images from data: URLs, and oversized prompts as message.txt."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from service.chat.images import decode_data_url, sniff_image_type
from service.chat.inputs import (
    ATTACHED_PROMPT_NAME,
    FOLD_PREAMBLE,
    OVERSIZED_INSTRUCTION,
    fold_messages,
    prepare_prompt,
)
from service.chat.protocol import ChatMessage
from service.errors import InvalidRequest, PayloadTooLarge
from service.fetch import FetchPolicy

TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")
POLICY = FetchPolicy(timeout=2, max_bytes=100_000, allowed_types=TYPES)


def png_bytes(size: int = 4) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (200, 10, 10)).save(out, format="PNG")
    return out.getvalue()


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def msg(role: str, content: object) -> ChatMessage:
    return ChatMessage.model_validate({"role": role, "content": content})


def test_lone_user_message_is_sent_as_is() -> None:
    assert fold_messages([msg("user", "  Hi there\n")]) == "  Hi there\n"


def test_history_is_folded_into_role_tagged_blocks() -> None:
    folded = fold_messages(
        [
            msg("system", "Be brief."),
            msg("developer", "Use English."),
            msg("user", "Hi"),
            msg("assistant", "Hello!"),
            msg("user", [{"type": "text", "text": "What is"}, {"type": "text", "text": "2+2?"}]),
        ]
    )
    assert folded == (
        f"{FOLD_PREAMBLE}\n\n[System]\nBe brief.\n\n[System]\nUse English.\n\n[User]\nHi\n\n"
        "[Assistant]\nHello!\n\n[User]\nWhat is\n\n2+2?"
    )


def test_images_become_numbered_markers_across_messages() -> None:
    url = data_url(png_bytes())
    folded = fold_messages(
        [
            msg("user", [{"type": "image_url", "image_url": {"url": url}}, {"type": "text", "text": "a"}]),
            msg("assistant", "ok"),
            msg("user", [{"type": "text", "text": "b"}, {"type": "image_url", "image_url": {"url": url}}]),
        ]
    )
    assert "[User]\n[image 1]\n\na" in folded and "[User]\nb\n\n[image 2]" in folded


def test_data_url_decoding_sniffs_the_type() -> None:
    png = png_bytes()
    data, mime = decode_data_url(data_url(png, "image/jpeg"), max_bytes=100_000, allowed_types=TYPES)
    assert data == png and mime == "image/png" and sniff_image_type(png) == "image/png"


@pytest.mark.parametrize(
    "url",
    [
        "data:image/png,notbase64",
        "data:image/png;base64,@@@@",
        "data:text/plain;base64," + base64.b64encode(b"hello").decode(),
        "image/png;base64,AAAA",
    ],
)
def test_bad_data_urls_are_400_naming_messages(url: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        decode_data_url(url, max_bytes=100_000, allowed_types=TYPES)
    assert info.value.param == "messages"


def test_data_url_size_limit_before_and_after_decoding() -> None:
    big = png_bytes(64)
    with pytest.raises(PayloadTooLarge):
        decode_data_url(data_url(big), max_bytes=len(big) // 2, allowed_types=TYPES)
    with pytest.raises(PayloadTooLarge):
        decode_data_url(data_url(big), max_bytes=len(big) - 1, allowed_types=TYPES)
    assert decode_data_url(data_url(big), max_bytes=len(big), allowed_types=TYPES)[0] == big


async def test_prepare_prompt_loads_images_in_order() -> None:
    first, second = png_bytes(2), png_bytes(3)
    messages = [
        msg("user", [{"type": "image_url", "image_url": {"url": data_url(first)}}]),
        msg("assistant", "seen"),
        msg(
            "user",
            [{"type": "text", "text": "and"}, {"type": "image_url", "image_url": {"url": data_url(second)}}],
        ),
    ]
    prepared = await prepare_prompt(messages, policy=POLICY, max_images=5, max_prompt_bytes=10_000)
    assert [f.data for f in prepared.files] == [first, second]
    assert all(f.mime == "image/png" and f.name.endswith(".png") for f in prepared.files)
    with pytest.raises(InvalidRequest, match="At most 1 images"):
        await prepare_prompt(messages, policy=POLICY, max_images=1, max_prompt_bytes=10_000)


async def test_oversized_prompt_goes_as_message_txt() -> None:
    text = "é" * 600  # 1200 UTF-8 bytes, 600 characters: the limit counts bytes
    prepared = await prepare_prompt([msg("user", text)], policy=POLICY, max_images=5, max_prompt_bytes=1000)
    assert prepared.prompt == OVERSIZED_INSTRUCTION
    (attached,) = prepared.files
    assert attached.name == ATTACHED_PROMPT_NAME and attached.mime == "text/plain"
    assert attached.data.decode() == text
    assert prepared.text == text  # what Gemini reads (and usage counts), though it is not typed
    small = await prepare_prompt([msg("user", text)], policy=POLICY, max_images=5, max_prompt_bytes=1200)
    assert small.prompt == text and small.files == () and small.text == text
