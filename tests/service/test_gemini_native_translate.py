"""The Gemini-native door's translation, without a server: Google's request to the chat request,
chat answers and chunks to Google's response and SSE chunks, and Google's error envelope."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from service.chat.protocol import (
    ChatCompletionChunk,
    ChatCompletionResponse,
    Choice,
    ChunkChoice,
    Delta,
    ImagePart,
    ResponseMessage,
    TextPart,
    Usage,
)
from service.errors import AuthenticationFailed, InvalidRequest, ModelNotFound, UpstreamTimedOut
from service.gemini_native.errors import google_error_response
from service.gemini_native.stream import gemini_chunks
from service.gemini_native.think_tags import ThinkStripper, strip_think
from service.gemini_native.translate import chat_request, from_chat, json_schema
from service.gemini_native.wire import GenerateContentRequest


def request(**body: Any) -> GenerateContentRequest:
    body.setdefault("contents", [{"role": "user", "parts": [{"text": "hi"}]}])
    return GenerateContentRequest.model_validate(body)


def test_roles_system_and_generation_config_are_translated() -> None:
    chat = chat_request(
        "gemini-2.5-flash",
        request(
            systemInstruction={"parts": [{"text": "be brief"}, {"text": "be kind"}]},
            contents=[
                {"role": "user", "parts": [{"text": "q1"}]},
                {"role": "model", "parts": [{"text": "a1"}]},
                {"parts": [{"text": "q2"}, {"inlineData": {"mimeType": "image/png", "data": "AAAA"}}]},
            ],
            generationConfig={"maxOutputTokens": 7, "stopSequences": ["END"], "temperature": 0.3},
        ),
        stream=False,
    )
    assert [message.role for message in chat.messages] == ["system", "user", "assistant", "user"]
    assert chat.messages[0].content == "be brief\n\nbe kind"
    last = chat.messages[-1].content
    assert isinstance(last, list) and isinstance(last[0], TextPart) and isinstance(last[1], ImagePart)
    assert last[1].image_url.url == "data:image/png;base64,AAAA"
    assert (chat.max_tokens, chat.stop, chat.temperature, chat.stream) == (7, ["END"], 0.3, False)
    assert chat_request("m", request(), stream=True).include_usage


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"safetySettings": [{"category": "HARM_CATEGORY_HATE_SPEECH"}]}, "safetySettings: the web app"),
        ({"cachedContent": "cachedContents/abc"}, "cachedContent: there is no context caching"),
        ({"generationConfig": {"candidateCount": 2}}, "candidateCount must be 1"),
        ({"tools": [{"googleSearch": {}}]}, r"tools\[0\]\.googleSearch is not supported"),
        ({"tools": [{"functionDeclarations": []}, {"codeExecution": {}}]}, r"tools\[1\]\.codeExecution"),
        ({"tools": [{"urlContext": {}}]}, "urlContext"),
        ({"contents": [{"role": "user", "parts": [{"functionCall": {"name": "f"}}]}]}, "model turn"),
        ({"contents": [{"role": "user", "parts": [{"fileData": {"fileUri": "x"}}]}]}, "Files API"),
        (
            {
                "contents": [
                    {"parts": [{"fileData": {"fileUri": "https://h/a.mp4", "mimeType": "video/mp4"}}]}
                ]
            },
            "image",
        ),
        ({"contents": [{"parts": [{"functionResponse": {"name": "f", "response": {}}}]}]}, "no earlier"),
        ({"toolConfig": {"functionCallingConfig": {"mode": "ANY"}}}, "functionDeclarations"),
    ],
)
def test_fields_it_does_not_understand_are_refused(body: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidRequest, match=named):
        chat_request("m", request(**body), stream=False)


def test_what_gemini_cli_sends_back_is_read() -> None:
    """topK is range-checked and ignored as temperature is; a model turn's thought parts are skipped
    and its thoughtSignature accepted (Gemini CLI sends both back with its history)."""
    body = request(
        generationConfig={"topK": 64, "temperature": 1, "candidateCount": 1},
        contents=[
            {"role": "user", "parts": [{"text": "q"}]},
            {
                "role": "model",
                "parts": [
                    {"text": "pondering", "thought": True},
                    {"text": "answer", "thoughtSignature": "c2ln"},
                ],
            },
            {"role": "user", "parts": [{"text": "next"}]},
        ],
    )
    chat = chat_request("m", body, stream=False)
    said = chat.messages[1].content
    assert isinstance(said, list) and [part.text for part in said] == ["answer"]  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="topK"):
        request(generationConfig={"topK": 0})
    thoughts_only = request(
        contents=[
            {"role": "user", "parts": [{"text": "q"}]},
            {"role": "model", "parts": [{"text": "pondering", "thought": True}]},
            {"role": "user", "parts": [{"text": "next"}]},
        ]
    )
    assert [m.role for m in chat_request("m", thoughts_only, stream=False).messages] == ["user", "user"]


def test_non_image_inline_data_is_refused() -> None:
    blob = {"inlineData": {"mimeType": "audio/wav", "data": "AAAA"}}
    with pytest.raises(InvalidRequest, match="image"):
        chat_request("m", request(contents=[{"parts": [blob]}]), stream=False)


def test_answer_shape_and_finish_reasons() -> None:
    answer = ChatCompletionResponse(
        id="chatcmpl-x",
        model="gemini-2.5-flash",
        served_model="3.5 Flash",
        choices=[Choice(message=ResponseMessage(content="hello"), finish_reason="length")],
        usage=Usage(prompt_tokens=2, completion_tokens=3, total_tokens=5),
    )
    assert from_chat(answer).dump() == {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": "hello"}]},
                "finishReason": "MAX_TOKENS",
                "index": 0,
            }
        ],
        "usageMetadata": {"promptTokenCount": 2, "candidatesTokenCount": 3, "totalTokenCount": 5},
        "modelVersion": "3.5 Flash",
        "responseId": "chatcmpl-x",
    }


def chunk(delta: Delta, finish: str | None = None, usage: Usage | None = None) -> ChatCompletionChunk:
    choices = [] if usage else [ChunkChoice(delta=delta, finish_reason=finish)]  # type: ignore[arg-type]
    return ChatCompletionChunk(id="c", created=0, model="m", choices=choices, usage=usage)


async def test_stream_chunks_fold_usage_into_the_last() -> None:
    async def chat_chunks() -> AsyncIterator[ChatCompletionChunk]:
        yield chunk(Delta(role="assistant", content=""))
        yield chunk(Delta(content="Hel"))
        yield chunk(Delta(content="lo"))
        yield chunk(Delta(), finish="stop")
        yield chunk(Delta(), usage=Usage(prompt_tokens=1, completion_tokens=2, total_tokens=3))

    out = [item.dump() async for item in gemini_chunks(chat_chunks())]
    assert [item["candidates"][0]["content"]["parts"][0]["text"] for item in out] == ["Hel", "lo", ""]
    assert [item["candidates"][0].get("finishReason") for item in out] == [None, None, "STOP"]
    assert "usageMetadata" not in out[0] and out[-1]["usageMetadata"]["totalTokenCount"] == 3


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (InvalidRequest("bad"), 400, "INVALID_ARGUMENT"),
        (AuthenticationFailed(), 401, "UNAUTHENTICATED"),
        (ModelNotFound("x"), 404, "NOT_FOUND"),
        (UpstreamTimedOut("slow"), 504, "DEADLINE_EXCEEDED"),
        (RuntimeError("secret detail"), 500, "INTERNAL"),
    ],
)
def test_google_error_envelope(error: Exception, code: int, status: str) -> None:
    response = google_error_response(error)
    body = json.loads(bytes(response.body))
    assert response.status_code == code
    assert body["error"]["code"] == code and body["error"]["status"] == status
    assert "secret" not in body["error"]["message"]


@pytest.mark.parametrize(
    ("thinking", "effort"),
    [
        ({"thinkingLevel": "HIGH"}, "high"),
        ({"thinkingLevel": "MINIMAL", "thinkingBudget": 30000}, "minimal"),
        ({"thinkingBudget": 0}, "none"),
        ({"thinkingBudget": 512}, "low"),
        ({"thinkingBudget": 4096}, "medium"),
        ({"thinkingBudget": 24576}, "high"),
        ({"thinkingBudget": -1}, None),
        ({"includeThoughts": True}, None),
    ],
)
def test_thinking_config_becomes_a_reasoning_effort(thinking: dict[str, Any], effort: str | None) -> None:
    chat = chat_request("m", request(generationConfig={"thinkingConfig": thinking}), stream=False)
    assert chat.reasoning_effort == effort


def test_thoughts_are_a_thought_part_only_when_asked_for() -> None:
    message = ResponseMessage(content="answer", reasoning_content="pondering")
    answer = ChatCompletionResponse(
        model="m",
        choices=[Choice(message=message)],
        usage=Usage(prompt_tokens=1, completion_tokens=1, total_tokens=2),
    )
    assert from_chat(answer).dump()["candidates"][0]["content"]["parts"] == [{"text": "answer"}]
    parts = from_chat(answer, include_thoughts=True).dump()["candidates"][0]["content"]["parts"]
    assert parts == [{"text": "pondering", "thought": True}, {"text": "answer"}]


def test_snake_case_fields_are_read_as_google_reads_them() -> None:
    body = request(
        system_instruction={"parts": [{"text": "sys"}]},
        generation_config={"max_output_tokens": 9, "thinking_config": {"thinking_level": "LOW"}},
    )
    chat = chat_request("m", body, stream=False)
    assert (chat.messages[0].content, chat.max_tokens, chat.reasoning_effort) == ("sys", 9, "low")


def test_google_schema_becomes_json_schema() -> None:
    schema = {
        "type": "OBJECT",
        "propertyOrdering": ["tags", "note"],
        "properties": {
            "tags": {"type": "ARRAY", "items": {"type": "STRING", "enum": ["a", "b"]}},
            "note": {"type": "STRING", "nullable": True},
        },
        "required": ["tags"],
    }
    assert json_schema(schema) == {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
            "note": {"type": ["string", "null"]},
        },
        "required": ["tags"],
    }


@pytest.mark.parametrize(
    ("config", "kind"),
    [
        ({"responseMimeType": "application/json"}, "json_object"),
        ({"responseMimeType": "application/json", "responseSchema": {"type": "STRING"}}, "json_schema"),
        ({"responseMimeType": "application/json", "responseJsonSchema": {"type": "string"}}, "json_schema"),
        ({"responseMimeType": "text/plain"}, None),
    ],
)
def test_response_mime_type_becomes_a_response_format(config: dict[str, Any], kind: str | None) -> None:
    chat = chat_request("m", request(generationConfig=config), stream=False)
    assert (chat.response_format.type if chat.response_format else None) == kind


@pytest.mark.parametrize(
    "config",
    [
        {"responseSchema": {"type": "STRING"}},
        {"responseMimeType": "text/x.enum"},
        {"responseMimeType": "application/json", "responseSchema": {}, "responseJsonSchema": {}},
    ],
)
def test_response_formats_it_cannot_honour_are_refused(config: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest):
        chat_request("m", request(generationConfig=config), stream=False)


@pytest.mark.parametrize(
    "deltas",
    [
        ["<think>\nhmm", " more", "\n</think>\n\n", "Hello", " world"],
        ["<thi", "nk>\nhmm\n</th", "ink>", "\n\nHello world"],
        ["<think>\nhmm\n</think>\n\nHello world"],
    ],
)
def test_a_leading_think_block_is_taken_out_of_streamed_text(deltas: list[str]) -> None:
    stripper = ThinkStripper()
    assert "".join(stripper.feed(delta) for delta in deltas) + stripper.finish() == "Hello world"
    assert strip_think("".join(deltas)) == "Hello world"


@pytest.mark.parametrize("deltas", [["<b>bold</b>", " text"], ["<th", "ree> is"], ["plain"]])
def test_text_without_a_think_block_is_untouched(deltas: list[str]) -> None:
    stripper = ThinkStripper()
    assert "".join(stripper.feed(delta) for delta in deltas) + stripper.finish() == "".join(deltas)


async def test_stream_under_think_tags_sends_the_text_alone() -> None:
    async def chat_chunks() -> AsyncIterator[ChatCompletionChunk]:
        yield chunk(Delta(role="assistant", content=""))
        yield chunk(Delta(content="<think>\nhm"))
        yield chunk(Delta(content="m\n</think>\n\nHi"))
        yield chunk(Delta(), finish="stop")

    out = [item.dump() async for item in gemini_chunks(chat_chunks(), think_tags=True)]
    assert "".join(item["candidates"][0]["content"]["parts"][0]["text"] for item in out) == "Hi"


def test_function_history_pairs_responses_with_their_calls() -> None:
    body = request(
        tools=[{"functionDeclarations": [{"name": "f", "parameters": {"type": "OBJECT"}}, {"name": "g"}]}],
        toolConfig={"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["f"]}},
        contents=[
            {"role": "user", "parts": [{"text": "go"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {"a": 1}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {"r": 2}}}]},
        ],
    )
    chat = chat_request("m", body, stream=False)
    assert [tool.function.name for tool in chat.tools or []] == ["f"]
    assert chat.tools and chat.tools[0].function.parameters == {"type": "object"}
    assert chat.tool_choice is not None and chat.tool_choice.function.name == "f"
    _, said, result = chat.messages
    (call,) = said.tool_calls or []
    assert (call.function.name, call.function.arguments) == ("f", '{"a": 1}')
    assert (result.role, result.tool_call_id, result.content) == ("tool", call.id, '{"r": 2}')


def test_file_data_image_is_an_image_url() -> None:
    part = {"fileData": {"fileUri": "https://example.test/a.png", "mimeType": "image/png"}}
    chat = chat_request("m", request(contents=[{"parts": [{"text": "see"}, part]}]), stream=False)
    content = chat.messages[0].content
    assert isinstance(content, list) and isinstance(content[1], ImagePart)
    assert content[1].image_url.url == "https://example.test/a.png"


async def test_think_tags_thoughts_are_counted_apart() -> None:
    said = "<think>\n" + "t" * 40 + "</think>\n\nHi there"
    answer = ChatCompletionResponse(
        model="m",
        choices=[Choice(message=ResponseMessage(content=said))],
        usage=Usage(prompt_tokens=1, completion_tokens=14, total_tokens=15),
    )
    usage = from_chat(answer, think_tags=True).dump()["usageMetadata"]
    assert (usage["thoughtsTokenCount"], usage["candidatesTokenCount"], usage["totalTokenCount"]) == (
        11,
        3,
        15,
    )

    async def chat_chunks() -> AsyncIterator[ChatCompletionChunk]:
        yield chunk(Delta(content=said[:20]))
        yield chunk(Delta(content=said[20:]))
        yield chunk(Delta(), finish="stop")
        yield chunk(Delta(), usage=Usage(prompt_tokens=1, completion_tokens=14, total_tokens=15))

    out = [item.dump() async for item in gemini_chunks(chat_chunks(), think_tags=True)]
    assert out[-1]["usageMetadata"]["thoughtsTokenCount"] == 11  # "\n" and 40 characters
