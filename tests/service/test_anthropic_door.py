"""The Anthropic door's translation (Messages request → chat request, chat answer → message), its
event sequence fed with chat chunks, and its error middleware, without a page."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from service.anthropic.convert import chat_request, estimate_input_tokens, message_from_chat
from service.anthropic.errors import AnthropicErrors
from service.anthropic.events import MessageEvents, frame
from service.anthropic.protocol import MessagesRequest, TokenCountRequest
from service.chat.emulation import Outcome, emulation_for
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
from service.errors import InvalidRequest


def request(**fields: Any) -> MessagesRequest:
    body: dict[str, Any] = {
        "model": "gemini-2.5-flash",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "hi"}],
    }
    return MessagesRequest.model_validate(body | fields)


def test_system_blocks_limits_and_metadata_reach_the_chat_request() -> None:
    chat = chat_request(
        request(
            system=[{"type": "text", "text": "Be brief."}, {"type": "text", "text": "Be kind."}],
            messages=[
                {"role": "user", "content": [{"type": "text", "text": "one"}]},
                {"role": "assistant", "content": "two"},
                {"role": "user", "content": "three"},
            ],
            stop_sequences=["END"],
            temperature=0.5,
            metadata={"user_id": "u-1"},
        ),
        stream=True,
    )
    assert [m.role for m in chat.messages] == ["system", "user", "assistant", "user"]
    assert chat.messages[0].content == "Be brief.\n\nBe kind."
    assert chat.max_tokens == 100 and chat.stop == ["END"] and chat.user == "u-1"
    assert chat.stream and chat.include_usage
    assert chat.reasoning_effort is None


@pytest.mark.parametrize(("budget", "effort"), [(1024, "low"), (8000, "medium"), (16384, "high")])
def test_thinking_budget_picks_a_level(budget: int, effort: str) -> None:
    chat = chat_request(request(thinking={"type": "enabled", "budget_tokens": budget}))
    assert chat.reasoning_effort == effort


def test_image_block_becomes_a_data_url_part() -> None:
    block = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}
    chat = chat_request(
        request(messages=[{"role": "user", "content": [block, {"type": "text", "text": "what?"}]}])
    )
    image, text = chat.messages[0].content  # type: ignore[misc]
    assert isinstance(image, ImagePart) and image.image_url.url == "data:image/png;base64,AAAA"
    assert isinstance(text, TextPart)


def test_a_block_not_served_is_refused_by_its_place() -> None:
    tool = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "x"}}
    with pytest.raises(InvalidRequest) as refused:
        chat_request(request(messages=[{"role": "user", "content": [{"type": "text", "text": "a"}, tool]}]))
    assert refused.value.param == "messages[0].content[1]"


def test_only_empty_messages_are_a_clear_400_not_a_server_error() -> None:
    """Anthropic's shape lets an empty content list through; a chat needs a message (found by
    schemathesis as a 500)."""
    body = MessagesRequest.model_validate(
        {"model": "gemini-2.5-flash", "max_tokens": 8, "messages": [{"role": "user", "content": []}]}
    )
    with pytest.raises(InvalidRequest) as refused:
        chat_request(body)
    assert refused.value.message.startswith("messages:") and refused.value.param == "messages"


def test_count_tokens_counts_the_folded_prompt() -> None:
    short = estimate_input_tokens(
        TokenCountRequest(model="m", messages=[{"role": "user", "content": "x" * 40}])
    )  # type: ignore[list-item]
    long = estimate_input_tokens(
        TokenCountRequest(model="m", messages=[{"role": "user", "content": "x" * 400}])
    )  # type: ignore[list-item]
    assert short == 10 and long == 100


@pytest.mark.parametrize(
    ("finish", "stop_reason"), [("stop", "end_turn"), ("length", "max_tokens"), ("tool_calls", "tool_use")]
)
def test_message_from_chat(finish: str, stop_reason: str) -> None:
    answer = ChatCompletionResponse(
        model="gemini-2.5-pro",
        choices=[
            Choice(message=ResponseMessage(content="Hello", reasoning_content="hmm"), finish_reason=finish)
        ],  # type: ignore[arg-type]
        usage=Usage(prompt_tokens=3, completion_tokens=2, total_tokens=5),
    )
    plain = message_from_chat(answer, request())
    assert plain["content"] == [{"type": "text", "text": "Hello"}]  # no thinking block unless asked for
    assert plain["stop_reason"] == stop_reason and plain["usage"] == {"input_tokens": 3, "output_tokens": 2}
    thinking = message_from_chat(answer, request(thinking={"type": "enabled", "budget_tokens": 2000}))
    assert [block["type"] for block in thinking["content"]] == ["thinking", "text"]
    assert thinking["content"][0]["thinking"] == "hmm" and thinking["content"][0]["signature"]


@pytest.mark.parametrize(
    ("text", "reason", "sequence", "shown"),
    [
        ("Turn 1 of chat, END here", "stop_sequence", "END", "Turn 1 of chat, "),
        ("one STOP two END", "stop_sequence", "STOP", "one "),  # the first in the text, not in the list
        ("no sequence at all", "end_turn", None, "no sequence at all"),
    ],
)
def test_stop_sequences_cut_by_the_chat_limits_name_the_one_that_cut(
    text: str, reason: str, sequence: str | None, shown: str
) -> None:
    """The door's request, read by the chat slice's own emulation (``service.chat.limits``): the
    outcome names the sequence, and the message says stop_sequence with it."""
    body = request(stop_sequences=["END", "STOP"])
    outcome = emulation_for(chat_request(body)).read(text, completed=True, retried=False)
    assert isinstance(outcome, Outcome) and outcome.content == shown
    choice = Choice(
        message=ResponseMessage(content=outcome.content),
        finish_reason=outcome.finish_reason,  # type: ignore[arg-type]
        stop_sequence=outcome.stop_sequence,
    )
    answer = ChatCompletionResponse(
        model="m", choices=[choice], usage=Usage(prompt_tokens=1, completion_tokens=1, total_tokens=2)
    )
    message = message_from_chat(answer, body)
    assert message["stop_reason"] == reason and message["stop_sequence"] == sequence
    assert "stop_sequence" not in answer.model_dump()["choices"][0]  # never in OpenAI's JSON


def test_a_budget_cut_after_a_stop_sequence_is_max_tokens_with_no_sequence() -> None:
    body = request(stop_sequences=["END"], max_tokens=2)
    outcome = emulation_for(chat_request(body)).read("a long answer then END", completed=True, retried=False)
    assert isinstance(outcome, Outcome)
    assert (outcome.finish_reason, outcome.stop_sequence) == ("length", None)


def test_streamed_message_delta_names_the_stop_sequence() -> None:
    events = MessageEvents(request(stop_sequences=["END"]))
    last = ChunkChoice(delta=Delta(), finish_reason="stop", stop_sequence="END")
    sent = events.start() + events.feed(chunk(content="Hi"))
    sent += events.feed(ChatCompletionChunk(id="c", created=0, model="m", choices=[last]))
    delta = next(event for event in sent + events.finish() if event["type"] == "message_delta")["delta"]
    assert delta == {"stop_reason": "stop_sequence", "stop_sequence": "END"}


def chunk(
    content: str | None = None, reasoning: str | None = None, finish: str | None = None
) -> ChatCompletionChunk:
    delta = Delta(content=content, reasoning_content=reasoning)
    return ChatCompletionChunk(
        id="c", created=0, model="m", choices=[ChunkChoice(delta=delta, finish_reason=finish)]
    )  # type: ignore[arg-type]


def test_event_sequence_with_thinking_then_text() -> None:
    events = MessageEvents(request(thinking={"type": "enabled", "budget_tokens": 2000}))
    sent = events.start()
    for piece in (
        chunk(reasoning="a"),
        chunk(reasoning="b"),
        chunk(content="Hel"),
        chunk(content="lo"),
        chunk(finish="length"),
    ):
        sent += events.feed(piece)
    usage = ChatCompletionChunk(
        id="c",
        created=0,
        model="m",
        choices=[],
        usage=Usage(prompt_tokens=7, completion_tokens=4, total_tokens=11),
    )
    sent += events.feed(usage) + events.finish()
    shape = [(e["type"], e.get("index"), e.get("delta", {}).get("type")) for e in sent]
    assert shape == [
        ("message_start", None, None),
        ("content_block_start", 0, None),
        ("content_block_delta", 0, "thinking_delta"),
        ("content_block_delta", 0, "thinking_delta"),
        ("content_block_delta", 0, "signature_delta"),
        ("content_block_stop", 0, None),
        ("content_block_start", 1, None),
        ("content_block_delta", 1, "text_delta"),
        ("content_block_delta", 1, "text_delta"),
        ("content_block_stop", 1, None),
        ("message_delta", None, None),
        ("message_stop", None, None),
    ]
    assert sent[-2]["delta"]["stop_reason"] == "max_tokens" and sent[-2]["usage"] == {"output_tokens": 4}
    assert frame(sent[-1]) == 'event: message_stop\ndata: {"type":"message_stop"}\n\n'


def test_thoughts_are_not_streamed_unless_thinking_was_asked_for() -> None:
    events = MessageEvents(request())
    sent = events.start() + events.feed(chunk(reasoning="private")) + events.finish()
    assert [e["type"] for e in sent] == [
        "message_start",
        "content_block_start",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert sent[1]["content_block"] == {"type": "text", "text": ""}


async def test_error_bodies_take_anthropic_shape_on_the_door_only() -> None:
    async def refuse(_: Any) -> JSONResponse:
        return JSONResponse(
            {"error": {"message": "No such model.", "type": "invalid_request_error"}}, status_code=404
        )

    inner = Starlette(
        routes=[
            Route("/v1/messages", refuse, methods=["POST"]),
            Route("/v1/chat/completions", refuse, methods=["POST"]),
        ]
    )
    app = AnthropicErrors(inner, prefixes=["/v1/messages"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        door = await http.post("/v1/messages")
        other = await http.post("/v1/chat/completions")
    assert door.status_code == 404
    assert door.json() == {"type": "error", "error": {"type": "not_found_error", "message": "No such model."}}
    assert int(door.headers["content-length"]) == len(door.content)
    assert json.loads(other.content)["error"]["type"] == "invalid_request_error"  # OpenAI's shape elsewhere


def test_tools_and_a_round_trip_become_the_chat_tools_emulation() -> None:
    chat = chat_request(
        request(
            tools=[{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object"}}],
            tool_choice={"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True},
            messages=[
                {"role": "user", "content": "Oslo?"},
                {
                    "role": "assistant",
                    "content": [
                        {
                            "type": "tool_use",
                            "id": "toolu_1",
                            "name": "get_weather",
                            "input": {"city": "Oslo"},
                        }
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "toolu_1",
                            "content": [{"type": "text", "text": "21C"}],
                        },
                        {"type": "text", "text": "Thanks"},
                    ],
                },
            ],
        )
    )
    assert chat.tools is not None and chat.tools[0].function.parameters == {"type": "object"}
    assert chat.tool_choice is not None and chat.parallel_tool_calls is False
    assert [m.role for m in chat.messages] == ["user", "assistant", "tool", "user"]
    call = chat.messages[1].tool_calls[0]  # type: ignore[index]
    assert call.id == "toolu_1" and json.loads(call.function.arguments) == {"city": "Oslo"}
    assert chat.messages[2].tool_call_id == "toolu_1" and chat.messages[2].content == "21C"


def test_streamed_tool_call_is_a_tool_use_block_with_input_json_deltas() -> None:
    from service.chat.compat_wire import FunctionCallDelta, ToolCallDelta

    def call(**fields: Any) -> ChatCompletionChunk:
        delta = Delta(tool_calls=[ToolCallDelta(**fields)])
        return ChatCompletionChunk(id="c", created=0, model="m", choices=[ChunkChoice(delta=delta)])

    events = MessageEvents(request())
    sent = events.start()
    sent += events.feed(
        call(index=0, id="call_1", type="function", function=FunctionCallDelta(name="f", arguments=""))
    )
    sent += events.feed(call(index=0, function=FunctionCallDelta(arguments='{"a":1}')))
    sent += events.feed(chunk(finish="tool_calls")) + events.finish()
    assert sent[1] == {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "tool_use", "id": "call_1", "name": "f", "input": {}},
    }
    assert sent[2]["delta"] == {"type": "input_json_delta", "partial_json": '{"a":1}'}
    assert [e["type"] for e in sent[3:]] == ["content_block_stop", "message_delta", "message_stop"]
    assert sent[4]["delta"]["stop_reason"] == "tool_use"


async def test_an_error_after_the_first_event_is_an_error_event() -> None:
    from collections.abc import AsyncIterator

    from service.anthropic.events import AnthropicEventStream
    from service.errors import UpstreamTimedOut

    async def chunks() -> AsyncIterator[ChatCompletionChunk]:
        yield chunk(content="Hel")
        raise UpstreamTimedOut("The answer stalled.")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        stream = AnthropicEventStream(chunks(), MessageEvents(request()), keep_alive=30, cleanup_timeout=1)
        await stream(scope, receive, send)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        answer = await http.post("/v1/messages")
    assert answer.status_code == 200
    frames = answer.text.strip().split("\n\n")
    assert [f.split("\n")[0] for f in frames] == [
        "event: message_start",
        "event: content_block_start",
        "event: content_block_delta",
        "event: error",
    ]
    assert json.loads(frames[-1].split("\n")[1][len("data: ") :]) == {
        "type": "error",
        "error": {"type": "api_error", "message": "The answer stalled."},
    }


async def test_a_stream_that_opens_early_reports_a_failure_before_its_first_chunk_as_an_event() -> None:
    from collections.abc import AsyncIterator

    from service.anthropic.events import AnthropicEventStream
    from service.errors import NoHealthyAccount

    async def chunks() -> AsyncIterator[ChatCompletionChunk]:
        raise NoHealthyAccount("No account can serve this model.")
        yield chunk()  # pragma: no cover - makes this an async generator

    async def app(scope: Any, receive: Any, send: Any) -> None:
        stream = AnthropicEventStream(
            chunks(), MessageEvents(request()), keep_alive=30, cleanup_timeout=1, opens_early=True
        )
        await stream(scope, receive, send)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        answer = await http.post("/v1/messages")
    assert answer.status_code == 200
    frames = answer.text.strip().split("\n\n")
    assert [f.split("\n")[0] for f in frames] == ["event: message_start", "event: error"]
    assert '"type":"overloaded_error"' in frames[-1]
