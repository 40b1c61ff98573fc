"""What real clients sent that the gateway took silently (issue 18, items 2, 5 and 6), over real
HTTP on a ScriptedPool: each refusal is a 400 naming the field, answered before any page is driven
(the pool saw no turn), on chat, Responses and (where they apply) the images and videos routes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.service.conftest import API_KEY, Served
from tests.service.test_service_inputs import data_url, png_bytes

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
    refused(response, "input", gateway)


def test_a_real_image_is_still_uploaded_with_its_sniffed_type(gateway: Served) -> None:
    content = [{"type": "image_url", "image_url": {"url": data_url(png_bytes(), "image/jpeg")}}]
    response = post(
        gateway, "chat/completions", {"model": FLASH, "messages": [{"role": "user", "content": content}]}
    )
    assert response.status_code == 200, response.text
    (upload,) = gateway.pool.requests[0].attachments
    assert upload.mime == "image/png" and upload.data == png_bytes()


# Item 2: empty or whitespace-only user content is a 400 at once, on every route.
BLANKS = [
    pytest.param("", id="empty"),
    pytest.param("  \n\t ", id="whitespace"),
    pytest.param([{"type": "text", "text": " "}], id="blank-text-part"),
    pytest.param(None, id="null"),
]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("content", BLANKS)
def test_chat_refuses_a_blank_user_message(gateway: Served, content: Any, stream: bool) -> None:
    body = {"model": FLASH, "stream": stream, "messages": [{"role": "user", "content": content}]}
    refused(post(gateway, "chat/completions", body), "messages[0].content", gateway)


@pytest.mark.parametrize(
    "model", ["gemini-2.5-flash-imagen", "gemini-2.5-flash-canvas", "gemini-2.5-pro-deepsearch"]
)
def test_chat_refuses_a_blank_user_message_for_every_model(gateway: Served, model: str) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "First question"},
        {"role": "assistant", "content": "An answer"},
        {"role": "user", "content": "   "},
    ]
    refused(
        post(gateway, "chat/completions", {"model": model, "messages": messages}),
        "messages[3].content",
        gateway,
    )


def test_an_image_alone_is_content(gateway: Served) -> None:
    content = [
        {"type": "text", "text": "  "},
        {"type": "image_url", "image_url": {"url": data_url(png_bytes())}},
    ]
    response = post(
        gateway, "chat/completions", {"model": FLASH, "messages": [{"role": "user", "content": content}]}
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize(
    ("input_", "param"),
    [
        pytest.param("", "input", id="empty-string"),
        pytest.param(" \n ", "input", id="whitespace-string"),
        pytest.param([{"role": "user", "content": ""}], "input[0].content", id="empty-message"),
        pytest.param(
            [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": [{"type": "output_text", "text": "hello"}]},
                {"role": "user", "content": [{"type": "input_text", "text": "  "}]},
            ],
            "input[2].content",
            id="blank-parts",
        ),
    ],
)
def test_responses_refuse_blank_input(gateway: Served, input_: Any, param: str, stream: bool) -> None:
    refused(post(gateway, "responses", {"model": FLASH, "input": input_, "stream": stream}), param, gateway)


@pytest.mark.parametrize("prompt", ["", "   "])
def test_image_generation_refuses_a_blank_prompt(gateway: Served, prompt: str) -> None:
    refused(post(gateway, "images/generations", {"prompt": prompt}), "prompt", gateway)


def test_image_edit_refuses_a_blank_prompt_before_reading_its_images(gateway: Served) -> None:
    # The image URL would be fetched (and refused as private) if the prompt were not checked first.
    body = {"prompt": " ", "images": [{"image_url": "http://127.0.0.1:9/never-fetched.png"}]}
    refused(post(gateway, "images/edits", body), "prompt", gateway)
    files = {"image": ("a.png", png_bytes(), "image/png")}
    headers = {"Authorization": f"Bearer {API_KEY}"}
    form = httpx.post(f"{gateway.url}/v1/images/edits", data={"prompt": "\t"}, files=files, headers=headers)
    refused(form, "prompt", gateway)


def test_videos_refuse_a_blank_prompt(gateway: Served) -> None:
    refused(post(gateway, "videos", {"prompt": "  ", "model": "gemini-2.5-pro-video"}), "prompt", gateway)


# Item 5: sampling fields within OpenAI's ranges; token probabilities refused.
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("temperature", 3),
        ("temperature", -1),
        ("top_p", 2),
        ("top_p", -0.1),
        ("presence_penalty", 2.5),
        ("frequency_penalty", -3),
        ("logit_bias", {"50256": 101}),
        ("top_logprobs", 21),
    ],
)
def test_chat_refuses_sampling_values_out_of_range(gateway: Served, field: str, value: Any) -> None:
    body = {"model": FLASH, "messages": [{"role": "user", "content": "hi"}], field: value}
    message = refused(
        post(gateway, "chat/completions", body),
        field if field != "logit_bias" else "logit_bias.50256",
        gateway,
    )
    assert "should be" in message


def test_chat_accepts_sampling_values_at_the_edges(gateway: Served) -> None:
    edges = {"temperature": 2, "top_p": 0, "presence_penalty": -2, "frequency_penalty": 2, "seed": 7}
    body = {
        "model": FLASH,
        "messages": [{"role": "user", "content": "hi"}],
        **edges,
        "logit_bias": {"1": -100},
    }
    assert post(gateway, "chat/completions", body).status_code == 200


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"logprobs": True}, "logprobs"),
        ({"logprobs": True, "top_logprobs": 3}, "logprobs"),
        ({"top_logprobs": 2}, "top_logprobs"),
    ],
)
def test_chat_refuses_logprobs(gateway: Served, extra: dict[str, Any], param: str) -> None:
    body = {"model": FLASH, "messages": [{"role": "user", "content": "hi"}], **extra}
    message = refused(post(gateway, "chat/completions", body), param, gateway)
    assert "token probabilities" in message


def test_chat_takes_logprobs_false(gateway: Served) -> None:
    body = {
        "model": FLASH,
        "messages": [{"role": "user", "content": "hi"}],
        "logprobs": False,
        "top_logprobs": 0,
    }
    assert post(gateway, "chat/completions", body).status_code == 200


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"temperature": 3}, "temperature"),
        ({"top_p": 2}, "top_p"),
        ({"top_logprobs": 2}, "top_logprobs"),
        ({"include": ["message.output_text.logprobs"]}, "include"),
    ],
)
def test_responses_refuse_sampling_values_out_of_range_and_logprobs(
    gateway: Served, extra: dict[str, Any], param: str
) -> None:
    refused(post(gateway, "responses", {"model": FLASH, "input": "hi", **extra}), param, gateway)
