"""Tool calling emulated through the prompt: Gemini's web app has no function-calling channel.

The prompt lists the tools, one entry each (``- <name>: "<description as a JSON string>"``, then a
``  parameters: <JSON Schema>`` line), and asks for each call as a fenced block, the one format
below, which Gemini's markdown leaves verbatim::

    ```tool_call
    {"name": "get_weather", "arguments": {"city": "Paris"}}
    ```

The parser is tolerant of what a chat model does to that: markdown escaping (``tool\\_call``,
``\\_`` inside names), ``<tool_call>…</tool_call>`` tags instead of a fence, a ``json`` fence
holding a ``{"name", "arguments"}`` object, ``parameters`` for ``arguments``, arguments given as a
JSON string, and an answer cut off inside the last block. Arguments are validated against the
tool's schema (``jsonschema``); a block that does not parse, names an unknown tool or fails its
schema is a problem, reported back to Gemini once in the same chat (``retry_prompt``).

History: assistant messages with ``tool_calls`` are folded back as the same blocks, and ``tool``
(legacy ``function``) messages as ``[Tool result]`` user messages naming the call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from service.chat.compat_wire import FunctionCall, FunctionSpec, ToolCall
from service.chat.protocol import ChatCompletionRequest, ChatMessage
from service.errors import InvalidRequest

__all__ = [
    "CALL_FENCE",
    "ParsedCalls",
    "ToolMode",
    "call_block",
    "call_signature",
    "parse_calls",
    "plain_messages",
    "tool_mode",
]

CALL_FENCE = "tool_call"
# Where a call starts, in the forms a model writes it (escaped or not); the streamed content is cut
# before the first of them.
_OPENERS = re.compile(
    r"```[ \t]*tool\\?_call|<tool\\?_call>|\\<tool\\?_call\\?>|&lt;tool\\?_call&gt;"
    r"|```[ \t]*json\s*\{\s*\"name\"",
    re.IGNORECASE,
)
_MARKER_PREFIXES = ("```tool_call", "```tool\\_call", "<tool_call>", "\\<tool\\_call\\>", "&lt;tool_call&gt;")
_BLOCK = re.compile(
    r"(?:```[ \t]*(?:tool\\?_call|json)[^\n]*\n(?P<fenced>.*?)(?:```|\Z))"
    r"|(?:(?:<|\\<|&lt;)tool\\?_call\\?(?:>|&gt;)(?P<tagged>.*?)"
    r"(?:(?:<|\\<|&lt;)\\?/tool\\?_call\\?(?:>|&gt;)|\Z))",
    re.IGNORECASE | re.DOTALL,
)
_MD_ESCAPE = re.compile(r"\\([_*\[\]#<>~`|])")
_MAX_CLOSERS = 6


@dataclass(frozen=True)
class ToolMode:
    """The tools of one request. ``choice``: ``auto``, ``required`` or a function name."""

    tools: tuple[FunctionSpec, ...]
    choice: str
    parallel: bool
    legacy: bool  # ``functions`` / ``function_call``: answer with ``message.function_call``

    @property
    def forced(self) -> bool:
        return self.choice != "auto"

    def instructions(self) -> str:
        lines = [
            "You can call the following tools (functions). Each is given with its description (a JSON "
            "string) and its JSON Schema parameters."
        ]
        for tool in self.tools:
            # A JSON string is one line whatever the text: a description's own lines can never read
            # as another entry of this list (or as its parameters line).
            described = f": {json.dumps(tool.description, ensure_ascii=False)}" if tool.description else ""
            schema = json.dumps(tool.parameters or {"type": "object", "properties": {}}, ensure_ascii=False)
            lines.append(f"- {tool.name}{described}\n  parameters: {schema}")
        lines.append(
            "To call a tool, write a fenced code block with the language tool_call holding one JSON object "
            'with the keys "name" and "arguments" (the arguments as a JSON object matching the schema), '
            "exactly like this:\n"
            f'```{CALL_FENCE}\n{{"name": "<tool name>", "arguments": {{"<parameter>": "<value>"}}}}\n```'
        )
        if self.parallel:
            lines.append("You may call several tools at once: one block per call.")
        else:
            lines.append("Call at most one tool per answer.")
        if self.choice == "auto":
            lines.append(
                "Call a tool only when it helps; otherwise answer normally, without any tool_call block."
            )
        elif self.choice == "required":
            lines.append("You must call at least one tool now; answer with the tool_call block(s) only.")
        else:
            lines.append(f"You must call the tool {self.choice} now; answer with its tool_call block only.")
        lines.append(
            "After writing your calls, stop: the results will come back in a later message headed "
            "[Tool result]. Never invent results yourself."
        )
        return "\n\n".join(lines)

    def visible(self, text: str) -> str:
        """The part of a growing answer that may be streamed as content: nothing when a call is
        forced; else the text before the first call (holding back what may be a marker's start)."""
        if self.forced:
            return ""
        match = _OPENERS.search(text)
        if match is not None:
            return text[: match.start()].rstrip()
        for keep in range(min(len(text), max(len(m) for m in _MARKER_PREFIXES)), 0, -1):
            tail = text[-keep:]
            if any(marker.startswith(tail) for marker in _MARKER_PREFIXES) or "```json".startswith(tail):
                return text[:-keep]
        # A ```json fence may still turn out to hold a call: hold it until its first key shows.
        fence = text.rfind("```json")
        if fence >= 0 and '{"name"'.startswith(re.sub(r"\s", "", text[fence + 7 :])):
            return text[:fence]
        return text

    def parse(self, text: str) -> ParsedCalls:
        parsed = parse_calls(text, {tool.name: tool for tool in self.tools})
        if self.choice not in ("auto", "required"):
            wrong = [call for call in parsed.calls if call.function.name != self.choice]
            if wrong:
                parsed.problems.append(f"only the tool {self.choice} may be called now")
                parsed.calls = [call for call in parsed.calls if call.function.name == self.choice]
        if not self.parallel and len(parsed.calls) > 1:
            parsed.calls = parsed.calls[:1]
        if self.forced and not parsed.calls and not parsed.problems:
            parsed.problems.append("the answer holds no tool_call block, but a tool call is required")
        return parsed

    def retry_prompt(self, problems: Sequence[str]) -> str:
        listed = "\n".join(f"- {problem}" for problem in problems)
        return (
            f"Your previous answer did not hold a valid tool call:\n{listed}\n\n"
            "Answer again. Write each tool call as a fenced code block with the language tool_call, "
            'holding one JSON object {"name": ..., "arguments": {...}} whose arguments match the tool\'s '
            "schema." + (" A tool call is required." if self.forced else "")
        )


@dataclass
class ParsedCalls:
    content: str  # the text around the calls
    calls: list[ToolCall] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    blocks: int = 0  # how many call blocks the answer held, valid or not


def tool_mode(request: ChatCompletionRequest) -> ToolMode | None:
    """The request's tools, or None when it has none (or ``tool_choice`` is ``none``)."""
    legacy = not request.tools and bool(request.functions)
    specs = tuple(tool.function for tool in request.tools or ()) or tuple(request.functions or ())
    choice_value: Any = request.function_call if legacy else request.tool_choice
    if not specs:
        if choice_value not in (None, "none", "auto"):
            raise InvalidRequest("tool_choice names a tool but no tools were given.", param="tool_choice")
        return None
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise InvalidRequest("Tool names must be unique.", param="tools")
    for spec in specs:
        _validator(spec)  # a broken schema is the caller's error, said before anything is typed
    choice = _choice(choice_value, names, param="function_call" if legacy else "tool_choice")
    if choice == "none":
        return None
    parallel = request.parallel_tool_calls is not False and not legacy
    return ToolMode(tools=specs, choice=choice, parallel=parallel, legacy=legacy)


def _choice(value: Any, names: Sequence[str], *, param: str) -> str:
    if value is None:
        return "auto"
    if isinstance(value, str):
        if value in ("none", "auto", "required"):
            return value
        raise InvalidRequest(f"Unknown {param} {value!r}.", param=param)
    name = value.function.name if hasattr(value, "function") else getattr(value, "name", None)
    if isinstance(value, dict):
        name = (value.get("function") or {}).get("name") or value.get("name")
    if name not in names:
        raise InvalidRequest(f"{param} names {name!r}, which is not among the tools.", param=param)
    return str(name)


def _validator(spec: FunctionSpec) -> Draft202012Validator:
    schema = spec.parameters or {"type": "object"}
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise InvalidRequest(
            f"The parameters of tool {spec.name} are not a valid JSON Schema: {exc.message}", param="tools"
        ) from None
    return Draft202012Validator(schema)


def parse_calls(text: str, tools: dict[str, FunctionSpec]) -> ParsedCalls:
    """Every call block in ``text``, validated; the text around them is the content."""
    result = ParsedCalls(content="")
    kept: list[str] = []
    position = 0
    for match in _BLOCK.finditer(text):
        body = match.group("fenced") if match.group("fenced") is not None else match.group("tagged") or ""
        fenced_json = match.group("fenced") is not None and "json" in match.group(0)[:12].lower()
        if fenced_json and '"name"' not in body:
            continue  # an ordinary JSON code block, part of the content
        kept.append(text[position : match.start()])
        position = match.end()
        result.blocks += 1
        call, problem = _one_call(body, tools)
        if call is not None:
            result.calls.append(call)
        if problem is not None:
            result.problems.append(problem)
    kept.append(text[position:])
    result.content = "\n\n".join(piece.strip() for piece in kept if piece.strip())
    return result


def _one_call(body: str, tools: dict[str, FunctionSpec]) -> tuple[ToolCall | None, str | None]:
    value = loads_tolerant(body)
    if not isinstance(value, dict):
        return None, "a tool_call block does not hold a JSON object"
    name = value.get("name")
    if isinstance(name, str):
        name = _MD_ESCAPE.sub(r"\1", name).strip()
    if not isinstance(name, str) or name not in tools:
        return None, f"the tool {name!r} does not exist (known: {', '.join(tools)})"
    arguments = value.get("arguments", value.get("parameters", {}))
    if isinstance(arguments, str):
        arguments = loads_tolerant(arguments) if arguments.strip() else {}
    if not isinstance(arguments, dict):
        return None, f"the arguments of {name} are not a JSON object"
    errors = sorted(_validator(tools[name]).iter_errors(arguments), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(part) for part in errors[0].path) or "arguments"
        return None, f"the arguments of {name} do not match its schema ({where}: {errors[0].message})"
    encoded = json.dumps(arguments, ensure_ascii=False)
    return ToolCall(function=FunctionCall(name=name, arguments=encoded)), None


def loads_tolerant(text: str) -> Any:
    """The first JSON value in ``text``: markdown escapes undone, a cut-off end closed; None if none."""
    for candidate in (text, _MD_ESCAPE.sub(r"\1", text)):
        start = min((i for i in (candidate.find("{"), candidate.find("[")) if i >= 0), default=-1)
        if start < 0:
            continue
        body = candidate[start:].strip()
        decoder = json.JSONDecoder()
        for closers in range(_MAX_CLOSERS + 1):
            attempt = body + _closing(body)[:closers] if closers else body
            try:
                value, _ = decoder.raw_decode(attempt)
            except json.JSONDecodeError:
                continue
            return value
    return None


def _closing(body: str) -> str:
    """The brackets (and quote) that would close a JSON text cut off in the middle."""
    stack: list[str] = []
    in_string = escaped = False
    for char in body:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            stack.append("}" if char == "{" else "]")
        elif char in "}]" and stack:
            stack.pop()
    return ('"' if in_string else "") + "".join(reversed(stack))


def call_block(name: str, arguments: str) -> str:
    try:
        parsed: Any = json.loads(arguments) if arguments.strip() else {}
    except json.JSONDecodeError:
        parsed = arguments
    body = json.dumps({"name": name, "arguments": parsed}, ensure_ascii=False)
    return f"```{CALL_FENCE}\n{body}\n```"


def _calls_of(message: ChatMessage) -> list[ToolCall]:
    calls = list(message.tool_calls or ())
    if message.function_call is not None:
        calls.append(ToolCall(id="legacy", function=message.function_call))
    return calls


def call_signature(message: ChatMessage) -> list[list[str]]:
    """The calls of an assistant message as the conversation key sees them: name and canonical
    arguments (ids are the gateway's own; clients resend the arguments re-serialised)."""
    signature = []
    for call in _calls_of(message):
        try:
            arguments = json.dumps(json.loads(call.function.arguments or "{}"), sort_keys=True)
        except json.JSONDecodeError:
            arguments = call.function.arguments
        signature.append([call.function.name, arguments])
    return signature


def plain_messages(
    messages: Sequence[ChatMessage], instructions: str | None, context: Sequence[ChatMessage] = ()
) -> list[ChatMessage]:
    """The history as the fold understands it: calls as blocks, results as user messages, and the
    emulation's instructions as a leading system message. ``context`` (the whole history, when
    ``messages`` is only the new turn) names the calls that results answer."""
    names = {call.id: call.function.name for m in (*context, *messages) for call in m.tool_calls or ()}
    plain: list[ChatMessage] = []
    if instructions:
        plain.append(ChatMessage(role="system", content=instructions))
    results: list[str] = []
    for message in messages:
        if message.role in ("tool", "function"):
            name = message.name or names.get(message.tool_call_id or "", "a tool")
            call_id = f" (call {message.tool_call_id})" if message.tool_call_id else ""
            results.append(f"[Tool result] {name}{call_id}:\n{message.text()}")
            continue
        if results:
            plain.append(ChatMessage(role="user", content="\n\n".join(results)))
            results = []
        calls = _calls_of(message)
        if message.role == "assistant" and calls:
            blocks = [call_block(call.function.name, call.function.arguments) for call in calls]
            text = "\n\n".join([message.text(), *blocks]).strip()
            plain.append(ChatMessage(role="assistant", content=text))
        else:
            plain.append(message)
    if results:
        plain.append(ChatMessage(role="user", content="\n\n".join(results)))
    return plain
