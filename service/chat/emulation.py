"""What a request asks of the answer beyond text, composed for serving: tool calls
(``service.chat.tools``), structured output (``.structured``) and limits (``.limits``).

Serving asks three things of an ``Emulation``: the messages to fold (instructions and tool turns
as text), ``visible(text)`` (what of a growing answer may be streamed as content), ``reached``
(the answer may be stopped on the page), and ``read(text)`` at the end: an ``Outcome``, or a
``Retry`` to ask once more in the same chat, or (after the retry) a clear ``UpstreamFailed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from service.chat.compat_wire import FunctionCallDelta, ToolCall, ToolCallDelta
from service.chat.limits import Limits, limits_of
from service.chat.protocol import ChatCompletionRequest, ChatMessage, Delta, ResponseMessage
from service.chat.structured import JsonMode, json_mode
from service.chat.tools import ToolMode, plain_messages, tool_mode
from service.errors import UpstreamFailed

__all__ = [
    "PLAIN",
    "Emulation",
    "Outcome",
    "Retry",
    "assistant_message",
    "call_deltas",
    "delivered",
    "emulation_for",
    "response_message",
]


@dataclass(frozen=True)
class Outcome:
    content: str | None
    finish_reason: str
    tool_calls: tuple[ToolCall, ...] = ()
    legacy: bool = False  # answer the call as ``function_call``
    stop_sequence: str | None = None  # the stop sequence that ended the answer (``Cut.sequence``)


@dataclass(frozen=True)
class Retry:
    prompt: str


@dataclass(frozen=True)
class Emulation:
    tools: ToolMode | None = None
    json: JsonMode | None = None
    limits: Limits = field(default_factory=Limits)

    def instructions(self) -> str | None:
        parts = [mode.instructions() for mode in (self.tools, self.json) if mode is not None]
        return "\n\n".join(parts) or None

    def prompt_messages(
        self, messages: Sequence[ChatMessage], context: Sequence[ChatMessage] = ()
    ) -> list[ChatMessage]:
        """``messages`` to fold, as plain text turns; ``context`` is the whole history."""
        if self.tools is None and self.json is None and not _has_tool_turns(messages):
            return list(messages)
        return plain_messages(messages, self.instructions(), context)

    def visible(self, text: str) -> str:
        if self.json is not None:
            return ""  # only the final valid document is delivered
        shown = self.tools.visible(text) if self.tools is not None else text
        return self.limits.visible(shown)

    def reached(self, text: str) -> bool:
        return self.limits.cut(text).reason is not None

    def read(self, text: str, *, completed: bool, retried: bool) -> Outcome | Retry:
        cut = self.limits.cut(text)
        plain_reason = cut.reason or ("stop" if completed else "length")
        parsed = self.tools.parse(cut.text) if self.tools is not None else None
        # With tools and a JSON format both, an answer without call blocks is read as the JSON.
        if (
            self.tools is not None
            and parsed is not None
            and (parsed.blocks or self.tools.forced or not self.json)
        ):
            if parsed.calls and (not parsed.problems or retried):
                reason = "function_call" if self.tools.legacy else "tool_calls"
                return Outcome(parsed.content or None, reason, tuple(parsed.calls), self.tools.legacy)
            if parsed.problems and not retried:
                return Retry(self.tools.retry_prompt(parsed.problems))
            if parsed.problems:
                raise UpstreamFailed(
                    "Gemini did not answer with a valid tool call, also when asked again: "
                    + "; ".join(parsed.problems),
                    code="invalid_tool_call",
                )
            content = parsed.content if parsed.blocks else cut.text
            return Outcome(content, plain_reason, stop_sequence=cut.sequence)
        if self.json is not None:
            result = self.json.read(cut.text)
            if result.document is not None:
                reason = "stop" if cut.reason is None else cut.reason
                return Outcome(result.document, reason, stop_sequence=cut.sequence)
            if not retried:
                return Retry(self.json.retry_prompt(result.problems))
            raise UpstreamFailed(
                "Gemini's answer was not valid JSON for response_format, also when asked again: "
                + "; ".join(result.problems),
                code="invalid_structured_output",
            )
        return Outcome(cut.text, plain_reason, stop_sequence=cut.sequence)


PLAIN = Emulation()


def emulation_for(request: ChatCompletionRequest) -> Emulation:
    """The request's emulation; raises ``InvalidRequest`` (from the modes) for what cannot be honoured."""
    tools = tool_mode(request)
    structured = json_mode(request.response_format)  # checked either way: a bad schema is a 400
    if tools is not None and tools.forced:
        # A forced call is the whole answer: its arguments follow the tool's schema, and the format,
        # which shapes text answers, has no text to shape (OpenAI serves the pair the same way).
        structured = None
    limits = limits_of(request.stop, request.max_tokens, request.max_completion_tokens)
    return Emulation(tools=tools, json=structured, limits=limits)


def _has_tool_turns(messages: Sequence[ChatMessage]) -> bool:
    return any(
        m.role in ("tool", "function") or m.tool_calls or m.function_call is not None for m in messages
    )


def assistant_message(outcome: Outcome, content: str | None) -> ChatMessage:
    """The assistant message as the client received it (and will send it back)."""
    if outcome.legacy and outcome.tool_calls:
        return ChatMessage(role="assistant", content=content, function_call=outcome.tool_calls[0].function)
    return ChatMessage(role="assistant", content=content, tool_calls=list(outcome.tool_calls) or None)


def response_message(outcome: Outcome, content: str | None, reasoning: str | None) -> ResponseMessage:
    """The answer's message: the calls as ``tool_calls``, or ``function_call`` (legacy)."""
    if outcome.legacy and outcome.tool_calls:
        function = outcome.tool_calls[0].function
        return ResponseMessage(content=content, reasoning_content=reasoning, function_call=function)
    calls = list(outcome.tool_calls) or None
    return ResponseMessage(content=content, reasoning_content=reasoning, tool_calls=calls)


def call_deltas(outcome: Outcome) -> list[Delta]:
    """OpenAI's streamed calls: per call, one delta with index, id, type and name, then its arguments."""
    deltas: list[Delta] = []
    if outcome.legacy:
        for call in outcome.tool_calls[:1]:
            deltas.append(Delta(function_call=FunctionCallDelta(name=call.function.name, arguments="")))
            deltas.append(Delta(function_call=FunctionCallDelta(arguments=call.function.arguments)))
        return deltas
    for index, call in enumerate(outcome.tool_calls):
        head = FunctionCallDelta(name=call.function.name, arguments="")
        deltas.append(
            Delta(tool_calls=[ToolCallDelta(index=index, id=call.id, type="function", function=head)])
        )
        body = FunctionCallDelta(arguments=call.function.arguments)
        deltas.append(Delta(tool_calls=[ToolCallDelta(index=index, function=body)]))
    return deltas


def delivered(outcome: Outcome, content: str | None) -> str:
    """What the completion's usage counts: the content sent and the calls' names and arguments."""
    calls = "".join(call.function.name + call.function.arguments for call in outcome.tool_calls)
    return (content or "") + calls
